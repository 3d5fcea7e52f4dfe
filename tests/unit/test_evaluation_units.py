"""The evaluation suite's parts on fixed arrays: metrics against scikit-learn (and
torchmetrics for ECE), threshold optima, segment flags, gates, plots and the report."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf
from sklearn import metrics as skm

from helpers import compose_config
from tabpipe.errors import BaselineGateError, ConfigError
from tabpipe.evaluation.document import SegmentsDocument
from tabpipe.evaluation.gates import enforce, gate_results
from tabpipe.evaluation.metrics import compute_metrics, expected_calibration_error, primary_metric, scored
from tabpipe.evaluation.segments import bootstrap_interval
from tabpipe.evaluation.suite import EvaluationInputs, Reference, evaluate_predictions
from tabpipe.evaluation.thresholds import CostMatrix, choose_threshold, optimal_thresholds, threshold_table

RNG = np.random.default_rng(7)
N = 400
Y_BINARY = RNG.integers(0, 2, N)
P_BINARY = np.clip(0.35 * Y_BINARY + RNG.random(N) * 0.65, 0, 1)
PROBA_BINARY = np.column_stack([1 - P_BINARY, P_BINARY])


def eval_cfg(**overrides):
    cfg = compose_config([]).eval
    for key, value in overrides.items():
        OmegaConf.update(cfg, key, value)
    return cfg


def test_binary_metrics_equal_scikit_learn() -> None:
    labels = (P_BINARY >= 0.4).astype(int)
    got = compute_metrics("binary", Y_BINARY, PROBA_BINARY, labels)
    expected = {
        "auc": skm.roc_auc_score(Y_BINARY, P_BINARY),
        "pr_auc": skm.average_precision_score(Y_BINARY, P_BINARY),
        "f1": skm.f1_score(Y_BINARY, labels),
        "f1_macro": skm.f1_score(Y_BINARY, labels, average="macro"),
        "precision": skm.precision_score(Y_BINARY, labels),
        "recall": skm.recall_score(Y_BINARY, labels),
        "accuracy": skm.accuracy_score(Y_BINARY, labels),
        "log_loss": skm.log_loss(Y_BINARY, PROBA_BINARY),
        "brier": skm.brier_score_loss(Y_BINARY, P_BINARY),
    }
    for name, value in expected.items():
        assert got[name] == pytest.approx(value, abs=1e-12), name
    # labels default to the argmax
    assert compute_metrics("binary", Y_BINARY, PROBA_BINARY)["accuracy"] == skm.accuracy_score(
        Y_BINARY, PROBA_BINARY.argmax(axis=1)
    )


def test_ece_equals_torchmetrics_and_a_hand_computed_case() -> None:
    import torch
    from torchmetrics.functional.classification import binary_calibration_error

    for bins in (5, 10, 15):
        reference = binary_calibration_error(
            torch.tensor(P_BINARY), torch.tensor(Y_BINARY), n_bins=bins, norm="l1"
        )
        assert expected_calibration_error(Y_BINARY, P_BINARY, bins) == pytest.approx(
            float(reference), abs=1e-6
        )
    # two bins: [0, .5) holds p=.2,.2 (1 positive: rate .5), [.5, 1] holds p=.9,.9 (both positive)
    y, p = np.array([0, 1, 1, 1]), np.array([0.2, 0.2, 0.9, 0.9])
    assert expected_calibration_error(y, p, 2) == pytest.approx(0.5 * 0.3 + 0.5 * 0.1)


def test_multiclass_metrics_equal_scikit_learn() -> None:
    y = RNG.integers(0, 3, N)
    raw = RNG.random((N, 3)) + np.eye(3)[y] * 0.8
    proba = raw / raw.sum(axis=1, keepdims=True)
    got = compute_metrics("multiclass", y, proba)
    labels = proba.argmax(axis=1)
    assert got == pytest.approx(
        {
            "f1_macro": skm.f1_score(y, labels, average="macro"),
            "f1_weighted": skm.f1_score(y, labels, average="weighted"),
            "accuracy": skm.accuracy_score(y, labels),
            "log_loss": skm.log_loss(y, proba),
            "auc_ovr": skm.roc_auc_score(y, proba, multi_class="ovr"),
        }
    )


def test_regression_metrics_and_mape_guarded_against_zero_targets() -> None:
    y = np.array([0.0, 2.0, 4.0, 0.0, 10.0])
    pred = np.array([0.5, 2.5, 3.0, -1.0, 12.0])
    got = compute_metrics("regression", y, pred)
    assert got["rmse"] == pytest.approx(skm.root_mean_squared_error(y, pred))
    assert got["mae"] == pytest.approx(skm.mean_absolute_error(y, pred))
    assert got["r2"] == pytest.approx(skm.r2_score(y, pred))
    # over the non-zero targets only: (0.5/2 + 1/4 + 2/10) / 3; sklearn on all rows explodes
    assert got["mape"] == pytest.approx((0.25 + 0.25 + 0.2) / 3)
    assert skm.mean_absolute_percentage_error(y, pred) > 1e14
    assert np.isnan(compute_metrics("regression", np.zeros(3), np.ones(3))["mape"])


def test_primary_metric_must_belong_to_the_task() -> None:
    assert primary_metric("binary", None) == "auc"
    assert primary_metric("binary", "pr_auc") == "pr_auc"
    with pytest.raises(ConfigError, match=r"eval.primary_metric='rmse': not a binary metric"):
        primary_metric("binary", "rmse")


def test_f1_and_cost_optimal_thresholds_on_a_constructed_case() -> None:
    y, p = np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8])
    # F1 by threshold: .8 -> 2/3, .4 -> 1/2, .35 -> 4/5, .1 -> 2/3
    f1_best, cost_best = optimal_thresholds(threshold_table(y, p, CostMatrix(fp=1.0, fn=5.0)))
    assert (f1_best, cost_best) == (0.35, 0.35)
    # false positives expensive: keep only the most confident row positive
    assert optimal_thresholds(threshold_table(y, p, CostMatrix(fp=5.0, fn=1.0)))[1] == 0.8
    # the top score is a negative and false positives are very expensive: nothing positive,
    # a threshold above every score
    top_negative = np.array([0.3, 0.9])
    none_positive = optimal_thresholds(threshold_table(np.array([1, 0]), top_negative, CostMatrix(fp=100.0)))[
        1
    ]
    assert none_positive > 0.9 and not (top_negative >= none_positive).any()
    # the table agrees with scikit-learn at every threshold
    table = threshold_table(Y_BINARY, P_BINARY, CostMatrix())
    for _, row in table.iloc[1::37].iterrows():
        labels = (row["threshold"] <= P_BINARY).astype(int)
        assert row["f1"] == pytest.approx(skm.f1_score(Y_BINARY, labels))
        assert row["precision"] == pytest.approx(skm.precision_score(Y_BINARY, labels, zero_division=0.0))


def test_threshold_choice_follows_the_strategy_and_rejects_bad_costs() -> None:
    y, p = np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8])
    cfg = eval_cfg(**{"threshold.cost.fn": 5.0})
    assert choose_threshold(cfg.threshold, y, p).value == 0.5
    OmegaConf.update(cfg, "threshold.strategy", "f1")
    assert choose_threshold(cfg.threshold, y, p).value == 0.35
    OmegaConf.update(cfg, "threshold.strategy", "cost")
    assert choose_threshold(cfg.threshold, y, p).value == 0.35
    OmegaConf.update(cfg, "threshold.cost.fp", -1.0)
    with pytest.raises(ConfigError, match=r"eval.threshold.cost=.*fp > tn"):
        choose_threshold(cfg.threshold, y, p)


def test_gates_fail_a_model_worse_than_the_baseline_with_a_clear_message() -> None:
    metrics = {"test/log_loss": 0.70, "baseline/test/log_loss": 0.60, "production/test/log_loss": 0.71}
    gates = gate_results(metrics, "log_loss", "test", eval_cfg(), "churn:3")
    assert [(g.reference, g.passed, g.enforced) for g in gates] == [
        ("baseline", False, True),
        ("production", True, False),
    ]
    with pytest.raises(BaselineGateError) as error:
        enforce(gates)
    assert str(error.value) == (
        "baseline gate: test/log_loss=0.7 does not beat baseline/test/log_loss=0.6 by more than "
        "eval.min_improvement=0.0 (set eval.require_beat_baseline=false to skip the gate)"
    )
    better = {"test/auc": 0.80, "baseline/test/auc": 0.5, "production/test/auc": 0.79}
    cfg = eval_cfg(require_beat_production=True, min_improvement_over_production=0.02)
    with pytest.raises(BaselineGateError, match=r"^production gate: .* of churn:3 by more than .*=0.02"):
        enforce(gate_results(better, "auc", "test", cfg, "churn:3"))


def planted_segments(n_per_region: int = 200):
    """Perfectly ranked rows in regions a and b; region c's scores are noise; region d is
    bad too but smaller than min_rows."""
    rng = np.random.default_rng(0)
    regions = np.repeat(["a", "b", "c", "d"], [n_per_region, n_per_region, n_per_region, 20])
    y = rng.integers(0, 2, len(regions))
    p = np.clip(0.6 * y + 0.4 * rng.random(len(regions)), 0, 1)
    noisy = np.isin(regions, ["c", "d"])
    p[noisy] = rng.random(noisy.sum())
    # timestamps shuffled over three months, so that no month is made of region c alone
    when = pd.Series(rng.permutation(pd.date_range("2024-01-01", "2024-03-31", periods=len(regions))))
    frame = pd.DataFrame({"region": regions, "when": when, "x": p})
    return y, p, frame


def test_planted_bad_segment_is_flagged_and_written(tmp_path: Path) -> None:
    y, p, frame = planted_segments()
    inputs = EvaluationInputs(
        task="binary",
        classes=["no", "yes"],
        y_true=y,
        scores=np.column_stack([1 - p, p]),
        labels=(p >= 0.5).astype(np.int64),
        frame=frame,
        primary="auc",
        seed=0,
        group_columns=["region"],
        time_column="when",
        references=[Reference("baseline", "priors", np.tile([0.5, 0.5], (len(y), 1)))],
    )
    cfg = eval_cfg(**{"segments.n_bootstrap": 100})
    result = evaluate_predictions(inputs, cfg, tmp_path)
    document = json.loads((tmp_path / "segments.json").read_text())
    assert SegmentsDocument.model_validate(document) == result.segments  # the file is the typed document
    by_name = {(s["column"], s["segment"]): s for s in document["segments"]}
    assert document["flagged"] == ["region=c"]
    assert by_name[("region", "c")]["ci_high"] < document["overall"]
    assert by_name[("region", "d")]["rows"] == 20 and not by_name[("region", "d")]["flagged"]
    assert "min_rows" in by_name[("region", "d")]["note"]
    assert not by_name[("region", "a")]["flagged"] and by_name[("region", "a")]["value"] == 1.0
    months = [s for s in document["segments"] if s["column"] == "when (month)"]
    counts = frame["when"].dt.strftime("%Y-%m").value_counts()
    assert {s["segment"]: s["rows"] for s in months} == counts.to_dict()
    assert sorted(counts.index) == ["2024-01", "2024-02", "2024-03"]
    assert sum(s["rows"] for s in months) == len(y)
    segments_csv = pd.read_csv(tmp_path / "plots" / "segments.csv")
    assert list(segments_csv.columns) == [
        "column",
        "segment",
        "rows",
        "value",
        "ci_low",
        "ci_high",
        "flagged",
    ]
    for png in ("segments_region.png", "segments_when_month.png"):
        assert (tmp_path / "plots" / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = (tmp_path / "report.md").read_text()
    assert "**Flagged:** region=c" in report and "![" in report
    # the same seed gives the same interval
    rows = scored("binary", y, inputs.scores)
    c_rows = rows.subset(np.flatnonzero(frame["region"] == "c"))
    interval = bootstrap_interval("binary", "auc", c_rows, 100, 0.95, seed=0)
    assert interval == (by_name[("region", "c")]["ci_low"], by_name[("region", "c")]["ci_high"])


def test_regression_plots_and_data_files(tmp_path: Path) -> None:
    y = RNG.normal(size=300)
    pred = y + RNG.normal(scale=0.3, size=300)
    inputs = EvaluationInputs(
        "regression",
        None,
        y,
        pred,
        None,
        pd.DataFrame({"x": y}),
        "rmse",
        seed=0,
        references=[Reference("baseline", "mean", np.zeros(300))],
    )
    result = evaluate_predictions(inputs, eval_cfg(max_plot_points=100), tmp_path)
    assert set(result.images.values()) == {"plots/residuals.png", "plots/predicted_vs_actual.png"}
    residuals = pd.read_csv(tmp_path / "plots" / "residuals.csv")
    assert list(residuals.columns) == ["predicted", "residual"] and len(residuals) == 100
    assert list(pd.read_csv(tmp_path / "plots" / "predicted_vs_actual.csv").columns) == [
        "actual",
        "predicted",
    ]
    assert result.metrics["test/rmse"] < result.metrics["baseline/test/rmse"]
    assert [g.passed for g in result.gates] == [True]


@pytest.mark.parametrize("n_classes", [2, 3])
def test_float32_probabilities_are_renormalised_before_scikit_learn(n_classes: int) -> None:
    # a float32 softmax (a network, an ONNX graph) sums to one only within ~1e-7
    rng = np.random.default_rng(3)
    logits = rng.normal(size=(N, n_classes)).astype(np.float32)
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert not np.allclose(proba.astype(np.float64).sum(axis=1), 1.0, rtol=1.5e-8, atol=0)
    y = rng.integers(0, n_classes, N)
    task = "binary" if n_classes == 2 else "multiclass"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # scikit-learn's "y_prob values do not sum to one"
        got = compute_metrics(task, y, proba)
    exact = proba.astype(np.float64) / proba.astype(np.float64).sum(axis=1, keepdims=True)
    assert got["log_loss"] == pytest.approx(skm.log_loss(y, exact), abs=1e-12)


def test_the_threshold_analysis_is_written_under_the_rows_prefix() -> None:
    """evaluation.json keeps its keys: ``test_at_threshold`` (``eval_`` for rows=all)."""
    from tabpipe.evaluation.document import AtThreshold, ThresholdAnalysis
    from tabpipe.evaluation.thresholds import ThresholdChoice

    choice = ThresholdChoice(
        strategy="f1", value=0.4, f1_optimal=0.4, cost_optimal=0.3, cost=CostMatrix(fn=5.0)
    )
    at = AtThreshold(precision=0.5, recall=0.75, f1=0.6, cost=12.0)
    analysis = ThresholdAnalysis(
        prefix="eval", in_use=choice, at_threshold=at, f1_optimal=0.5, cost_optimal=0.2
    )
    written = json.loads(analysis.model_dump_json())
    assert set(written) == {"in_use", "eval_at_threshold", "eval_f1_optimal", "eval_cost_optimal"}
    assert written["in_use"]["cost"]["fn"] == 5.0 and written["eval_at_threshold"]["recall"] == 0.75
    # and read back as written (the multirun summary reads evaluation.json through its model)
    assert ThresholdAnalysis.model_validate_json(analysis.model_dump_json()) == analysis
