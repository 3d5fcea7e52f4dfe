"""task=ranking: the metrics on hand-checked queries, group-aware splits, validation, and
xgb / lgbm runs through export, parity, bundle, registry, batch and online scoring."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score

from helpers import ROOT, cli_env, compose_config
from serving_helpers import serve_config, serving_in_thread
from tabpipe.data.ingestion import ingest
from tabpipe.data.queries import Queries, mean_ndcg
from tabpipe.data.splits import make_splits
from tabpipe.errors import ConfigError, DataValidationError
from tabpipe.evaluation.ranking_metrics import (
    average_precision_per_query,
    compute_ranking_metrics,
    ndcg_per_query,
    ranking_primary_metric,
)

# Four queries; C (all irrelevant) and D (one item) cannot be ranked and are skipped.
#   A: relevance 1 0 1 0 in score order -> AP@2 = 1/2, AP@4 = (1 + 2/3)/2,
#      NDCG@2 = 1 / (1 + 1/log2(3))
#   B: score order puts relevance 1, 0, 2 -> AP@2 = 1/2 (item of relevance 2 is at rank 3),
#      NDCG@2 = (1/log2(2)) / (2/log2(2) + 1/log2(3))
GROUPS = np.array(["A"] * 4 + ["B"] * 3 + ["C"] * 2 + ["D"])
RELEVANCE = np.array([1, 0, 1, 0, 0, 2, 1, 0, 0, 1], dtype=float)
SCORES = np.array([0.9, 0.8, 0.3, 0.1, 0.5, 0.4, 0.6, 0.2, 0.7, 0.3])
LOG2_3 = math.log2(3)


def test_ranking_metrics_on_a_hand_checked_example() -> None:
    metrics = compute_ranking_metrics(RELEVANCE, SCORES, GROUPS, [2, 4])
    ndcg_a, ndcg_b = 1 / (1 + 1 / LOG2_3), 1 / (2 + 1 / LOG2_3)
    assert metrics["ndcg@2"] == pytest.approx((ndcg_a + ndcg_b) / 2, abs=1e-12)
    assert metrics["map@2"] == pytest.approx((0.5 + 0.5) / 2, abs=1e-12)
    # A: hits at ranks 1 and 3 -> (1 + 2/3) / 2; B: hits at ranks 1 and 3 -> (1 + 2/3) / 2
    assert metrics["map@4"] == pytest.approx(5 / 6, abs=1e-12)
    # @4 covers all of B: DCG = 1 + 2/log2(4), IDCG = 2 + 1/log2(3)
    ndcg_b4 = (1 + 2 / 2) / (2 + 1 / LOG2_3)
    ndcg_a4 = (1 + 1 / 2) / (1 + 1 / LOG2_3)
    assert metrics["ndcg@4"] == pytest.approx((ndcg_a4 + ndcg_b4) / 2, abs=1e-12)
    assert len(Queries.of(GROUPS, RELEVANCE)) == 2


def test_ties_share_their_gain_and_ap_breaks_them_by_row_order() -> None:
    relevance, scores, groups = np.array([0.0, 1.0]), np.array([0.5, 0.5]), np.array([0, 0])
    queries = Queries.of(groups, relevance)
    # a tie of a relevant and an irrelevant item: the expected NDCG over both orders
    expected = (1.0 + 1 / math.log2(3)) / 2
    assert ndcg_per_query(relevance, scores, queries, 2)[0] == pytest.approx(expected)
    # AP keeps the input order: the irrelevant item (row 0) is ranked first
    assert average_precision_per_query(relevance, scores, queries, 2)[0] == pytest.approx(0.5)


def test_ap_at_full_depth_equals_scikit_learn_and_padded_ndcg_equals_per_query() -> None:
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(30), rng.integers(2, 40, 30))
    relevance = rng.integers(0, 4, len(groups)).astype(float)
    scores = rng.normal(size=len(groups))
    queries = Queries.of(groups, relevance)
    depth = max(len(rows) for rows in queries.members)
    ours = average_precision_per_query(relevance, scores, queries, depth)
    theirs = [average_precision_score(relevance[rows] > 0, scores[rows]) for rows in queries.members]
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    full = ndcg_per_query(relevance, scores, queries, depth).mean()
    assert mean_ndcg(relevance, scores, queries) == pytest.approx(full, rel=1e-12)


def test_primary_metric_defaults_to_ndcg_at_the_largest_k_and_rejects_others() -> None:
    assert ranking_primary_metric(None, [10, 5]) == "ndcg@10"
    assert ranking_primary_metric("map@5", [5, 10]) == "map@5"
    with pytest.raises(ConfigError, match=r"eval.primary_metric='auc'"):
        ranking_primary_metric("auc", [5, 10])
    with pytest.raises(ConfigError, match=r"eval.ranking_k"):
        ranking_primary_metric(None, [0])


@pytest.mark.parametrize("kind", ["stratified", "kfold"])
def test_splits_keep_every_query_whole(kind: str) -> None:
    cfg = compose_config(["data=telco_cohorts", f"split={kind}", "split.n_folds=4"])
    dataset = ingest(cfg.data)
    assert "tenure" not in dataset.features.columns  # the query id is not a feature
    splits = make_splits(dataset, cfg.split, 0)
    groups = dataset.groups.to_numpy()
    tested = []
    for split in splits:
        parts = [set(groups[split.train]), set(groups[split.val]), set(groups[split.test])]
        assert all(parts) and not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
        tested += list(parts[2])
    if kind == "kfold":  # every query is tested exactly once
        assert sorted(tested) == sorted(set(groups))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["data.group_column=null"], "data.task=ranking: needs data.group_column"),
        (["data.task=binary"], "data.group_column='tenure': a query id makes the task a ranking"),
        (["data.positive_class=null"], "column 'churn' (target): relevance 'No' is not a whole number"),
        (["data.group_column=nope"], "column 'nope' (from data.group_column): missing from the dataset"),
    ],
)
def test_ranking_data_problems_are_one_line_each(overrides: list[str], message: str) -> None:
    cfg = compose_config(["data=telco_cohorts", *overrides])
    with pytest.raises(DataValidationError) as caught:
        ingest(cfg.data)
    assert any(line.startswith(message) for line in caught.value.problems), caught.value.problems


def test_the_baseline_is_the_best_single_feature_and_exports_exactly() -> None:
    from tabpipe.export import runtime
    from tabpipe.export.converters import model_graph
    from tabpipe.models.base import FitData, RunContext
    from tabpipe.models.ranking import SingleFeatureRanker

    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(20), 10)
    relevance = rng.integers(0, 3, len(groups)).astype(float)
    X = rng.normal(size=(len(groups), 4)).astype(np.float32)
    X[:, 2] = -relevance + rng.normal(scale=0.1, size=len(groups))  # the best feature, negated
    data = FitData(X, relevance, X, relevance, "ranking", 0, ["a", "b", "c", "d"], groups_train=groups)
    ranker = SingleFeatureRanker().fit(data, RunContext(0, None, None, Path(".")))
    assert (ranker.feature_, ranker.sign_, ranker.feature_name_) == (2, -1.0, "c")
    session = runtime.session(model_graph(ranker, 4))
    graph_scores = runtime.run(session, {"features": X})["scores"].reshape(-1)
    np.testing.assert_array_equal(graph_scores, ranker.predict(X).astype(np.float32))


def test_models_without_a_ranking_objective_are_refused(train) -> None:
    with pytest.raises(ConfigError, match=r"task=ranking needs a ranking model; use model=xgb"):
        train(["data=telco_cohorts", "model=linear"])


def _check_ranking_run(result, tmp_path: Path) -> None:
    from tabpipe.export.bundle import load_bundle
    from tabpipe.export.registry import Registry
    from tabpipe.serving.app import create_app
    from tabpipe.serving.batch import score_files
    from tabpipe.serving.loaded_model import load_model

    metrics = result.metrics
    for key in ("test/ndcg@5", "test/ndcg@10", "test/map@5", "test/map@10", "val/ndcg@10"):
        assert 0.0 <= metrics[key] <= 1.0
    assert result.primary_metric == "ndcg@10"
    assert metrics["test/ndcg@10"] > metrics["baseline/test/ndcg@10"]  # the gate passed
    assert result.parity[0].passed and result.parity[0].label_agreement == 1.0

    # the evaluation suite: ranking plots, the gate on the ranking primary metric, the report
    evaluation = json.loads((result.output_dir / "evaluation.json").read_text())
    assert [(g["reference"], g["metric"], g["passed"]) for g in evaluation["gates"]] == [
        ("baseline", "test/ndcg@10", True)
    ]
    assert {"plots/ranking_at_k.png", "plots/ranking_per_query.png"} <= set(evaluation["plots"].values())
    assert "## Ranking" in (result.output_dir / "report.md").read_text()

    bundle = load_bundle(result.bundle)
    assert bundle.schema.task == "ranking" and bundle.schema.group_column == "tenure"
    ranker = bundle.metadata.evaluation[0].baseline_ranker
    assert ranker.feature in result.folds[0].preprocessor.feature_names_
    assert [o.name for o in bundle.schema.outputs] == ["score"]
    predictions = pd.read_parquet(result.output_dir / "predictions" / "test.parquet")
    assert {"customer_id", "tenure", "y_true", "y_pred"} <= set(predictions.columns)

    # the registered graph scores raw rows exactly as evaluation did, in batch and online
    registered = Registry(result.registered["root"]).resolve(f"telco_cohorts:{result.registered['version']}")
    raw = pd.read_csv(ROOT / "src/tabpipe/datasets/telco_churn.csv")
    test_rows = raw.set_index("customer_id").loc[predictions["customer_id"]].reset_index()
    test_rows.to_parquet(tmp_path / "rows.parquet")
    model = load_model(str(registered), result.registered["root"], ["CPUExecutionProvider"])
    summary = score_files(
        model, [tmp_path / "rows.parquet"], tmp_path / "scored.parquet", 500, "fail", None, False
    )
    assert summary.rows_scored == len(predictions)
    scored = pd.read_parquet(tmp_path / "scored.parquet")
    assert list(scored.columns) == ["customer_id", "tenure", "score"]
    np.testing.assert_array_equal(
        scored["score"].to_numpy(np.float32), predictions["y_pred"].to_numpy(np.float32)
    )

    records = json.loads(test_rows.head(5).drop(columns=["churn"]).to_json(orient="records"))
    app = create_app(serve_config(str(registered), result.registered["root"]))
    with serving_in_thread(app) as url:
        response = httpx.post(f"{url}/predict", json=records, timeout=30)
    assert response.status_code == 200, response.text
    served = [p["score"] for p in response.json()["predictions"]]
    np.testing.assert_array_equal(np.float32(served), predictions["y_pred"].to_numpy(np.float32)[:5])


def test_xgb_ranking_run_end_to_end(ranking_bundle, tmp_path: Path) -> None:
    result = ranking_bundle.result
    _check_ranking_run(result, tmp_path)
    native = json.loads((result.output_dir / "model" / "model.xgb.json").read_text())
    assert native["learner"]["objective"]["name"] == "rank:ndcg"


@pytest.mark.slow
def test_lgbm_ranking_run_end_to_end(train, tmp_path: Path) -> None:
    result = train(["experiment=churn_ranking", "model.n_estimators=60", "seed=0", "eval.plots=true"])
    _check_ranking_run(result, tmp_path)
    assert "objective=lambdarank" in (result.output_dir / "model" / "model.lgbm.txt").read_text()

    # tabpipe eval re-scores the model and the recorded baseline feature: the same metrics
    out = tmp_path / "eval"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tabpipe.cli.main",
            "eval",
            f"bundle={result.bundle}",
            "rows=test",
            f"output_dir={out}",
        ],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    evaluated = json.loads((out / "metrics.json").read_text())
    keys = [k for k in result.metrics if k.startswith(("test/", "baseline/test/"))]
    assert len(keys) == 8
    assert {k: evaluated[k] for k in keys} == {k: result.metrics[k] for k in keys}  # exactly
    assert (out / "plots" / "ranking_at_k.png").is_file()
