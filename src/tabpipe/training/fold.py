"""Fit one train/val/test partition: features on train only, the model, the baseline.

Apply-time features come from the compiled ONNX feature graph, so the model trains on the
float32 values that serving computes; only target-encoded train columns keep their
cross-fitted values. Evaluation runs the assembled graph on the raw split rows; a search
run (``export.onnx=false``, sweep trials) scores with the native model on those features.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import onnx
import pandas as pd

from tabpipe import __version__
from tabpipe.config.construct import build
from tabpipe.config.schema import ModelConfig, TrainConfig
from tabpipe.data.ingestion import Dataset
from tabpipe.data.splits import Split
from tabpipe.documents.metadata import BaselineRanker
from tabpipe.evaluation.metrics import compute_metrics, predicted_labels, prefixed
from tabpipe.evaluation.thresholds import ThresholdChoice, choose_threshold
from tabpipe.export import OPSET, runtime
from tabpipe.export.assemble import assemble, set_threshold
from tabpipe.export.converters import model_graph
from tabpipe.export.feature_graph import FEATURES, build_feature_graph
from tabpipe.export.inputs import column_types, tensors_from_coerced
from tabpipe.features.preprocessing import TabularPreprocessor
from tabpipe.models.base import FitData, RunContext
from tabpipe.models.baseline import BaselineModel
from tabpipe.tasks import get_task
from tabpipe.training.ranking_fit import check_supports_task, ranking_fit_data


@dataclass
class FoldResult:
    fold: int
    metrics: dict[str, float]
    predictions: pd.DataFrame
    model: Any
    preprocessor: TabularPreprocessor
    graph: onnx.ModelProto | None  # None: export.onnx=false (scored natively)
    test_scores: np.ndarray
    native_max_abs_diff: float | None
    # class indices the graph outputs on the test rows (binary: after the threshold)
    test_labels: np.ndarray | None = None
    threshold: ThresholdChoice | None = None
    # the baseline's constant output: class priors [K] or the train mean [1]
    baseline_values: list[float] | None = None
    # the baseline's scores of the test rows (ranking: its best single feature's values)
    baseline_test_scores: np.ndarray | None = None
    # task=ranking: the baseline's feature (index into the encoded features, name, sign)
    baseline_ranker: BaselineRanker | None = None

    def test_label_names(self, classes: list[str] | None) -> np.ndarray | None:
        if self.test_labels is None:
            return None
        return np.asarray(classes, dtype=object)[self.test_labels]


def build_model(model_cfg: ModelConfig) -> Any:
    """The configured model: its ``_target_`` class (imported lazily) with the other keys as
    parameters, through :func:`tabpipe.config.construct.build` like every component."""
    return build(model_cfg, "model")


def model_name(model_cfg: ModelConfig) -> str:
    target = str(model_cfg._target_)
    if hasattr(model_cfg, "module"):
        target = str(model_cfg.module.get("_target_", target))
    return target.rsplit(".", 1)[-1]


def graph_metadata(dataset: Dataset, model_cfg: ModelConfig) -> dict[str, object]:
    return {
        "tabpipe_version": __version__,
        "model_name": model_name(model_cfg),
        "task": dataset.task,
        "classes": dataset.classes or [],
        "opset": OPSET,
        "input_schema": {name: spec.type for name, spec in dataset.schema.items()},
    }


@dataclass
class Featurized:
    """The features of one split: the preprocessor fitted on train, its compiled graph, and
    the float32 values of train (target-encoded blocks cross-fitted), val and test."""

    preprocessor: TabularPreprocessor
    graph: onnx.ModelProto
    feeds: Callable[[np.ndarray], dict[str, np.ndarray]]  # raw rows -> graph inputs
    X: dict[str, np.ndarray]  # "train", "val", "test"


@dataclass
class Scores:
    """What the model outputs on val and test (by the assembled graph, or natively), the
    assembled graph (None: a search run), the labels and the decision threshold."""

    values: dict[str, np.ndarray]
    graph: onnx.ModelProto | None
    labels: dict[str, np.ndarray | None]
    threshold: ThresholdChoice | None


def featurize(cfg: TrainConfig, dataset: Dataset, y: np.ndarray, split: Split) -> Featurized:
    """Fit the features on train only; every split's values come from the compiled graph
    (the float32 code serving runs), except train's out-of-fold target encoding."""
    features, types = dataset.features, column_types(dataset.schema)
    preprocessor = TabularPreprocessor(cfg.features, dataset.schema, dataset.task, cfg.seed)
    cross_fitted = preprocessor.fit_transform(features.iloc[split.train], y[split.train])
    feature_graph = build_feature_graph(preprocessor)
    feature_session = runtime.session(feature_graph)

    def feeds(rows: np.ndarray) -> dict[str, np.ndarray]:
        return tensors_from_coerced(features.iloc[rows], types)

    X = {
        name: runtime.run(feature_session, feeds(rows))[FEATURES] for name, rows in split_rows(split).items()
    }
    for block in preprocessor.target_encoded_slices():
        X["train"][:, block] = cross_fitted[:, block]  # out-of-fold on train, by design
    return Featurized(preprocessor, feature_graph, feeds, X)


