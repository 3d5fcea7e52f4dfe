"""The entry points as a user runs them: subprocesses of `python train.py` and `tabpipe`."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from helpers import ROOT, cli_env, run_cli

ML_LIBRARIES = (
    "torch",
    "lightning",
    "pytorch_lightning",
    "xgboost",
    "lightgbm",
    "sklearn",
    "pandas",
    "onnx",
    "onnxruntime",
)


def imported_modules(importtime_stderr: str) -> set[str]:
    """Top-level module names from ``python -X importtime`` output."""
    names = re.findall(r"^import time:\s+\d+\s+\|\s+\d+\s+\|\s+(\S+)", importtime_stderr, re.M)
    return {name.split(".")[0] for name in names}


def test_help_lists_groups_and_imports_no_ml_library() -> None:
    done = run_cli(["--help"], python_flags=["-X", "importtime"])
    assert done.returncode == 0
    for group, option in [
        ("model", "xgb"),
        ("model", "mlp"),
        ("data", "telco_churn"),
        ("split", "kfold"),
        ("trainer", "gpu"),
        ("debug", "fdr"),
        ("experiment", "churn_xgb"),
    ]:
        assert re.search(rf"^\s+{group}\s+.*\b{option}\b", done.stdout, re.M), (group, option)
    assert not imported_modules(done.stderr) & set(ML_LIBRARIES)


@pytest.mark.slow
def test_default_style_run_with_overrides_writes_run_outputs(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    done = run_cli(
        ["model=xgb", "model.n_estimators=60", "seed=0", f"hydra.run.dir={run_dir}"],
        python_flags=["-X", "importtime"],
    )
    assert done.returncode == 0, done.stderr[-2000:]
    # model=xgb never pays for torch or Lightning
    assert not imported_modules(done.stderr) & {"torch", "lightning", "pytorch_lightning"}
    metrics = json.loads((run_dir / "metrics.json").read_text())
    for key in (
        "test/auc",
        "val/auc",
        "baseline/test/auc",
        "test/f1_macro",
        "test/accuracy",
        "test/log_loss",
    ):
        assert key in metrics
    assert metrics["test/auc"] > 0.8 > metrics["baseline/test/auc"]
    predictions = pd.read_parquet(run_dir / "predictions" / "test.parquet")
    assert {"customer_id", "y_true", "y_pred", "proba_No", "proba_Yes"} <= set(predictions.columns)
    assert len(predictions) == json.loads((run_dir / "metadata.json").read_text())["splits"][0]["test"]
    for name in (
        "config_resolved.yaml",
        "schema.json",
        "validation_report.json",
        "features.json",
        "train.log",
        "model/model.xgb.json",
        "model/preprocessor.joblib",
        ".hydra/config.yaml",
    ):
        assert (run_dir / name).is_file(), name
    assert "seed: 0" in (run_dir / "config_resolved.yaml").read_text()
    assert "test/auc" in (run_dir / "train.log").read_text()


def test_unknown_model_is_one_line_listing_the_models() -> None:
    done = run_cli(["model=nope"])
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: model=nope: unknown option; available models: baseline, lgbm, lightning, linear, mlp, xgb"
    ]


@pytest.mark.parametrize(
    ("override", "named"), [("model.max_dept=3", "max_dept"), ("trainer.max_epochs=many", "max_epochs")]
)
def test_bad_key_or_value_is_one_line(override: str, named: str) -> None:
    done = run_cli([override])
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and named in lines[0] and "Traceback" not in done.stderr


def test_gpu_without_cuda_fails_with_one_line(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    done = run_cli(["trainer=gpu", "model=xgb", f"hydra.run.dir={run_dir}"])
    assert done.returncode == 4
    assert done.stderr.strip().splitlines() == [
        "error: trainer.accelerator=gpu: no CUDA device on this machine; use trainer=cpu"
    ]
    assert "no CUDA device" not in done.stdout  # printed once, as the error line
    assert "no CUDA device on this machine" in (run_dir / "train.log").read_text()
    assert not (run_dir / "metrics.json").exists()


def test_cfg_job_prints_the_composed_config() -> None:
    done = run_cli(["--cfg", "job", "model=lgbm", "seed=7"])
    assert done.returncode == 0
    assert "_target_: tabpipe.models.lgbm.LightGBMModel" in done.stdout
    assert "seed: 7" in done.stdout


def test_console_script_is_the_same_app() -> None:
    tabpipe = shutil.which("tabpipe", path=str(Path(sys.executable).parent))
    assert tabpipe, "the tabpipe console script is installed with the package"
    via_script = subprocess.run(
        [tabpipe, "train", "--cfg", "job", "model=linear"],
        capture_output=True,
        text=True,
        env=cli_env(),
        cwd=ROOT,
    )
    via_file = run_cli(["--cfg", "job", "model=linear"])
    assert via_script.returncode == via_file.returncode == 0
    assert via_script.stdout == via_file.stdout
    unknown = subprocess.run([tabpipe, "nope"], capture_output=True, text=True, env=cli_env())
    assert unknown.returncode == 2 and "unknown command" in unknown.stderr


@pytest.mark.slow
def test_baseline_gate_exit_code(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    done = run_cli(["model=baseline", f"hydra.run.dir={run_dir}"])
    assert done.returncode == 3
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: baseline gate: test/auc=0.5")
    off = run_cli(["model=baseline", "eval.require_beat_baseline=false", f"hydra.run.dir={tmp_path / 'off'}"])
    assert off.returncode == 0
