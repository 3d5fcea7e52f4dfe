"""The evaluation suite in real runs: training writes plots, segments and the report; the
graph applies the threshold chosen on val; `tabpipe eval` reproduces the training-time test
metrics exactly; the production version is compared on the same rows and can gate a run."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pandas as pd
import pytest

from helpers import QUICK, ROOT, cli_env, compose_config
from tabpipe.data.ingestion import ingest
from tabpipe.data.splits import make_splits
from tabpipe.errors import BaselineGateError
from tabpipe.evaluation.metric_table import metric_table
from tabpipe.evaluation.thresholds import choose_threshold
from tabpipe.export import runtime
from tabpipe.export.bundle import load_bundle
from tabpipe.export.inputs import graph_inputs
from tabpipe.export.registry import Registry

CHURN = ROOT / "src/tabpipe/datasets/telco_churn.csv"
PNG = b"\x89PNG\r\n\x1a\n"
OVERRIDES = [
    "model=xgb",
    "model.n_estimators=60",
    "eval.threshold.strategy=f1",
    "data.group_columns=[contract]",
    "eval.segments.n_bootstrap=100",
]
DATA_FILES = {
    "confusion.csv": ["actual", "predicted"],
    "roc.csv": ["fpr", "tpr"],
    "pr.csv": ["recall", "precision"],
    "calibration.csv": ["prob_pred", "prob_true", "rows"],
    "thresholds.csv": ["threshold", "precision", "recall", "f1", "accuracy", "cost"],
    "importance_native.csv": ["feature", "importance"],
    "importance_permutation.csv": ["column", "importance_mean", "importance_std"],
    "segments.csv": ["column", "segment", "rows", "value", "ci_low", "ci_high", "flagged"],
}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from tabpipe.training.train import run_training

    base = tmp_path_factory.mktemp("evaluation")
    result = run_training(compose_config(OVERRIDES, base / "run"))
    return {"base": base, "result": result, "registry": base / "registry"}


def tabpipe(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tabpipe.cli.main", *args],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=600,
    )


def test_training_writes_plots_segments_and_the_report(run) -> None:
    out = run["result"].output_dir
    for name, columns in DATA_FILES.items():
        assert list(pd.read_csv(out / "plots" / name).columns) == columns, name
    report = (out / "report.md").read_text()
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", report)
    assert len(links) == 8
    for link in links:  # relative links to non-empty PNG files: readable offline
        data = (out / link).read_bytes()
        assert data[:8] == PNG and len(data) > 5000, link
    for heading in ("## Metrics", "## Gates", "## Decision threshold", "## Segments", "## Plots"):
        assert heading in report
    segments = json.loads((out / "segments.json").read_text())
    assert segments["metric"] == "auc"
    assert {s["segment"] for s in segments["segments"]} == {"Month-to-month", "One year", "Two year"}
    assert sum(s["rows"] for s in segments["segments"]) == 1057
    metrics = json.loads((out / "metrics.json").read_text())
    for name in (
        "auc",
        "pr_auc",
        "f1",
        "f1_macro",
        "precision",
        "recall",
        "accuracy",
        "log_loss",
        "brier",
        "ece",
    ):
        assert np.isfinite(metrics[f"test/{name}"]) and np.isfinite(metrics[f"baseline/test/{name}"])
    permutation = pd.read_csv(out / "plots" / "importance_permutation.csv")
    assert permutation["column"].iloc[0] in {"contract", "tenure"}  # the known strongest inputs


def test_the_graph_applies_the_threshold_chosen_on_val(run) -> None:
    bundle = load_bundle(run["result"].bundle)
    record = bundle.metadata.evaluation[0].threshold
    assert record is not None
    assert record.strategy == "f1" and record.chosen_on == "val"
    model = onnx.load(bundle.model_path)
    assert float({p.key: p.value for p in model.metadata_props}["decision_threshold"]) == record.value
    # re-derive the val split and choose again: the same threshold, from val rows only
    cfg = compose_config(OVERRIDES)
    dataset = ingest(cfg.data)
    (split,) = make_splits(dataset, cfg.split, cfg.seed)
    raw = dataset.source.frame[list(dataset.schema)]
    schema = {i.name: {"type": i.type} for i in bundle.schema.inputs}
    session = runtime.session(bundle.model_path)
    val = runtime.run(session, graph_inputs(raw.iloc[split.val], schema))
    y_val = (dataset.target.iloc[split.val] == "Yes").to_numpy().astype(int)
    assert choose_threshold(cfg.eval.threshold, y_val, val["probabilities"][:, 1]).value == record.value
    # the graph's label output applies it, on the test rows as on any row
    test = runtime.run(session, graph_inputs(raw.iloc[split.test], schema))
    p = test["probabilities"][:, 1].astype(np.float64)
    assert record.value < 0.5
    assert (test["label"] == np.where(p >= record.value, "Yes", "No")).all()
    assert ((p < 0.5) & (test["label"] == "Yes")).sum() > 10  # differs from the argmax
    predictions = pd.read_parquet(run["result"].output_dir / "predictions" / "test.parquet")
    assert (predictions["y_pred"].to_numpy() == test["label"]).all()


@pytest.mark.slow
def test_tabpipe_eval_reproduces_the_training_test_metrics_exactly(run, tmp_path: Path) -> None:
    done = tabpipe(  # rows=test is the default
        "eval",
        "bundle=telco_churn:1",
        f"registry_root={run['registry']}",
        f"output_dir={tmp_path}",
    )
    assert done.returncode == 0, done.stderr[-2000:]
    training = run["result"].metrics
    evaluated = json.loads((tmp_path / "metrics.json").read_text())
    keys = [k for k in training if k.startswith(("test/", "baseline/test/"))]
    assert len(keys) == 20
    assert {k: evaluated[k] for k in keys} == {k: training[k] for k in keys}  # exactly, not approx
    expected = pd.read_parquet(run["result"].output_dir / "predictions" / "test.parquet")
    scored = pd.read_parquet(tmp_path / "predictions.parquet")
    assert (scored["customer_id"] == expected["customer_id"]).all()
    assert (scored["y_pred"] == expected["y_pred"]).all()
    assert np.array_equal(scored["proba_Yes"], expected["proba_Yes"])
    for name in (
        "report.md",
        "evaluation.json",
        "segments.json",
        "plots/roc.png",
        "plots/segments_contract.png",
    ):
        assert (tmp_path / name).is_file(), name
    # the metric table of the training run, line for line; then the gates and the report
    table = metric_table(training, "auc")
    assert table[0] == "test metrics:" and len(table) == 11
    lines = done.stdout.splitlines()
    start = lines.index("test metrics:")
    assert lines[start : start + 11] == table
    assert "gate baseline: passed" in lines and f"report: {tmp_path / 'report.md'}" in lines
    assert not scored["in_training"].any()


def test_eval_rows_all_flags_the_rows_the_bundle_was_trained_on(run, tmp_path: Path) -> None:
    from tabpipe.cli.groups import compose_app_config
    from tabpipe.evaluation.bundle_evaluation import evaluate_bundle

    args = ["bundle=telco_churn:1", f"registry_root={run['registry']}", "eval.plots=false"]
    evaluated = evaluate_bundle(compose_app_config("eval", [*args, "rows=all", f"output_dir={tmp_path}"]))
    data = ingest(compose_config(OVERRIDES).data)
    (rows,) = make_splits(data, compose_config(OVERRIDES).split, 42)
    seen = np.zeros(data.n_rows, bool)
    seen[np.concatenate([rows.train, rows.val])] = True
    assert (
        np.array_equal(evaluated.overlap.in_training, seen) and evaluated.overlap.count == seen.sum() > 5000
    )
    assert np.array_equal(pd.read_parquet(tmp_path / "predictions.parquet")["in_training"], seen)
    note = f"{seen.sum()} of {data.n_rows} evaluated rows are in the bundle's training split"
    assert note in (tmp_path / "report.md").read_text()
    assert evaluated.overlap.note().startswith(note)
    assert len(run["result"].folds[0].predictions) == data.n_rows - seen.sum()  # the rest: test


@pytest.mark.slow
def test_tabpipe_eval_on_new_data_and_bad_inputs(run, tmp_path: Path) -> None:
    rows = pd.read_csv(CHURN).sample(600, random_state=1)
    rows.to_csv(tmp_path / "new.csv", index=False)
    data = [
        "data=csv",
        f"data.path={tmp_path / 'new.csv'}",
        "data.target=churn",
        "data.task=binary",
        "data.positive_class=Yes",
        "data.id_columns=[customer_id]",
    ]
    common = ["eval", "bundle=telco_churn:1", f"registry_root={run['registry']}"]
    done = tabpipe(*common, *data, "rows=all", f"output_dir={tmp_path / 'out'}", "eval.plots=false", "--json")
    assert done.returncode == 0, done.stderr[-2000:]
    # rows of the training file: those in the bundle's train/val split are matched by content
    training = ingest(compose_config(OVERRIDES).data)
    (split,) = make_splits(training, compose_config(OVERRIDES).split, 42)
    trained_ids = set(training.ids["customer_id"].iloc[np.concatenate([split.train, split.val])])
    scored = pd.read_parquet(tmp_path / "out" / "predictions.parquet")
    assert np.array_equal(scored["in_training"], scored["customer_id"].isin(trained_ids))
    assert f"warning: {scored['in_training'].sum()} of 600 evaluated rows" in done.stderr
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    printed = json.loads(done.stdout)  # --json: one JSON document for machines
    assert printed["training_overlap"] == scored["in_training"].sum() > 0
    assert printed["metrics"]["eval/auc"] == metrics["eval/auc"] and printed["gates"] == {"baseline": True}
    assert metrics["eval/auc"] > 0.75 and "baseline/eval/auc" in metrics
    assert len(pd.read_parquet(tmp_path / "out" / "predictions.parquet")) == 600
    assert not (tmp_path / "out" / "plots").exists()
    wrong_rows = tabpipe(*common, *data, f"output_dir={tmp_path / 'x'}")  # rows=test, the default
    assert wrong_rows.returncode == 2
    assert re.fullmatch(
        r"error: rows=test: the data .* is not the bundle's training data .*; use rows=all\n",
        wrong_rows.stderr,
    )
    rows.drop(columns=["tenure"]).to_csv(tmp_path / "missing.csv", index=False)
    missing = tabpipe(
        *common, *data, "rows=all", f"data.path={tmp_path / 'missing.csv'}", f"output_dir={tmp_path / 'y'}"
    )
    assert missing.returncode == 2 and "'tenure'" in missing.stderr and "Traceback" not in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1


def test_production_version_is_compared_on_the_same_rows_and_can_gate(run) -> None:
    from tabpipe.training.train import run_training

    registry = Registry(run["registry"])
    registry.promote("telco_churn", 1, "production")
    gated = [
        *OVERRIDES,
        "model.n_estimators=30",  # same seed, so the same test rows
        "eval.require_beat_production=true",
        "eval.min_improvement_over_production=0.5",
    ]
    out = run["base"] / "gated"
    with pytest.raises(
        BaselineGateError, match=r"^production gate: test/auc=.* of telco_churn:1 \(alias production\)"
    ):
        run_training(compose_config([*QUICK, *gated], out))
    assert registry.versions("telco_churn") == [1]  # a gated run registers nothing
    evaluation = json.loads((out / "evaluation.json").read_text())
    assert [(g["reference"], g["passed"]) for g in evaluation["gates"]] == [
        ("baseline", True),
        ("production", False),
    ]
    metrics = json.loads((out / "metrics.json").read_text())
    # version 1 scored on this run's test rows (same split): its training-time test metrics
    assert metrics["production/test/auc"] == run["result"].metrics["test/auc"]
    assert "| production |" in (out / "report.md").read_text()


def test_eval_help_imports_no_ml_library() -> None:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "tabpipe.cli.main", "eval", "--help"],
        capture_output=True,
        text=True,
        env=cli_env(),
    )
    assert done.returncode == 0 and "tabpipe eval bundle=" in done.stdout
    imported = {
        m.split(".")[0] for m in re.findall(r"^import time:\s+\d+\s+\|\s+\d+\s+\|\s+(\S+)", done.stderr, re.M)
    }
    assert not imported & {"sklearn", "pandas", "onnxruntime", "matplotlib", "torch", "xgboost"}


def test_a_baseline_run_does_not_fail_its_own_baseline_gate(train) -> None:
    result = train(["model=baseline", "eval.plots=false"])  # exit 3 before: it cannot beat itself
    evaluation = json.loads((result.output_dir / "evaluation.json").read_text())
    assert [g["reference"] for g in evaluation["gates"]] == []
    report = (result.output_dir / "report.md").read_text()
    assert "The model is the baseline: there is no baseline gate" in report
    with pytest.raises(BaselineGateError, match=r"^baseline gate: test/auc="):
        train(["model=xgb", "model.n_estimators=1", "eval.min_improvement=0.9", "eval.plots=false"])


@pytest.mark.parametrize("model", ["lgbm", "xgb"])
def test_gbdt_early_stopping_patience_and_best_iteration_per_fold(model, train, caplog) -> None:
    from tabpipe.config import schema

    defaults = {"lgbm": schema.LGBMModelConfig, "xgb": schema.XGBModelConfig}
    patience = compose_config([f"model={model}"]).model.early_stopping_rounds
    assert patience == defaults[model].early_stopping_rounds >= 50  # 10 stopped folds at ~10 rounds
    caplog.set_level("INFO", logger="tabpipe")
    overrides = [f"model={model}", "model.n_estimators=30", "model.early_stopping_rounds=5"]
    train([*overrides, "split=kfold", "split.n_folds=2", "eval.plots=false", "eval.segments.enabled=false"])
    lines = [r.getMessage() for r in caplog.records if "best iteration" in r.getMessage()]
    assert [line.split(":")[0] for line in lines] == ["fold 0 model", "fold 1 model"], lines
    summary = (
        r"fold \d model: \w+: best iteration \d+ of \d+ trained "
        r"\(n_estimators=30, early_stopping_rounds=5\)"
    )
    assert all(re.fullmatch(summary, line) for line in lines), lines


@pytest.mark.parametrize("model", ["lgbm", "xgb"])
def test_gbdt_early_stopping_watches_the_validation_loss(model, tmp_path: Path) -> None:
    """Fold 0 of the default 5-fold churn split: val AUC peaks at round 10, the val loss near
    round 58. LightGBM watched every metric and kept AUC's round 10 (recall 0.06 on that fold)."""
    from tabpipe.training.stages import fit_folds

    cfg = compose_config([f"model={model}", "split=kfold", "logger=none"], tmp_path / "run")
    dataset = ingest(cfg.data)
    fold_0 = make_splits(dataset, cfg.split, cfg.seed)[:1]
    history: list[dict[str, float]] = []
    (fold,) = fit_folds(cfg, dataset, fold_0, tmp_path / "run", [lambda m, i: history.append(m)])
    loss = [next(v for k, v in m.items() if k.startswith("val/") and "logloss" in k) for m in history]
    assert fold.model.rounds_used() == int(np.argmin(loss)) + 1 > 40
    assert fold.model.rounds_trained() == len(history) == fold.model.rounds_used() + 50
