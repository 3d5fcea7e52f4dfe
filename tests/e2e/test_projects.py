"""Two projects sharing one venv see neither each other's configs nor each other's outputs;
a sweep's best-params experiment lands in its own project's conf/, not in the package."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from helpers import PACKAGED_CONF, ROOT, cli_env
from tabpipe.pipeline.scaffold import write_project


def tabpipe(project: Path, *args: str) -> subprocess.CompletedProcess:
    """``tabpipe ARGS`` run from ``project`` (found from the working directory)."""
    env = cli_env() | {"OMP_NUM_THREADS": "1", "WANDB_MODE": "offline", "HYDRA_FULL_ERROR": "0"}
    env.pop("TABPIPE_REGISTRY")  # the project's registry, as a user gets it
    command = [sys.executable, "-m", "tabpipe.cli.main", *args]
    return subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=600)


def test_two_projects_keep_their_configs_and_outputs_apart(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    for project in (one, two):
        project.mkdir()
        write_project(project, None)
    (one / "conf" / "model").mkdir()
    (one / "conf" / "model" / "only_one.yaml").write_text(
        "defaults:\n  - /schema/model/xgb@_here_\n  - _self_\nn_estimators: 10\n"
    )
    packaged = sorted(PACKAGED_CONF.rglob("*.yaml"))
    started = time.time()

    sweep = [
        "train",
        "-m",
        "hparams_search=xgb_optuna",
        "hydra.sweeper.n_trials=2",
        "model=only_one",
        "logger=none",
    ]
    done = tabpipe(one, *sweep)
    assert done.returncode == 0, done.stderr[-3000:]
    best = one / "conf" / "experiment" / "xgb_optuna_best.yaml"
    assert "override /model: only_one" in best.read_text()
    assert (one / "logs" / "train" / "sweeps" / "xgb_optuna").is_dir()

    # the other project knows neither the model option nor the best experiment
    for override, plural in (("model=only_one", "models"), ("experiment=xgb_optuna_best", "experiments")):
        refused = tabpipe(two, "train", override)
        assert refused.returncode == 2
        assert refused.stderr.startswith(f"error: {override}: unknown option; available {plural}:"), (
            refused.stderr
        )

    rerun = tabpipe(one, "train", "experiment=xgb_optuna_best", "logger=none")
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert (one / "registry" / "telco_churn" / "1" / "model.onnx").is_file()
    assert list((one / "logs" / "train" / "runs").iterdir())

    # nothing in the other project, the package or the repository's own conf/
    assert not (two / "logs").exists() and not (two / "registry").exists()
    assert sorted(p.name for p in (two / "conf" / "experiment").iterdir()) == ["example.yaml"]
    assert sorted(PACKAGED_CONF.rglob("*.yaml")) == packaged
    repository_best = ROOT / "conf" / "experiment" / "xgb_optuna_best.yaml"  # a developer's own sweep's
    assert not repository_best.exists() or repository_best.stat().st_mtime < started


def test_reproduce_runs_in_the_project_of_the_run(tmp_path: Path) -> None:
    """A run made with --project from elsewhere is reproduced with that project's configs:
    its own model option, which no other project has."""
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    project.mkdir()
    elsewhere.mkdir()
    write_project(project, None)
    (project / "conf" / "model").mkdir()
    (project / "conf" / "model" / "mine.yaml").write_text(
        "defaults:\n  - /schema/model/xgb@_here_\n  - _self_\nn_estimators: 10\n"
    )
    done = tabpipe(elsewhere, "--project", str(project), "train", "model=mine", "logger=none")
    assert done.returncode == 0, done.stderr[-3000:]
    (run_dir,) = (project / "logs" / "train" / "runs").iterdir()
    assert sorted(p.name for p in elsewhere.iterdir()) == []  # the run wrote under its project

    again = project / "again"
    reproduced = tabpipe(elsewhere, "reproduce", str(run_dir), "--output-dir", str(again))
    assert reproduced.returncode == 0, reproduced.stderr[-3000:]
    assert "metrics: identical" in reproduced.stdout


def test_init_force_scaffolds_beside_the_users_files_and_again(tmp_path: Path, capsys) -> None:
    from tabpipe.cli.init import main as init_main

    (tmp_path / "notes.txt").write_text("mine")
    init_main([str(tmp_path), "--example", "none", "--force"])
    assert "files; git init, dvc init)" in capsys.readouterr().out
    init_main([str(tmp_path), "--force"])  # again: the files rewritten, the repositories kept
    assert "repositories kept" in capsys.readouterr().out
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert "override data: churn" in (tmp_path / "conf" / "train.yaml").read_text()
    assert (tmp_path / ".dvc" / "plugins" / "hydra_plugins" / "tabpipe_dvc" / "__init__.py").is_file()
    assert "plugins_path = .dvc/plugins" in (tmp_path / ".dvc" / "config").read_text()
    assert (tmp_path / ".git").is_dir()
