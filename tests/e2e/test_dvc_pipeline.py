"""The DVC pipeline in a temporary git repository: real `dvc repro`, `dvc exp run`, metrics,
plots, push and pull. The stages run this checkout's code (PYTHONPATH=<repo>/src)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import PACKAGED_CONF, QUICK, ROOT, cli_env, compose_config

pytestmark = pytest.mark.slow

# a faster model than the defaults; the pipeline is what is under test
FAST = ["model.n_estimators=60", "eval.importance.permutation=false"]
STAGES = ("ingest", "split", "train", "evaluate", "export")
METRICS = ("pipeline", "evaluate", "metrics.json")


def dvc_env(repo: Path) -> dict[str, str]:
    """The environment of DVC and its stages: the project's sources, its registry."""
    env = cli_env()
    env["PYTHONPATH"] = os.pathsep.join([str(repo / "src"), str(ROOT / "tests")])
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env["PATH"]])
    env["TABPIPE_REGISTRY"] = str(repo / "registry")
    env["DVC_NO_ANALYTICS"] = "1"
    return env


def run(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(
        list(args), cwd=repo, env=dvc_env(repo), capture_output=True, text=True, timeout=900
    )
    if check:
        assert done.returncode == 0, f"{args}: {done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def stages_run(done: subprocess.CompletedProcess) -> list[str]:
    return [s for s in STAGES if f"Running stage '{s}'" in done.stdout]


def file_hashes(*roots: Path) -> dict[str, str]:
    """Every DVC-cached file (not metrics.json, `cache: false`, nor pipeline/config/: git
    keeps them, not the remote)."""
    return {
        str(path): hashlib.md5(path.read_bytes()).hexdigest()
        for root in roots
        for path in sorted(root.rglob("*"))
        if path.is_file()
        and path.name != ".gitignore"
        and path.parts[-3:] != METRICS
        and path.parent.parts[-2:] != ("pipeline", "config")
    }


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_repo(tmp_path_factory.mktemp("dvc") / "project")


def write_params(repo: Path, *overrides: str) -> None:
    """params.yaml and pipeline/config/ as `tabpipe params` writes them, with FAST (and
    ``overrides``) recorded as a `dvc exp run -S` would."""
    from tabpipe.pipeline import dvc_params

    dvc_params.write(repo, dvc_params.generated(dvc_params.compose(repo / "conf", [*FAST, *overrides])))


def make_repo(repo: Path) -> Path:
    """A git + DVC project of this checkout's conf/, src/ and dvc.yaml, committed."""
    repo.mkdir()
    for name in ("conf", "src"):
        shutil.copytree(ROOT / name, repo / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("dvc.yaml", ".dvcignore", ".gitignore"):
        shutil.copy(ROOT / name, repo / name)
    run(repo, "git", "init", "-q")
    run(repo, "git", "config", "user.email", "ci@example.com")
    run(repo, "git", "config", "user.name", "ci")
    run(repo, "dvc", "init", "-q")
    shutil.copy(ROOT / ".dvc" / "config", repo / ".dvc" / "config")
    write_params(repo)
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-qm", "project")
    return repo


def test_repro_runs_every_stage_then_nothing(repo: Path, tmp_path: Path) -> None:
    first = run(repo, "dvc", "repro")
    assert stages_run(first) == list(STAGES)
    assert (repo / "data" / "raw" / "telco_churn.csv").read_bytes() == (
        ROOT / "src/tabpipe/datasets/telco_churn.csv"
    ).read_bytes()
    assert (repo / "pipeline" / "export" / "bundle" / "model.onnx").is_file()
    assert list((repo / "registry" / "telco_churn").iterdir())

    # the stages are the in-process run, split over processes: same metrics, exactly
    from tabpipe.training.train import run_training

    in_process = run_training(compose_config([*QUICK, *FAST, "logger=none"], tmp_path / "run")).metrics
    piped = json.loads((repo / "pipeline" / "evaluate" / "run" / "metrics.json").read_text())
    assert {k: v for k, v in piped.items() if k.startswith("test/")} == {
        k: v for k, v in in_process.items() if k.startswith("test/")
    }
    # DVC's metrics file (dvc metrics, dvc exp show): the primary and secondary test metrics
    headline = json.loads((repo / "pipeline" / "evaluate" / "metrics.json").read_text())
    assert headline == {k: piped[k] for k in ("test/auc", "test/pr_auc", "test/f1", "test/log_loss")}

    second = run(repo, "dvc", "repro")
    assert stages_run(second) == [] and "up to date" in second.stdout

    metrics = json.loads(run(repo, "dvc", "metrics", "show", "--json").stdout)
    assert "test/auc" in json.dumps(metrics)
    plots = json.loads(run(repo, "dvc", "plots", "show", "--json").stdout)
    assert {"ROC", "Precision-recall", "Confusion matrix"} <= set(plots["data"])
    assert (repo / "pipeline/evaluate/run/plots/roc.png").stat().st_size > 1000


def test_metrics_diff_after_committing_the_metrics(repo: Path) -> None:
    """The documented workflow: commit dvc.lock and the metrics file (`cache: false`: git
    keeps it), change conf/, `tabpipe params`, `dvc repro`, `dvc metrics diff`. The changed
    model parameter reruns only the stages downstream of it (train, evaluate, export)."""
    run(repo, "dvc", "repro")
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-qm", "baseline run")
    assert "pipeline/evaluate/metrics.json" in run(repo, "git", "ls-files", "pipeline").stdout
    # the project's own conf/model/xgb.yaml replaces the packaged one
    model = repo / "conf" / "model" / "xgb.yaml"
    model.parent.mkdir(exist_ok=True)
    try:
        model.write_text((PACKAGED_CONF / "model" / "xgb.yaml").read_text() + "\nmax_depth: 2\n")
        write_params(repo)  # = `tabpipe params`, FAST
        changed = run(repo, "dvc", "repro")
        assert stages_run(changed) == ["train", "evaluate", "export"]
        done = run(repo, "dvc", "metrics", "diff", "--json")
        assert "failed to load" not in done.stderr
        auc = json.loads(done.stdout)["pipeline/evaluate/metrics.json"]["test/auc"]
        assert auc["old"] != auc["new"] and auc["diff"] == pytest.approx(auc["new"] - auc["old"])
    finally:
        model.unlink()
        run(repo, "git", "checkout", "params.yaml", "pipeline/config")
        run(repo, "dvc", "checkout")


def _generated(repo: Path) -> dict[str, str]:
    files = [repo / "params.yaml", *sorted((repo / "pipeline/config").iterdir())]
    return {str(path): path.read_text() for path in files}


def test_exp_run_with_a_key_the_model_lacks_is_one_line(repo: Path) -> None:
    before = _generated(repo)
    for override, line in (
        (
            "model.num_leaves=7",
            "ERROR: model.num_leaves: unknown key of XGBModelConfig; keys: n_estimators, learning_rate, "
            "max_depth, min_child_weight, subsample, colsample_bytree, reg_lambda, reg_alpha, gamma, "
            "max_bin, early_stopping_rounds, n_jobs, rank_objective",
        ),
        ("model=nope", "ERROR: model=nope: unknown option; available models: baseline, lgbm,"),
        # a range: refused as DVC composes, before ingest and split run (train died in XGBoost)
        ("model.learning_rate=-1", "ERROR: model.learning_rate=-1.0: out of range; must be > 0"),
    ):
        failed = run(repo, "dvc", "exp", "run", "-S", override, check=False)
        assert failed.returncode != 0
        lines = [x for x in failed.stderr.splitlines() if x.strip()]
        assert len(lines) == 1 and lines[0].startswith(line), failed.stderr
        assert "unexpected error" not in failed.stderr + failed.stdout
    assert _generated(repo) == before  # nothing composed, nothing written


def test_exp_run_composes_from_conf_and_exp_show_lists_what_a_user_compares(repo: Path) -> None:
    """`dvc exp show` was ~150 columns wide: DVC lists every key of params.yaml and every key
    a stage tracks. params.yaml now holds the model group and the model's keys only; the stages
    depend on their slice of the composition as a file, so a key that is not shown (a split
    key) still reruns what reads it."""
    run(repo, "dvc", "repro")
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-qm", "baseline run", check=False)  # nothing new after the diff test
    overrides = [
        "model=xgb",
        "model.max_depth=3",
        "model.n_estimators=40",
        "eval.importance.permutation=false",
        "split.test_fraction=0.2",  # not a column of `dvc exp show`, yet split reruns
    ]
    done = run(repo, "dvc", "exp", "run", *[arg for o in overrides for arg in ("-S", o)])
    assert stages_run(done) == ["split", "train", "evaluate", "export"]
    columns = run(repo, "dvc", "exp", "show", "--no-pager", "--csv").stdout.splitlines()[0].split(",")
    deps = {c for c in columns if c.startswith(("src/", "data/", "pipeline/"))}  # their hashes
    shown = set(columns) - deps - {"Experiment", "rev", "typ", "Created", "parent"}
    model_keys = {
        "n_estimators", "learning_rate", "max_depth", "min_child_weight", "subsample",
        "colsample_bytree", "reg_lambda", "reg_alpha", "gamma", "max_bin",
        "early_stopping_rounds", "n_jobs", "rank_objective",
    }  # fmt: skip
    # params: the model group and the model's own keys; metrics: the primary and secondary test ones
    assert shown == {"model_group", *(f"model.{k}" for k in model_keys)} | {
        "test/auc", "test/pr_auc", "test/f1", "test/log_loss"
    }, columns  # fmt: skip
    assert len(columns) == 5 + 18 + 17 and len(deps) == 17, columns  # 40 columns, not ~150
    values = json.loads(run(repo, "dvc", "exp", "show", "--json").stdout)
    assert '"max_depth": 3' in json.dumps(values) and '"model_group": "xgb"' in json.dumps(values)
    # `--only-changed`: the model keys the experiment changed and the test metrics
    changed = run(repo, "dvc", "exp", "show", "--only-changed", "--csv").stdout.splitlines()[0].split(",")
    assert {c for c in changed if "/" not in c} - {"Experiment", "rev", "typ", "Created"} == {
        "model.max_depth",
        "model.n_estimators",
    }, changed
    # the files record the overrides they were composed with: an experiment is not drift ...
    checked = run(repo, "tabpipe", "params", "--check")
    assert f"up to date (written by `dvc exp run` with {' '.join(overrides)} from conf/)" in checked.stdout
    # ... a hand edit is
    config = repo / "pipeline/config/config.yaml"
    written = config.read_text()
    try:
        config.write_text(written.replace("max_depth: 3", "max_depth: 4"))
        edited = run(repo, "tabpipe", "params", "--check", check=False)
        assert edited.returncode == 1 and "at pipeline/config/config.yaml:model.max_depth;" in edited.stderr
    finally:
        config.write_text(written)


def test_changed_raw_data_reruns_everything_and_a_killed_repro_is_finished_by_the_next_one(
    repo: Path,
) -> None:
    """Changed raw data reruns every stage; that ``dvc repro`` is SIGKILLed once evaluate
    starts (ingest, split and train finished): nothing is registered, and the next repro
    runs only evaluate and export, registers one version and leaves the registry clean."""
    from tabpipe.export.registry import Registry
    from tabpipe.export.registry_fsck import fsck

    run(repo, "dvc", "repro")
    registry = Registry(repo / "registry")
    before = registry.versions("telco_churn")
    raw = repo / "src/tabpipe/datasets/telco_churn.csv"
    lines = raw.read_text().splitlines(keepends=True)
    raw.write_text("".join(lines[:-100]))  # 100 customers fewer
    killed = _repro_killed_when(repo, "evaluate")
    assert stages_run(killed) == ["ingest", "split", "train", "evaluate"]  # from the data on
    assert registry.versions("telco_churn") == before  # killed before export registered
    again = run(repo, "dvc", "repro")
    assert stages_run(again) == ["evaluate", "export"]  # what finished is not run again
    report = json.loads((repo / "data/validated/validation_report.json").read_text())
    assert report["n_rows"] == len(lines) - 101
    assert registry.versions("telco_churn") == [*before, before[-1] + 1]
    assert fsck(registry)[0] == []
    assert run(repo, "dvc", "status").stdout.strip() == "Data and pipelines are up to date."


def test_push_then_pull_restores_identical_files(repo: Path) -> None:
    run(repo, "dvc", "repro")
    before = file_hashes(repo / "data", repo / "pipeline")
    run(repo, "dvc", "push")
    assert any((repo / "dvc-remote").rglob("*"))
    kept_by_git = _generated(repo)
    for path in (repo / ".dvc" / "cache", repo / "data", repo / "pipeline"):
        shutil.rmtree(path)
    for path, text in kept_by_git.items():  # a clone has git's files
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(text)
    run(repo, "dvc", "pull")
    assert file_hashes(repo / "data", repo / "pipeline") == before


def test_bad_input_is_one_clear_line(repo: Path) -> None:
    from omegaconf import OmegaConf

    from tabpipe.pipeline import dvc_params

    config = repo / dvc_params.CONFIG
    good = _generated(repo)

    def edited(**keys: object) -> None:
        """config.yaml edited by hand, and the stages' files sliced from it (as if generated)."""
        cfg = OmegaConf.load(config)
        for key, value in keys.items():
            OmegaConf.update(cfg, key.replace("__", "."), value, force_add=True)
        data = OmegaConf.to_container(cfg)
        dvc_params.write(repo, {dvc_params.CONFIG: data} | dvc_params.stage_files(data))

    def restore() -> None:
        for path, text in good.items():
            Path(path).write_text(text)

    try:
        edited(model__max_dept=3)
        failed = run(repo, "tabpipe", "stage", "train", check=False)
        assert failed.returncode == 2
        assert "pipeline/config/config.yaml: model.max_dept" in failed.stderr
        via_dvc = run(repo, "dvc", "repro", check=False)
        assert via_dvc.returncode != 0 and "model.max_dept" in via_dvc.stderr + via_dvc.stdout
        restore()

        edited(data__source="csv", data__path="gone.csv")
        missing = run(repo, "tabpipe", "stage", "ingest", check=False)
        assert missing.returncode == 2
        assert "data.path='gone.csv': file not found" in missing.stderr
        restore()

        edited(export__onnx=False)
        search_run = run(repo, "tabpipe", "stage", "train", check=False)
        assert search_run.returncode == 2
        assert "export.onnx=false: the DVC pipeline exports a bundle" in search_run.stderr
    finally:
        restore()
    config.unlink()
    absent = run(repo, "tabpipe", "stage", "split", check=False)
    assert absent.returncode == 2
    assert "pipeline/config/config.yaml: not found; run `tabpipe params`" in absent.stderr
    restore()


def _repro_killed_when(repo: Path, stage: str) -> subprocess.CompletedProcess:
    """``dvc repro`` in its own process group, the group SIGKILLed when ``stage`` starts;
    returns what it printed until then."""
    process = subprocess.Popen(
        ["dvc", "repro"],
        cwd=repo,
        env=dvc_env(repo),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    printed = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            printed.append(line)
            if f"Running stage '{stage}'" in line:
                os.killpg(process.pid, signal.SIGKILL)
                break
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, f"dvc repro ended before stage {stage!r}"
    return subprocess.CompletedProcess(process.args, process.returncode, "".join(printed))
