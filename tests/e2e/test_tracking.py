"""Experiment tracking: W&B offline files, MLflow's store, multirun isolation, faults."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from helpers import ROOT, TESTS, cli_env, compose_config
from wandb_records import offline_runs, read_offline_run

XGB_SMALL = ["model=xgb", "model.n_estimators=30"]


def _run(args: list[str], env: dict[str, str], prefix: list[str] = ()) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*prefix, sys.executable, str(ROOT / "train.py"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def _network_isolation() -> list[str]:
    """``unshare -rn``: a network namespace with nothing but a (down) loopback, if allowed."""
    try:
        done = subprocess.run(["unshare", "-rn", "true"], capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return []
    return ["unshare", "-rn"] if done.returncode == 0 else []


@pytest.mark.slow
def test_wandb_default_is_offline_without_network_and_records_the_run(tmp_path: Path) -> None:
    run_dir, network_log = tmp_path / "run", tmp_path / "network.log"
    env = cli_env()
    for name in ("WANDB_MODE", "WANDB_API_KEY", "WANDB_SILENT"):  # the out-of-the-box setting
        env.pop(name, None)
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS / "network_guard"), env["PYTHONPATH"]])
    env["TABPIPE_NETWORK_LOG"] = str(network_log)
    done = _run(
        [*XGB_SMALL, "tags=[nightly,churn]", "tracking.group=exp1", f"hydra.run.dir={run_dir}"],
        env,
        prefix=_network_isolation(),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert not network_log.exists(), network_log.read_text()
    assert "wandb:" not in done.stderr and "wandb:" not in done.stdout  # silent, no prompt
    files = offline_runs(run_dir)
    assert len(files) == 1, "one offline W&B run under the run directory"
    run = read_offline_run(files[0])
    metadata = json.loads((run_dir / "metadata.json").read_text())
    metrics = json.loads((run_dir / "metrics.json").read_text())
    # the resolved config (interpolations resolved), plus the dataset hash and git commit
    assert run.config["model"]["n_estimators"] == 30
    assert run.config["logger"]["wandb"]["save_dir"] == str(run_dir)
    assert run.config["dataset"]["sha256"] == metadata["dataset"]["sha256"]
    assert run.config["git"] == metadata["git"]
    assert (run.project, run.group, sorted(run.tags)) == ("tabpipe", "exp1", ["churn", "nightly"])
    # per-round train and val metrics, then the final test and baseline metrics
    assert {"train/logloss", "val/logloss", "val/auc"} <= run.history_keys
    for key in ("test/auc", "baseline/test/auc", "val/auc"):
        assert run.summary[key] == metrics[key]
    [(name, kind, paths)] = run.artifacts
    assert (name, kind) == ("telco_churn", "model") and "model.onnx" in paths
    assert run.exit_code == 0


@pytest.mark.slow
def test_multirun_jobs_are_distinct_wandb_runs_in_one_group(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    done = _run(
        [
            "-m",
            "model=linear",
            "seed=0,1,2",
            "logger=wandb",
            "eval.plots=false",
            "tracking.group=study7",
            f"hydra.sweep.dir={sweep}",
        ],
        cli_env(),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    runs = {job: read_offline_run(f) for job in range(3) for f in offline_runs(sweep / str(job))}
    assert sorted(runs) == [0, 1, 2], "each job has exactly its own run"
    assert len({run.run_id for run in runs.values()}) == 3
    for job, run in runs.items():
        assert run.group == "study7" and run.config["seed"] == job and run.exit_code == 0
        overrides = json.loads((sweep / str(job) / "metadata.json").read_text())["hydra"]["overrides"]
        assert f"seed={job}" in overrides and "tracking.group=study7" in overrides


def test_mlflow_local_store_reads_back_params_metrics_and_artifacts(
    train, tmp_path: Path, monkeypatch
) -> None:
    from mlflow.tracking import MlflowClient

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    default = compose_config(["logger=mlflow"]).logger.mlflow
    from tabpipe.config.project import find_project

    # under the project root
    assert default.tracking_uri == f"sqlite:///{find_project().root}/mlruns/mlflow.db"
    store = tmp_path / "mlruns"
    uri = f"sqlite:///{store}/mlflow.db"
    result = train(
        [
            *XGB_SMALL,
            "logger=[mlflow,csv]",
            f"logger.mlflow.tracking_uri={uri}",
            f"logger.mlflow.artifact_location={store}/artifacts",
            "tags=[nightly]",
            "tracking.group=g1",
            "tracking.run_name=first",
        ]
    )
    client = MlflowClient(tracking_uri=uri)
    [run] = client.search_runs([client.get_experiment_by_name("tabpipe").experiment_id])
    assert run.info.status == "FINISHED" and run.info.run_name == "first"
    assert run.data.tags["group"] == "g1" and run.data.tags["nightly"] == "true"
    params = run.data.params
    assert params["model.n_estimators"] == "30" and params["seed"] == "42"
    assert (
        params["dataset.sha256"]
        == json.loads((result.output_dir / "metadata.json").read_text())["dataset"]["sha256"]
    )
    assert run.data.metrics["test/auc"] == result.metrics["test/auc"]
    assert run.data.metrics["baseline/test/auc"] == result.metrics["baseline/test/auc"]
    rounds = client.get_metric_history(run.info.run_id, "train/logloss")
    assert len(rounds) > 5 and [m.step for m in rounds] == sorted(m.step for m in rounds)
    bundle = {f.path for f in client.list_artifacts(run.info.run_id, "bundle")}
    assert {"bundle/model.onnx", "bundle/metadata.json"} <= bundle
    local = client.download_artifacts(run.info.run_id, "config_resolved.json", str(tmp_path / "dl"))
    assert json.loads(Path(local).read_text())["model"]["n_estimators"] == 30


@pytest.mark.slow
def test_tracking_failures_warn_once_each_and_keep_every_local_artifact(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    blocker = tmp_path / "not_a_dir"
    blocker.write_text("a file where the W&B directory should go")
    done = _run(
        [
            *XGB_SMALL,
            "logger=[wandb,mlflow,csv]",
            f"logger.wandb.save_dir={blocker}/wandb",  # unwritable
            "logger.mlflow.tracking_uri=nosuchscheme://tracking",  # broken URI
            "+logger.flaky._target_=faulty_components.RaisingLogger",  # raises in every call
            f"hydra.run.dir={run_dir}",
        ],
        cli_env(),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    warnings = [line for line in done.stdout.splitlines() if "tracking: logger." in line]
    assert len(warnings) == 3, warnings
    for name, cause in [("wandb", "not_a_dir"), ("mlflow", "nosuchscheme"), ("flaky", "unreachable")]:
        [line] = [w for w in warnings if f"logger.{name} failed" in w]
        assert "WARNING" in line and cause in line
    for name in ("metrics.json", "metadata.json", "bundle/model.onnx", "bundle/manifest.json"):
        assert (run_dir / name).is_file(), name
    assert not pd.read_csv(run_dir / "csv" / "metrics.csv").empty  # the healthy logger kept going
    check = subprocess.run(
        [sys.executable, "-m", "tabpipe.cli.main", "check-run", str(run_dir)],
        env=cli_env(),
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stderr


@pytest.mark.slow
def test_exception_in_training_is_a_failed_run_in_the_trackers(tmp_path: Path) -> None:
    from mlflow.tracking import MlflowClient

    run_dir, uri = tmp_path / "run", f"sqlite:///{tmp_path}/mlruns/mlflow.db"
    done = _run(
        [
            "model=baseline",
            "model._target_=faulty_components.DivergingModel",
            "logger=[wandb,mlflow]",
            f"logger.mlflow.tracking_uri={uri}",
            f"logger.mlflow.artifact_location={tmp_path}/mlruns/artifacts",
            f"hydra.run.dir={run_dir}",
        ],
        cli_env(),
    )
    assert done.returncode != 0
    assert "training diverged" in done.stderr
    [wandb_file] = offline_runs(run_dir)
    run = read_offline_run(wandb_file)
    assert run.exit_code == 1 and "train/loss" in run.history_keys
    client = MlflowClient(tracking_uri=uri)
    [mlflow_run] = client.search_runs([client.get_experiment_by_name("tabpipe").experiment_id])
    assert mlflow_run.info.status == "FAILED"


def test_plots_reach_wandb_and_mlflow(tmp_path: Path) -> None:
    """Whatever PNGs a run leaves in <run_dir>/plots/ are logged as images / artifacts."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from mlflow.tracking import MlflowClient

    from tabpipe.tracking.mlflow_logger import MLflowLogger
    from tabpipe.tracking.wandb_logger import WandbLogger

    figure, axes = plt.subplots()
    axes.plot([0, 0.5, 1], [0, 0.8, 1])
    png = tmp_path / "plots" / "roc_curve.png"
    png.parent.mkdir()
    figure.savefig(png)
    plt.close(figure)

    wandb_logger = WandbLogger(save_dir=str(tmp_path / "run"), mode="offline")
    uri = f"sqlite:///{tmp_path}/mlruns/mlflow.db"
    mlflow_logger = MLflowLogger(uri, artifact_location=str(tmp_path / "mlruns" / "artifacts"))
    for logger in (wandb_logger, mlflow_logger):
        logger.log_config({"seed": 1})
        logger.log_plots([png])
        logger.finalize("finished")

    [wandb_file] = offline_runs(tmp_path / "run")
    assert "plots/roc_curve/_type" in read_offline_run(wandb_file).history_keys  # an image entry
    images = list(wandb_file.parent.glob("files/media/images/plots/roc_curve*.png"))
    assert len(images) == 1 and images[0].stat().st_size > 1000
    client = MlflowClient(tracking_uri=uri)
    [run] = client.search_runs([client.get_experiment_by_name("tabpipe").experiment_id])
    assert [f.path for f in client.list_artifacts(run.info.run_id, "plots")] == ["plots/roc_curve.png"]
