"""task=ranking in the evaluation suite: evaluation.metrics routes ndcg@k / map@k, the suite
draws ranking plots (and none of the classification ones), segments rank per query and
resample queries, the baseline gate uses the ranking primary metric, permutation importance
keeps whole queries, and monitoring tracks the ranking score."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf

from helpers import compose_config
from tabpipe.data.queries import Queries, mean_ndcg
from tabpipe.errors import BaselineGateError, ConfigError
from tabpipe.evaluation.gates import enforce
from tabpipe.evaluation.importance import sample_rows
from tabpipe.evaluation.metrics import compute_metrics, metric_names, metric_value, primary_metric, scored
from tabpipe.evaluation.ranking_metrics import compute_ranking_metrics, ndcg_per_query
from tabpipe.evaluation.segments import bootstrap_interval
from tabpipe.evaluation.suite import EvaluationInputs, Reference, evaluate_predictions

# the hand-checked queries of test_ranking.py: A and B are ranked, C (all 0) and D (one item) not
GROUPS = np.array(["A"] * 4 + ["B"] * 3 + ["C"] * 2 + ["D"])
RELEVANCE = np.array([1, 0, 1, 0, 0, 2, 1, 0, 0, 1], dtype=float)
SCORES = np.array([0.9, 0.8, 0.3, 0.1, 0.5, 0.4, 0.6, 0.2, 0.7, 0.3])
LOG2_3 = math.log2(3)
PNG = b"\x89PNG\r\n\x1a\n"


def eval_cfg(**overrides):
    cfg = compose_config([]).eval
    for key, value in overrides.items():
        OmegaConf.update(cfg, key, value)
    return cfg


def test_evaluation_metrics_route_ranking_by_cutoff() -> None:
    metrics = compute_metrics("ranking", RELEVANCE, SCORES, groups=GROUPS, ranking_k=[4, 2])
    assert list(metrics) == ["ndcg@2", "ndcg@4", "map@2", "map@4"] == metric_names("ranking", [2, 4])
    assert metrics == compute_ranking_metrics(RELEVANCE, SCORES, GROUPS, [2, 4])
    assert metrics["ndcg@2"] == pytest.approx((1 / (1 + 1 / LOG2_3) + 1 / (2 + 1 / LOG2_3)) / 2, abs=1e-12)
    assert metrics["map@4"] == pytest.approx(5 / 6, abs=1e-12)
    assert metric_names("ranking") == ["ndcg@5", "ndcg@10", "map@5", "map@10"]
    # one query's subset is that query alone; no ranked query is NaN for one value ...
    rows = scored("ranking", RELEVANCE, SCORES, groups=GROUPS)
    only_a = rows.subset(np.flatnonzero(GROUPS == "A"))
    assert metric_value("ranking", "map@2", only_a) == pytest.approx(0.5)
    assert math.isnan(metric_value("ranking", "ndcg@2", rows.subset(np.flatnonzero(GROUPS == "C"))))
    # ... and an error for a whole evaluation
    with pytest.raises(ConfigError, match=r"^task=ranking: no query in these rows has two items"):
        compute_metrics("ranking", RELEVANCE[7:], SCORES[7:], groups=GROUPS[7:])
    with pytest.raises(ConfigError, match=r"^task=ranking: ranking metrics need the query id"):
        scored("ranking", RELEVANCE, SCORES)


def test_ranking_primary_metric_and_direction() -> None:
    assert primary_metric("ranking", None) == "ndcg@10"
    assert primary_metric("ranking", None, [3, 7]) == "ndcg@7"
    assert primary_metric("ranking", "map@3", [3, 7]) == "map@3"
    with pytest.raises(ConfigError, match=r"^eval.primary_metric='auc': not a ranking metric"):
        primary_metric("ranking", "auc", [3, 7])
    with pytest.raises(ConfigError, match=r"^eval.ranking_k=\[\]"):
        primary_metric("ranking", None, [])
    with pytest.raises(ConfigError, match=r"not a binary metric"):
        primary_metric("binary", "ndcg@10")


def test_padded_ndcg_at_k_equals_the_per_query_mean() -> None:
    rng = np.random.default_rng(3)
    groups = np.repeat(np.arange(25), rng.integers(2, 30, 25))
    relevance = rng.integers(0, 4, len(groups)).astype(float)
    scores = np.round(rng.normal(size=len(groups)), 1)  # ties
    queries = Queries.of(groups, relevance)
    for k in (1, 3, 10, 40):
        expected = ndcg_per_query(relevance, scores, queries, k).mean()
        assert mean_ndcg(relevance, scores, queries, k) == pytest.approx(expected, rel=1e-12)


def ranking_rows(n_queries: int = 40, seed: int = 0):
    """Queries of 8-15 items; the model scores the relevance plus noise, except in region
    'bad', where its scores are reversed; region 'tiny' covers 3 queries."""
    rng = np.random.default_rng(seed)
    groups = np.repeat(np.arange(n_queries), rng.integers(8, 16, n_queries))
    y = rng.integers(0, 3, len(groups)).astype(float)
    regions = rng.choice(["good", "fine", "bad"], len(groups))
    regions[np.isin(groups, [0, 1, 2])] = "tiny"
    scores = y + rng.normal(scale=0.8, size=len(groups))
    scores[regions == "bad"] = -scores[regions == "bad"]
    frame = pd.DataFrame({"region": regions, "x": scores, "noise": rng.normal(size=len(groups))})
    return y, scores, groups, frame


def test_suite_on_ranking_plots_segments_report_and_gate(tmp_path: Path) -> None:
    y, scores, groups, frame = ranking_rows()
    baseline = np.zeros(len(y)) + np.random.default_rng(1).normal(size=len(y))
    inputs = EvaluationInputs(
        task="ranking",
        classes=None,
        y_true=y,
        scores=scores,
        labels=None,
        frame=frame,
        primary="ndcg@5",
        seed=0,
        group_columns=["region"],
        groups=groups,
        ranking_k=[3, 5],
        references=[Reference("baseline", "a random feature", baseline)],
        scorer=lambda f: (f["x"].to_numpy(np.float64), None),
        input_columns=["x", "noise"],
    )
    cfg = eval_cfg(**{"segments.n_bootstrap": 100, "segments.min_rows": 10, "importance.max_rows": 200})
    result = evaluate_predictions(inputs, cfg, tmp_path)
    assert set(result.metrics) == {
        f"{who}test/{name}" for who in ("", "baseline/") for name in ("ndcg@3", "ndcg@5", "map@3", "map@5")
    }
    assert [(g.reference, g.metric, g.passed) for g in result.gates] == [("baseline", "test/ndcg@5", True)]
    assert set(result.images.values()) == {
        "plots/ranking_at_k.png",
        "plots/ranking_per_query.png",
        "plots/importance_permutation.png",
        "plots/segments_region.png",
    }
    for image in result.images.values():
        data = (tmp_path / image).read_bytes()
        assert data[:8] == PNG and len(data) > 5000, image
    at_k = pd.read_csv(tmp_path / "plots" / "ranking_at_k.csv")
    assert list(at_k.columns) == ["k", "ndcg", "map", "baseline_ndcg", "baseline_map"]
    assert at_k["k"].tolist() == [1, 2, 3, 4, 5]
    assert at_k.loc[at_k["k"] == 5, "ndcg"].item() == pytest.approx(result.metrics["test/ndcg@5"], rel=1e-12)
    assert at_k.loc[at_k["k"] == 3, "baseline_map"].item() == pytest.approx(
        result.metrics["baseline/test/map@3"], rel=1e-12
    )
    per_query = pd.read_csv(tmp_path / "plots" / "ranking_per_query.csv")
    assert list(per_query.columns) == ["query", "items", "value"] and len(per_query) == 40
    assert per_query["value"].mean() == pytest.approx(result.metrics["test/ndcg@5"], rel=1e-12)
    importance = pd.read_csv(tmp_path / "plots" / "importance_permutation.csv")
    assert importance["column"].tolist()[0] == "x" and importance["importance_mean"].iloc[-1] == 0.0

    segments = json.loads((tmp_path / "segments.json").read_text())
    by_name = {s["segment"]: s for s in segments["segments"]}
    assert segments["resampled_unit"] == "query" and segments["min_queries"] == 5
    assert segments["flagged"] == ["region=bad"]
    assert by_name["bad"]["ci_high"] < segments["overall"] and by_name["bad"]["queries"] >= 30
    assert by_name["tiny"]["queries"] == 3 and not by_name["tiny"]["flagged"]
    assert "min_queries=5" in by_name["tiny"]["note"] and by_name["tiny"]["ci_low"] is None

    summary = json.loads((tmp_path / "evaluation.json").read_text())
    assert summary["threshold"] is None and summary["ranking"] == {"queries": 40, "ranked_queries": 40}
    report = (tmp_path / "report.md").read_text()
    assert "## Ranking" in report and "40 of 40 queries ranked" in report
    assert "Not drawn for ranking: the confusion matrix, ROC" in report
    assert "## Decision threshold" not in report and "| queries |" in report
    assert not any((tmp_path / "plots" / name).exists() for name in ("confusion.csv", "roc.csv", "pr.csv"))

    # the bootstrap resamples queries: the same seed gives the segment's interval
    rows = scored("ranking", y, scores, groups=groups)
    bad = rows.subset(np.flatnonzero(frame["region"] == "bad"))
    interval = bootstrap_interval("ranking", "ndcg@5", bad, 100, 0.95, seed=0)
    assert interval == (by_name["bad"]["ci_low"], by_name["bad"]["ci_high"])

    # a baseline that ranks perfectly fails the gate on the ranking primary metric
    inputs.references = [Reference("baseline", "the relevance itself", y.copy())]
    inputs.scorer = None
    gated = evaluate_predictions(inputs, eval_cfg(plots=False, **{"segments.enabled": False}), tmp_path / "g")
    with pytest.raises(BaselineGateError, match=r"^baseline gate: test/ndcg@5=.* baseline/test/ndcg@5=1 "):
        enforce(gated.gates)


def test_permutation_sampling_keeps_whole_queries() -> None:
    groups = np.repeat(np.arange(50), 10)
    rng = np.random.default_rng(0)
    keep = sample_rows(len(groups), 95, rng, groups)
    assert len(keep) == 90 and np.all(np.diff(keep) > 0)
    assert all((groups == g).sum() == (groups[keep] == g).sum() for g in np.unique(groups[keep]))
    assert len(sample_rows(len(groups), 5, rng, groups)) == 10  # at least one whole query
    assert len(sample_rows(len(groups), 95, rng, None)) == 95


def test_monitoring_tracks_the_ranking_score() -> None:
    from tabpipe.documents.prediction_log import LoggedOutput
    from tabpipe.export.profile import reference_profile
    from tabpipe.monitoring.compare import Thresholds
    from tabpipe.monitoring.current_data import _prediction_frame, prediction_columns
    from tabpipe.monitoring.predictions import compare_predictions

    rng = np.random.default_rng(0)
    profile = reference_profile(pd.DataFrame(index=range(2000)), {}, rng.normal(size=2000), "ranking", None)
    logged = _prediction_frame([LoggedOutput(score=float(v)) for v in rng.normal(loc=2.0, size=500)])
    assert list(logged.columns) == ["score"]
    assert prediction_columns(pd.DataFrame(columns=["x", "score"]), {"x"}) == ["score"]
    (result,) = compare_predictions(profile.prediction, logged, "ranking", [], Thresholds())
    assert (result.name, result.kind, result.test) == ("score", "prediction", "ks")
    assert result.psi > 1.0 and result.p_value < 1e-10
    (same,) = compare_predictions(
        profile.prediction, pd.DataFrame({"score": rng.normal(size=500)}), "ranking", [], Thresholds()
    )
    assert same.psi < 0.1
