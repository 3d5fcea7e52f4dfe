"""Optuna sweeps through Hydra multirun, as a user runs them: subprocesses of
``python train.py -m hparams_search=...`` with real Optuna and a real journal storage."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import ROOT, TESTS
from sweep_helpers import (
    XGB_NO_PRUNING,
    XGB_SWEEP,
    copy_conf,
    error_lines,
    load_study,
    results,
    run_app,
    run_train,
    states,
    sweep_env,
    train_command,
    wandb_runs,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def xgb_sweep(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One 6-trial xgb sweep, shared by the tests that only read it (or copy it)."""
    root = tmp_path_factory.mktemp("xgb_sweep")
    conf = copy_conf(root)
    sweep_dir = root / "sweep"
    args = [*XGB_SWEEP, "hydra.sweeper.n_trials=6", f"hydra.sweep.dir={sweep_dir}"]
    done = run_train(args, conf)
    assert done.returncode == 0, done.stderr[-3000:]
    return {"dir": sweep_dir, "conf": conf, "args": args, "stdout": done.stdout, "stderr": done.stderr}


def test_each_trial_shows_one_line_with_its_validation_metric_and_no_test_results(xgb_sweep: dict) -> None:
    output = xgb_sweep["stdout"] + xgb_sweep["stderr"]
    assert "test metrics" not in output and "test/" not in output
    study = load_study(xgb_sweep["dir"], "xgb_optuna")
    for trial in study.trials:
        lines = [line for line in output.splitlines() if f"] trial {trial.number} " in line]
        if trial.state.name == "COMPLETE":
            assert (
                len(lines) == 1 and f"trial {trial.number} complete: val/auc={trial.value:.6g} " in lines[0]
            )
        else:
            assert len(lines) == 1 and f"trial {trial.number} pruned" in lines[0], lines


def test_sweep_writes_results_and_a_rerun_runs_nothing(xgb_sweep: dict) -> None:
    sweep_dir = xgb_sweep["dir"]
    summary = results(sweep_dir)
    study = load_study(sweep_dir, "xgb_optuna")
    counts = states(study)
    assert summary["study_name"] == "xgb_optuna" and summary["optimized_metric"] == "val/auc"
    trials = summary["trials"]
    assert trials["complete"] + trials["pruned"] + trials["failed"] == 6
    assert (trials["complete"], trials["pruned"]) == (counts.get("COMPLETE"), counts.get("PRUNED", 0))
    assert summary["best_value"] == pytest.approx(study.best_value)
    assert summary["best_params"] == study.best_params
    assert set(summary["best_params"]) == {
        "model.learning_rate",
        "model.max_depth",
        "model.min_child_weight",
        "model.subsample",
        "model.colsample_bytree",
        "model.reg_lambda",
        "model.reg_alpha",
        "model.gamma",
    }
    # the objective is the run's val/auc
    best_metrics = json.loads((Path(summary["best_run_dir"]) / "metrics.json").read_text())
    assert best_metrics["val/auc"] == summary["best_value"]
    assert sorted(p.name for p in sweep_dir.iterdir() if p.name.isdigit()) == [str(i) for i in range(6)]

    done = run_train(xgb_sweep["args"], xgb_sweep["conf"])
    assert done.returncode == 0, done.stderr[-3000:]
    assert "nothing to run" in done.stdout
    assert len(load_study(sweep_dir, "xgb_optuna").trials) == 6
    assert not (sweep_dir / "6").exists()


def test_a_larger_n_trials_tops_the_study_up(xgb_sweep: dict, tmp_path: Path) -> None:
    sweep_dir = tmp_path / "sweep"
    shutil.copytree(xgb_sweep["dir"], sweep_dir)
    before = {t.number: (t.state, t.value, t.params) for t in load_study(sweep_dir, "xgb_optuna").trials}
    args = [*XGB_SWEEP, "hydra.sweeper.n_trials=8", f"hydra.sweep.dir={sweep_dir}"]
    done = run_train(args, xgb_sweep["conf"])
    assert done.returncode == 0, done.stderr[-3000:]
    study = load_study(sweep_dir, "xgb_optuna")
    assert [t.number for t in study.trials] == list(range(8))
    assert {t.number: (t.state, t.value, t.params) for t in study.trials[:6]} == before
    assert results(sweep_dir)["trials"]["complete"] + results(sweep_dir)["trials"]["pruned"] == 8