def split_rows(split: Split) -> dict[str, np.ndarray]:
    return {"train": split.train, "val": split.val, "test": split.test}


def fit_models(
    cfg: TrainConfig,
    dataset: Dataset,
    y: np.ndarray,
    split: Split,
    featurized: Featurized,
    context: RunContext,
    on_metrics: list,
) -> tuple[Any, BaselineModel]:
    """The configured model and the baseline, fitted on the train features (early stopping on val)."""
    data = FitData(
        featurized.X["train"],
        y[split.train],
        featurized.X["val"],
        y[split.val],
        dataset.task,
        n_classes=len(dataset.classes or []),
        feature_names=featurized.preprocessor.feature_names_,
        categorical_slots=featurized.preprocessor.categorical_slots_,
        on_metrics=on_metrics,
        **ranking_fit_data(dataset, split, cfg.eval),
    )
    model = check_supports_task(build_model(cfg.model), dataset.task).fit(data, context)
    return model, BaselineModel().fit(data, context)


def score_splits(
    cfg: TrainConfig, dataset: Dataset, y: np.ndarray, split: Split, featurized: Featurized, model: Any
) -> Scores:
    """Val and test scored by the assembled graph on the raw rows, as serving will (a search
    run, ``export.onnx=false``: the native model on the graph-computed features); the
    decision threshold (binary) is chosen on val, never on test, and set in the graph."""
    task = get_task(dataset.task)
    graph = None
    if cfg.export.onnx:
        scores_graph = model_graph(model, featurized.X["train"].shape[1])
        metadata = graph_metadata(dataset, cfg.model)
        graph = assemble(featurized.graph, scores_graph, dataset.task, dataset.classes, metadata)
        session = runtime.session(graph)
        values = {
            name: task.scores_from_outputs(runtime.run(session, featurized.feeds(rows)))
            for name, rows in (("val", split.val), ("test", split.test))
        }
    else:
        values = {name: model.predict(featurized.X[name]) for name in ("val", "test")}
    threshold = None
    if task.decision_threshold:
        threshold = choose_threshold(cfg.eval.threshold, y[split.val], values["val"][:, 1])
        if graph is not None:
            set_threshold(graph, threshold.value)
    labels: dict[str, np.ndarray | None] = {name: None for name in values}
    if task.has_classes:
        labels = {
            name: predicted_labels(v, threshold.value if threshold else None) for name, v in values.items()
        }
    return Scores(values, graph, labels, threshold)


def fold_metrics(
    cfg: TrainConfig,
    dataset: Dataset,
    y: np.ndarray,
    split: Split,
    scores: Scores,
    baseline_scores: dict[str, np.ndarray],
) -> dict[str, float]:
    """The model's and the baseline's metrics on val and test (``val/auc``, ``baseline/test/auc``)."""
    groups = dataset.groups.to_numpy() if get_task(dataset.task).needs_groups else None

    def rows_metrics(rows: np.ndarray, values: np.ndarray, labels: np.ndarray | None) -> dict[str, float]:
        query_ids = None if groups is None else groups[rows]
        ranking_k, bins = cfg.eval.ranking_k, cfg.eval.calibration_bins
        return compute_metrics(dataset.task, y[rows], values, labels, bins, query_ids, ranking_k)

    metrics: dict[str, float] = {}
    for name, rows in (("val", split.val), ("test", split.test)):
        metrics |= prefixed(rows_metrics(rows, scores.values[name], scores.labels[name]), name)
        metrics |= prefixed(rows_metrics(rows, baseline_scores[name], None), f"baseline/{name}")
    return metrics


def fit_fold(
    cfg: TrainConfig, dataset: Dataset, y: np.ndarray, split: Split, context: RunContext, on_metrics: list
) -> FoldResult:
    """Featurize, fit, score one split."""
    task = get_task(dataset.task)
    featurized = featurize(cfg, dataset, y, split)
    model, baseline = fit_models(cfg, dataset, y, split, featurized, context, on_metrics)
    scores = score_splits(cfg, dataset, y, split, featurized, model)
    baseline_scores = {name: baseline.predict(featurized.X[name]) for name in ("val", "test")}
    test = scores.values["test"]
    native = model.predict(featurized.X["test"]) if scores.graph is not None else None
    ids = dataset.ids.iloc[split.test]
    y_true = dataset.target.iloc[split.test].to_numpy()
    return FoldResult(
        split.fold,
        fold_metrics(cfg, dataset, y, split, scores, baseline_scores),
        task.prediction_frame(ids, y_true, test, scores.labels["test"], dataset.classes, split.fold),
        model,
        featurized.preprocessor,
        scores.graph,
        test,
        None if native is None else float(np.max(np.abs(native - test), initial=0.0)),
        scores.labels["test"],
        scores.threshold,
        task.baseline_values(baseline_scores["test"]),
        baseline_scores["test"],
        _ranker(baseline.ranker_state()),
    )


def _ranker(state: dict[str, Any] | None) -> BaselineRanker | None:
    """The ranking baseline's state as the bundle records it (None for a constant baseline)."""
    return BaselineRanker.model_validate(state) if state is not None else None
