"""Same seed, same result; and no leakage through target encoding."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import run_cli
from tabpipe.data.sources import bundled_dataset_path


def predictions(result) -> pd.DataFrame:
    return pd.read_parquet(result.output_dir / "predictions" / "test.parquet")


@pytest.mark.parametrize(
    "overrides",
    [
        ["model=xgb", "model.n_estimators=40"],
        ["model=lgbm", "model.n_estimators=40"],
        ["model=linear", "features=target_encoding"],
        ["model=mlp", "trainer.max_epochs=3"],
    ],
    ids=["xgb", "lgbm", "linear-target-encoding", "mlp"],
)
def test_same_seed_gives_identical_predictions_and_metrics(train, overrides) -> None:
    overrides = [*overrides, "eval.plots=false"]  # the predictions and metrics are compared
    first = train([*overrides, "seed=0"])
    second = train([*overrides, "seed=0"])
    pd.testing.assert_frame_equal(predictions(first), predictions(second), check_exact=True)
    assert first.metrics == second.metrics
    other = train([*overrides, "seed=1"])
    assert not predictions(first).equals(predictions(other))


def test_run_records_seed_dataset_hash_and_versions(train) -> None:
    result = train(["model=linear", "seed=0"])
    metadata = json.loads((result.output_dir / "metadata.json").read_text())
    assert metadata["seed"] == 0
    import hashlib

    raw = bundled_dataset_path("telco_churn").read_bytes()
    assert metadata["dataset"]["sha256"] == hashlib.sha256(raw).hexdigest()
    assert metadata["dataset"]["n_rows"] == 7043
    assert metadata["packages"]["scikit-learn"] and metadata["packages"]["xgboost"]
    assert set(metadata["git"]) == {"commit", "dirty"}
    features = json.loads((result.output_dir / "features.json").read_text())
    assert features["categorical_encoding"] == "onehot"


def test_shuffled_target_with_target_encoding_does_not_leak(train, tmp_path: Path) -> None:
    """With the target permuted there is nothing to learn: test AUC must stay near 0.5."""
    frame = pd.read_csv(bundled_dataset_path("telco_churn"))
    rng = np.random.default_rng(0)
    frame["churn"] = rng.permutation(frame["churn"].to_numpy())
    # an id-like high-cardinality categorical is where in-sample target encoding leaks most
    frame["account_code"] = [f"acct{i % 2000}" for i in range(len(frame))]
    path = tmp_path / "shuffled.csv"
    frame.to_csv(path, index=False)
    result = train(
        [
            "data=csv",
            f"data.path={path}",
            "data.target=churn",
            "data.task=binary",
            "data.id_columns=[customer_id]",
            "data.positive_class=Yes",
            "features=target_encoding",
            "model=xgb",
            "eval.require_beat_baseline=false",
        ]
    )
    assert abs(result.metrics["test/auc"] - 0.5) <= 0.05


@pytest.mark.slow
def test_ddp_on_cpu_trains_with_two_ranks(tmp_path: Path) -> None:
    run_dir = tmp_path / "ddp"
    done = run_cli(
        ["model=mlp", "trainer=ddp", "trainer.max_epochs=2", "eval.plots=false", f"hydra.run.dir={run_dir}"]
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "world_size=2" in done.stdout + done.stderr or "2 processes" in done.stdout + done.stderr
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["test/auc"] > 0.75
    history = pd.read_csv(run_dir / "csv" / "metrics.csv")
    assert sorted(history["step"].unique()) == [0, 1]