def test_xgb_trials_are_pruned_per_boosting_round(xgb_sweep: dict) -> None:
    study = load_study(xgb_sweep["dir"], "xgb_optuna")
    pruned = [t for t in study.trials if t.state.name == "PRUNED"]
    assert pruned, states(study)
    for trial in pruned:
        # stopped early: fewer rounds reported than the 40 it was given
        assert 3 <= max(trial.intermediate_values) < 39
        assert not (Path(trial.user_attrs["tabpipe:run_dir"]) / "metrics.json").exists()
    complete = [t for t in study.trials if t.state.name == "COMPLETE"]
    assert all(len(t.intermediate_values) >= 10 for t in complete)


def test_changed_search_space_is_refused_before_any_trial(xgb_sweep: dict) -> None:
    done = run_train([*xgb_sweep["args"], "model.max_depth=range(3, 12)"], xgb_sweep["conf"])
    assert done.returncode == 2
    [line] = error_lines(done.stderr)
    assert "search space differs" in line and "model.max_depth" in line and "study_name" in line
    assert len(load_study(xgb_sweep["dir"], "xgb_optuna").trials) == 6


def test_best_params_experiment_reruns_to_the_best_value(xgb_sweep: dict, tmp_path: Path) -> None:
    summary = results(xgb_sweep["dir"])
    experiment = Path(summary["best_experiment"]["file"])
    assert experiment == xgb_sweep["conf"] / "experiment" / "xgb_optuna_best.yaml"
    text = experiment.read_text()
    assert text.startswith("# @package _global_") and "override /model: xgb" in text
    # scored as the trial was (the native model), the re-run is the trial, bit for bit: the
    # same rows, features, config and fit
    native = tmp_path / "native"
    args = ["experiment=xgb_optuna_best", "export.onnx=false", "registry.name=null", "eval.plots=false"]
    done = run_train([*args, f"hydra.run.dir={native}"], xgb_sweep["conf"])
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads((native / "metrics.json").read_text())["val/auc"] == summary["best_value"]
    # the full re-run scores with the exported graph: within the tolerance of docs/topics/sweeps.md
    run_dir = tmp_path / "best"
    done = run_train(
        ["experiment=xgb_optuna_best", "eval.plots=false", f"hydra.run.dir={run_dir}"], xgb_sweep["conf"]
    )
    assert done.returncode == 0, done.stderr[-3000:]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["val/auc"] == pytest.approx(summary["best_value"], abs=1e-4, rel=0)
    assert (run_dir / "bundle" / "model.onnx").is_file()


def test_optuna_dashboard_reads_the_study(xgb_sweep: dict) -> None:
    from wsgiref.util import setup_testing_defaults

    import optuna_dashboard

    app = optuna_dashboard.wsgi(str(xgb_sweep["dir"] / "optuna.journal"))

    def get(path: str) -> dict:
        environ: dict = {"PATH_INFO": path, "REQUEST_METHOD": "GET"}
        setup_testing_defaults(environ)
        status: list[str] = []
        body = b"".join(app(environ, lambda s, h, exc_info=None: status.append(s)))
        assert status[0].startswith("200"), status
        return json.loads(body)

    [study] = get("/api/studies")["study_summaries"]
    assert study["study_name"] == "xgb_optuna"
    detail = get(f"/api/studies/{study['study_id']}")
    assert len(detail["trials"]) == 6
    assert detail["trials"][0]["params"]


