"""metadata.json, `tabpipe check-run` and `tabpipe reproduce`."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from helpers import ML_LIBRARIES, ROOT, cli_env, imported_modules, run_cli
from tabpipe.data.sources import bundled_dataset_path
from tabpipe.training.run_metadata import dvc_md5

LINEAR = ["model=linear", "logger=csv"]


def tabpipe(*args: str, cwd: Path = ROOT, flags: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *flags, "-m", "tabpipe.cli.main", *args],
        cwd=cwd,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=900,
    )


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_metadata_records_everything_needed_to_reproduce(train) -> None:
    result = train([*LINEAR, "seed=5"])
    run_dir = result.output_dir
    metadata = json.loads((run_dir / "metadata.json").read_text())
    assert metadata["seed"] == 5 and metadata["config"]["model"]["_target_"].endswith("LinearModel")
    raw = bundled_dataset_path("telco_churn")
    assert metadata["dataset"] | {"uri": None} == {
        "uri": None,
        "sha256": sha256(raw),
        "dvc_md5": None,
        "dvc_tracked_by": None,
        "n_rows": 7043,
        "n_columns": 21,
    }
    # the test split's hash is the hash of the ids of the rows it predicted
    predictions = pd.read_parquet(run_dir / "predictions" / "test.parquet")
    ids = predictions[["customer_id"]].to_csv(index=False, header=False, lineterminator="\n")
    [split] = metadata["splits"]
    assert split["row_ids_sha256"]["test"] == hashlib.sha256(ids.encode()).hexdigest()
    assert len(set(split["row_ids_sha256"].values())) == 3
    assert metadata["metrics"] == result.metrics
    for name in ("tabpipe", "torch", "lightning", "xgboost", "lightgbm", "scikit-learn", "onnx"):
        assert metadata["packages"][name], name
    for name in ("onnxruntime", "hydra-core", "optuna"):
        assert metadata["packages"][name], name
    assert metadata["device"]["accelerator"] == "cpu" and metadata["platform"]["python"]
    assert metadata["started_at"] < metadata["ended_at"] and metadata["duration_s"] > 0
    artifacts = metadata["artifacts"]
    assert {"metrics.json", "model/model.onnx", "predictions/test.parquet", "bundle/model.onnx"} <= set(
        artifacts
    )
    assert not {"metadata.json", "csv/metrics.csv"} & set(artifacts)
    for name, record in artifacts.items():
        assert sha256(run_dir / name) == record["sha256"], name
    # the bundle carries the same record (its own files excepted: it was being written)
    in_bundle = json.loads((run_dir / "bundle" / "metadata.json").read_text())
    for key in ("config", "seed", "dataset", "splits", "git", "packages", "device", "metrics", "started_at"):
        assert in_bundle[key] == metadata[key], key
    assert in_bundle["artifacts"]["model/model.onnx"] == artifacts["model/model.onnx"]


def _git_dvc_repo(path: Path) -> None:
    path.mkdir()
    for command in (["git", "init", "-q"], [str(Path(sys.executable).parent / "dvc"), "init", "-q"]):
        subprocess.run(
            command, cwd=path, check=True, capture_output=True, env=cli_env() | {"DVC_NO_ANALYTICS": "1"}
        )


def test_dvc_md5_from_a_dvc_file_and_from_dvc_lock(train, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    _git_dvc_repo(repo)
    dvc = str(Path(sys.executable).parent / "dvc")
    env = cli_env() | {"DVC_NO_ANALYTICS": "1"}
    data = repo / "data" / "churn.csv"
    data.parent.mkdir()
    shutil.copy(bundled_dataset_path("telco_churn"), data)
    subprocess.run([dvc, "add", "-q", "data/churn.csv"], cwd=repo, check=True, env=env, capture_output=True)
    recorded = yaml.safe_load((repo / "data" / "churn.csv.dvc").read_text())["outs"][0]["md5"]
    assert recorded == hashlib.md5(data.read_bytes()).hexdigest()
    # a stage output: its md5 lives in dvc.lock
    stage = ["stage", "add", "-q", "-n", "head", "-d", "data/churn.csv", "-o", "data/head.csv"]
    subprocess.run([dvc, *stage, "head -n 500 data/churn.csv > data/head.csv"], cwd=repo, check=True, env=env)
    subprocess.run([dvc, "repro", "-q"], cwd=repo, check=True, env=env, capture_output=True)
    head = repo / "data" / "head.csv"
    assert dvc_md5(head) == {
        "md5": hashlib.md5(head.read_bytes()).hexdigest(),
        "tracked_by": str(repo / "dvc.lock"),
    }
    assert dvc_md5(repo / "dvc.yaml") is None

    result = train(
        [
            *LINEAR,
            "data=csv",
            f"data.path={data}",
            "data.target=churn",
            "data.task=binary",
            "data.id_columns=[customer_id]",
            "data.positive_class=Yes",
        ]
    )
    dataset = json.loads((result.output_dir / "metadata.json").read_text())["dataset"]
    assert dataset["dvc_md5"] == recorded and dataset["sha256"] == sha256(data)
    assert dataset["dvc_tracked_by"] == str(repo / "data" / "churn.csv.dvc")


def test_check_run_passes_on_a_complete_run_and_names_what_is_missing(train) -> None:
    run_dir = train(LINEAR).output_dir
    ok = tabpipe("check-run", str(run_dir), flags=("-X", "importtime"))
    assert ok.returncode == 0, ok.stderr
    assert not imported_modules(ok.stderr) & {*ML_LIBRARIES, "numpy", "wandb", "mlflow"}
    assert ok.stdout.startswith(f"ok: {run_dir}:") and "artifacts verified" in ok.stdout

    (run_dir / "model" / "model.onnx").unlink()
    (run_dir / "features.json").write_text("{}")
    metadata = json.loads((run_dir / "metadata.json").read_text())
    del metadata["dataset"]["sha256"]
    (run_dir / "metadata.json").write_text(json.dumps(metadata))
    broken = tabpipe("check-run", str(run_dir))
    assert broken.returncode == 2
    lines = broken.stderr.strip().splitlines()
    assert len(lines) == 3 and all(line.startswith(f"error: check-run {run_dir}: ") for line in lines)
    assert any("artifact model/model.onnx: missing" in line for line in lines)
    assert any("artifact features.json: sha256 differs" in line for line in lines)
    assert any("dataset.sha256 (dataset hash) is missing" in line for line in lines)
    nothing = tabpipe("check-run", str(run_dir / "model"))
    assert nothing.returncode == 2 and "metadata.json is missing" in nothing.stderr


@pytest.mark.slow
def test_reproduce_gives_identical_metrics_for_every_model(tmp_path: Path) -> None:
    data = tmp_path / "churn.csv"
    shutil.copy(bundled_dataset_path("telco_churn"), data)
    sweep = tmp_path / "sweep"
    models = ["xgb", "lgbm", "linear", "baseline", "mlp"]
    done = run_cli(
        [
            "-m",
            f"model={','.join(models)}",
            *["data=csv", f"data.path={data}", "data.target=churn", "data.task=binary"],
            "data.id_columns=[customer_id]",
            "trainer.max_epochs=2",
            "eval.require_beat_baseline=false",
            "eval.plots=false",
            "logger=csv",
            "seed=3",
            f"hydra.sweep.dir={sweep}",
        ]
    )
    assert done.returncode == 0, done.stderr[-3000:]
    for job, model in enumerate(models):
        original = sweep / str(job)
        again = tmp_path / f"again_{model}"
        reproduced = tabpipe("reproduce", str(original), "--output-dir", str(again))
        assert reproduced.returncode == 0, (model, reproduced.stdout[-2000:], reproduced.stderr[-2000:])
        assert "metrics: identical" in reproduced.stdout, model
        assert "differs" not in reproduced.stderr, model  # same data, same commit
        recorded = json.loads((original / "metrics.json").read_text())
        assert json.loads((again / "metrics.json").read_text()) == recorded
        overrides = json.loads((again / "metadata.json").read_text())["hydra"]["overrides"]
        assert f"model={model}" in overrides and "seed=3" in overrides and "registry.name=null" in overrides

    # the data changed since the run: a warning names the cause, the differences are listed
    frame = pd.read_csv(data)
    frame.loc[frame.index[:300], "tenure"] = 0
    frame.to_csv(data, index=False)
    changed = tabpipe("reproduce", str(sweep / "2"), "--output-dir", str(tmp_path / "changed"))
    assert "warning: dataset sha256 differs: recorded " in changed.stderr
    assert changed.returncode == 1 and "metrics: DIFFERENT" in changed.stdout
    assert "test/auc: recorded " in changed.stdout