def test_failing_nan_and_inf_trials_are_recorded_and_the_sweep_goes_on(tmp_path: Path) -> None:
    sweep_dir = tmp_path / "sweep"
    done = run_app(
        [
            "-m",
            "+hparams=outcomes",
            f"hydra.sweep.dir={sweep_dir}",
            f"hydra.sweeper.best_experiment_dir={tmp_path}",
        ]
    )
    assert done.returncode == 0, done.stderr[-3000:]
    study = load_study(sweep_dir, "app")
    outcome = dict(zip(["ok", "nan", "inf", "raise"], study.trials, strict=True))
    assert outcome["ok"].state.name == "COMPLETE"
    assert outcome["ok"].value == pytest.approx((outcome["ok"].params["x"] - 0.3) ** 2)
    reasons = {k: outcome[k].user_attrs["tabpipe:fail_reason"] for k in ("nan", "inf", "raise")}
    assert all(outcome[k].state.name == "FAIL" for k in reasons)
    assert reasons == {
        "nan": "objective is nan",
        "inf": "objective is inf",
        "raise": "RuntimeError: this trial breaks on purpose",
    }
    assert results(sweep_dir)["trials"] | {} == {
        "complete": 1,
        "pruned": 0,
        "failed": 3,
        "interrupted": 0,
        "running": 0,
        "waiting": 0,
    }


def test_max_failure_rate_stops_a_sweep_that_only_fails(tmp_path: Path) -> None:
    sweep_dir = tmp_path / "sweep"
    done = run_app(
        [
            "-m",
            "outcome=raise",
            "hydra.sweeper.n_trials=20",
            "hydra.sweeper.max_failure_rate=0.5",
            f"hydra.sweep.dir={sweep_dir}",
        ]
    )
    assert done.returncode == 1
    [line] = error_lines(done.stderr)
    assert "sweep stopped: 3 of the 3 trials run failed" in line and "max_failure_rate=0.5" in line
    assert "this trial breaks on purpose" in line
    assert len(load_study(sweep_dir, "app").trials) == 3


def test_a_search_file_written_for_the_official_plugin_runs_with_only_the_override_changed(
    tmp_path: Path,
) -> None:
    conf = copy_conf(tmp_path)
    shutil.copy(TESTS / "data" / "official_optuna_search.yaml", conf / "hparams_search" / "official.yaml")
    sweep_dir = tmp_path / "sweep"
    args = ["hparams_search=official", "hydra.sweeper.n_trials=2", "model.n_estimators=20"]
    done = run_train([*args, f"hydra.sweep.dir={sweep_dir}"], conf)
    assert done.returncode == 0, done.stderr[-3000:]
    # study_name null: named after the search file
    study = load_study(sweep_dir, "official")
    assert states(study) == {"COMPLETE": 2}
    assert study.direction.name == "MAXIMIZE"
    for trial in study.trials:
        assert 0.0001 <= trial.params["model.learning_rate"] <= 0.1 and trial.params["model.max_depth"] in (
            3,
            4,
            5,
        )
        metrics = json.loads((Path(trial.user_attrs["tabpipe:run_dir"]) / "metrics.json").read_text())
        assert trial.value == metrics["val/auc"]
    assert (conf / "experiment" / "official_best.yaml").is_file()


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (
            "model.max_dept: range(3, 10)",
            "model.max_dept: unknown key of XGBModelConfig; did you mean model.max_depth?",
        ),
        ("model.max_depth: range(3,", "hydra.sweeper.params.model.max_depth: malformed sweep expression"),
        ("model.max_depth: 5", "empty search space"),
    ],
    ids=["unknown-path", "malformed", "empty"],
)
def test_bad_sweep_input_gets_one_line_before_any_trial(tmp_path: Path, params: str, expected: str) -> None:
    conf = copy_conf(tmp_path)
    (conf / "hparams_search" / "bad.yaml").write_text(
        "# @package _global_\n"
        "defaults:\n  - override /hydra/sweeper: tabpipe_optuna\n"
        f"hydra:\n  mode: MULTIRUN\n  sweeper:\n    params:\n      {params}\n"
    )
    sweep_dir = tmp_path / "sweep"
    done = run_train(["hparams_search=bad", f"hydra.sweep.dir={sweep_dir}"], conf)
    assert done.returncode == 2, done.stderr[-3000:]
    [line] = error_lines(done.stderr)
    assert expected in line, line
    assert "Traceback" not in done.stderr
    assert not sweep_dir.exists()


def test_malformed_sweep_on_the_command_line_gets_one_line(tmp_path: Path) -> None:
    sweep_dir = tmp_path / "sweep"
    done = run_train([*XGB_SWEEP, "model.max_depth=range(3,", f"hydra.sweep.dir={sweep_dir}"])
    assert done.returncode == 2
    [line] = error_lines(done.stderr)
    assert line.startswith("error: model.max_depth=range(3,: malformed override:"), line
    assert not sweep_dir.exists()


def test_kfold_objective_is_the_mean_over_folds(tmp_path: Path) -> None:
    sweep_dir = tmp_path / "sweep"
    args = [
        *XGB_NO_PRUNING,
        "split=kfold",
        "split.n_folds=3",
        "model.n_estimators=20",
        # the seed's cross_val_score(cv=..., scoring="f1_macro"): held-out folds' f1_macro
        "optimized_metric=test/f1_macro",
        "hydra.sweeper.n_trials=2",
        f"hydra.sweep.dir={sweep_dir}",
        f"hydra.sweeper.best_experiment_dir={tmp_path}",
    ]
    done = run_train(args)
    assert done.returncode == 0, done.stderr[-3000:]
    study = load_study(sweep_dir, "xgb_optuna")
    assert states(study) == {"COMPLETE": 2}
    for trial in study.trials:
        metrics = json.loads((Path(trial.user_attrs["tabpipe:run_dir"]) / "metrics.json").read_text())
        folds = [metrics[f"fold_{k}/test/f1_macro"] for k in range(3)]
        assert trial.value == pytest.approx(sum(folds) / 3, rel=1e-12)


def test_joblib_launcher_runs_two_trials_at_once_in_two_processes(tmp_path: Path) -> None:
    sweep_dir = tmp_path / "sweep"
    args = [
        *XGB_NO_PRUNING,
        "hydra/launcher=joblib",
        "hydra.sweeper.n_jobs=2",
        "hydra.sweeper.n_trials=2",
        "model.n_jobs=1",
        f"hydra.sweep.dir={sweep_dir}",
        f"hydra.sweeper.best_experiment_dir={tmp_path}",
    ]
    done = run_train(args)
    assert done.returncode == 0, done.stderr[-3000:]
    study = load_study(sweep_dir, "xgb_optuna")
    assert states(study) == {"COMPLETE": 2}
    first, second = (t.user_attrs for t in study.trials)
    sweeper_pid = first["tabpipe:owner"]["pid"]
    assert len({first["tabpipe:job_pid"], second["tabpipe:job_pid"], sweeper_pid}) == 3
    # both jobs were running at the same time
    assert first["tabpipe:job_started"] < second["tabpipe:job_finished"]
    assert second["tabpipe:job_started"] < first["tabpipe:job_finished"]


def test_a_free_joblib_slot_takes_the_next_trial_without_waiting_for_the_batch(tmp_path: Path) -> None:
    """Trial 0 runs until trials 1..3 have finished (at most 60 s): with 2 slots, trials 1..3
    all run alongside trial 0 (the official plugin's batches would hold trial 2 until trial 0
    ends: trial 0 would time out and finish first)."""
    sweep_dir = tmp_path / "sweep"
    done = run_app(
        [
            "-m",
            "hydra/launcher=joblib",
            "hydra.sweeper.n_jobs=2",
            "hydra.sweeper.n_trials=4",
            "wait_for_trials=[1,2,3]",
            f"hydra.sweep.dir={sweep_dir}",
        ]
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert states(load_study(sweep_dir, "app")) == {"COMPLETE": 4}
    jobs = [json.loads((sweep_dir / str(n) / "job.json").read_text()) for n in range(4)]
    assert len({job["pid"] for job in jobs}) == 2
    assert all(job["finished"] < jobs[0]["finished"] for job in jobs[1:])
    # one launch line per trial, numbered by trial (joblib numbers each one-job launch #0)
    launches = re.findall(r"\t#(\d+) : (.*)", done.stdout)
    assert [int(n) for n, _ in launches] == [0, 1, 2, 3], done.stdout
    assert all(f"optuna.trial_number={n}" in line for n, line in launches)
    assert "Joblib.Parallel" not in done.stdout


def test_ctrl_c_stops_the_joblib_workers_and_hands_their_trials_back(tmp_path: Path) -> None:
    sweep_dir = tmp_path / "sweep"
    args = ["-m", "hydra/launcher=joblib", "hydra.sweeper.n_jobs=2", "hydra.sweeper.n_trials=4"]
    command = [sys.executable, str(TESTS / "sweep_app" / "app.py"), *args, f"hydra.sweep.dir={sweep_dir}"]
    proc = subprocess.Popen(
        [*command, "sleep_s=60"],
        cwd=ROOT,
        env=sweep_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # the signal goes to the sweep process only, not its workers
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.time() + 120
        started = [sweep_dir / str(n) / "started" for n in (0, 1)]
        while not all(p.exists() for p in started) and time.time() < deadline:  # both jobs running
            time.sleep(0.05)
        asked = time.time()
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        assert time.time() - asked < 15, "the sweep waited for its running trials"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    study = load_study(sweep_dir, "app")
    assert [t.state.name for t in study.trials] == ["FAIL", "FAIL", "WAITING", "WAITING"]
    assert all(t.user_attrs["tabpipe:interrupted"] for t in study.trials[:2])
    done = run_app([*args, "sleep_s=0", f"hydra.sweep.dir={sweep_dir}"])
    assert done.returncode == 0, done.stderr[-3000:]
    assert states(load_study(sweep_dir, "app")) == {"COMPLETE": 4, "FAIL": 2}


def test_mlp_trials_are_pruned_per_epoch(tmp_path: Path) -> None:
    sweep_dir = tmp_path / "sweep"
    args = [
        "-m",
        "hparams_search=mlp_optuna",
        "hydra.sweeper.n_trials=5",
        "trainer.max_epochs=4",
        "trainer.limit_train_batches=0.25",
        "hydra.sweeper.pruner.n_startup_trials=2",
        "hydra.sweeper.pruner.n_warmup_steps=0",
        f"hydra.sweep.dir={sweep_dir}",
        f"hydra.sweeper.best_experiment_dir={tmp_path}",
    ]
    done = run_train(args)
    assert done.returncode == 0, done.stderr[-3000:]
    study = load_study(sweep_dir, "mlp_optuna")
    pruned = [t for t in study.trials if t.state.name == "PRUNED"]
    assert pruned, states(study)
    assert all(max(t.intermediate_values) < 3 for t in pruned)


@pytest.mark.skipif(
    not (ROOT / "src/tabpipe/conf/logger/wandb.yaml").exists(),
    reason="needs logger=wandb (conf/logger/wandb.yaml, the W&B tracking issue)",
)
def test_every_trial_is_a_wandb_run_in_the_study_group(tmp_path: Path) -> None:
    sweep_dir = tmp_path / "sweep"
    args = [
        *XGB_NO_PRUNING,
        "logger=wandb",
        "hydra.sweeper.n_trials=3",
        "hydra.sweeper.study_name=wandb_group_test",
        f"hydra.sweep.dir={sweep_dir}",
        f"hydra.sweeper.best_experiment_dir={tmp_path}",
    ]
    env_root = tmp_path / "wandb_home"
    env_root.mkdir()
    done = subprocess.run(
        train_command(args),
        cwd=ROOT,
        env=sweep_env() | {"WANDB_DIR": str(env_root)},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    runs = wandb_runs(sweep_dir) or wandb_runs(env_root)
    assert len(runs) == 3
    assert {run.run_group for run in runs} == {"wandb_group_test"}
    study = load_study(sweep_dir, "wandb_group_test")
    numbers = set()
    for run in runs:
        # named after the trial; the config holds the trial number and the sampled parameters
        number = int(re.search(r"trial-(\d+)", run.display_name).group(1))
        numbers.add(number)
        config = json.dumps({item.key: json.loads(item.value_json) for item in run.config.update})
        assert json.dumps(study.trials[number].params["model.learning_rate"]) in config
        assert f'"trial_number": {number}' in config
    assert numbers == {0, 1, 2}
