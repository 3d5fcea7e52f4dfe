"""Fit one train/val/test partition: features on train only, the model, the baseline.

Apply-time features come from the compiled ONNX feature graph, so the model trains on the
float32 values that serving computes; only target-encoded train columns keep their
cross-fitted values. Evaluation runs the assembled graph on the raw split rows; a search
run (``export.onnx=false``, sweep trials) scores with the native model on those features.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import onnx
import pandas as pd
from hydra.utils import get_class
from omegaconf import OmegaConf

from tabpipe import __version__
from tabpipe.data.ingestion import Dataset
from tabpipe.data.splits import Split
from tabpipe.errors import ConfigError
from tabpipe.evaluation.metrics import CLASSIFICATION, compute_metrics, predicted_labels, prefixed
from tabpipe.evaluation.thresholds import ThresholdChoice, choose_threshold
from tabpipe.export import OPSET, runtime
from tabpipe.export.assemble import assemble, scores_from_outputs, set_threshold
from tabpipe.export.converters import model_graph
from tabpipe.export.feature_graph import FEATURES, build_feature_graph
from tabpipe.export.inputs import column_types, tensors_from_coerced
from tabpipe.features.preprocessing import TabularPreprocessor
from tabpipe.models.base import FitData, RunContext
from tabpipe.models.baseline import BaselineModel
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
    baseline_ranker: dict[str, Any] | None = None

    def test_label_names(self, classes: list[str] | None) -> np.ndarray | None:
        if self.test_labels is None:
            return None
        return np.asarray(classes, dtype=object)[self.test_labels]


def build_model(model_cfg: Any) -> Any:
    """Instantiate the configured model class with its parameters (imported lazily)."""
    params = OmegaConf.to_container(model_cfg, resolve=True)
    target = params.pop("_target_")
    try:
        cls = get_class(target)
    except (ImportError, ValueError) as exc:
        raise ConfigError(f"model._target_={target!r}: cannot import ({exc})") from exc
    try:
        return cls(**params)
    except TypeError as exc:
        raise ConfigError(f"model ({target}): {exc}") from exc


def model_name(model_cfg: Any) -> str:
    target = str(model_cfg._target_)
    if "module" in model_cfg:
        target = str(model_cfg.module.get("_target_", target))
    return target.rsplit(".", 1)[-1]


def graph_metadata(dataset: Dataset, model_cfg: Any) -> dict[str, object]:
    return {
        "tabpipe_version": __version__,
        "model_name": model_name(model_cfg),
        "task": dataset.task,
        "classes": dataset.classes or [],
        "opset": OPSET,
        "input_schema": {name: spec.type for name, spec in dataset.schema.items()},
    }


def prediction_frame(
    dataset: Dataset, rows: np.ndarray, scores: np.ndarray, labels: np.ndarray | None, fold: int
) -> pd.DataFrame:
    frame = dataset.ids.iloc[rows].reset_index(drop=True).copy()
    frame["fold"] = fold
    frame["y_true"] = dataset.target.iloc[rows].to_numpy()
    if dataset.task in ("regression", "ranking"):
        frame["y_pred"] = scores
        return frame
    classes = np.asarray(dataset.classes, dtype=object)
    frame["y_pred"] = classes[labels]
    for i, label in enumerate(dataset.classes or []):
        frame[f"proba_{label}"] = scores[:, i]
    return frame


def fit_fold(
    cfg: Any, dataset: Dataset, y: np.ndarray, split: Split, context: RunContext, on_metrics: list
) -> FoldResult:
    features, types = dataset.features, column_types(dataset.schema)
    preprocessor = TabularPreprocessor(cfg.features, dataset.schema, dataset.task, cfg.seed)
    cross_fitted = preprocessor.fit_transform(features.iloc[split.train], y[split.train])
    feature_graph = build_feature_graph(preprocessor)
    feature_session = runtime.session(feature_graph)

    def feeds(rows: np.ndarray) -> dict[str, np.ndarray]:
        return tensors_from_coerced(features.iloc[rows], types)

    def graph_features(rows: np.ndarray) -> np.ndarray:
        return runtime.run(feature_session, feeds(rows))[FEATURES]

    X_train = graph_features(split.train)
    for block in preprocessor.target_encoded_slices():
        X_train[:, block] = cross_fitted[:, block]  # out-of-fold on train, by design
    X_val, X_test = graph_features(split.val), graph_features(split.test)
    data = FitData(
        X_train,
        y[split.train],
        X_val,
        y[split.val],
        dataset.task,
        n_classes=len(dataset.classes or []),
        feature_names=preprocessor.feature_names_,
        categorical_slots=preprocessor.categorical_slots_,
        on_metrics=on_metrics,
        **ranking_fit_data(dataset, split, cfg.eval),
    )
    model = check_supports_task(build_model(cfg.model), dataset.task).fit(data, context)
    baseline = BaselineModel().fit(data, context)
    parts = (("val", split.val, X_val), ("test", split.test, X_test))
    graph = None
    if cfg.export.get("onnx", True):  # scored by the assembled graph on the raw rows, as serving will
        graph = assemble(
            feature_graph,
            model_graph(model, X_train.shape[1]),
            dataset.task,
            dataset.classes,
            graph_metadata(dataset, cfg.model),
        )
        session = runtime.session(graph)
        scores = {
            name: scores_from_outputs(runtime.run(session, feeds(rows)), dataset.task)
            for name, rows, _ in parts
        }
    else:  # a search run: the native model on the graph-computed features
        scores = {name: model.predict(X) for name, _, X in parts}
    threshold = None
    if dataset.task == "binary":  # chosen on val, never on test; the graph's label applies it
        threshold = choose_threshold(cfg.eval.threshold, y[split.val], scores["val"][:, 1])
        if graph is not None:
            set_threshold(graph, threshold.value)
    metrics: dict[str, float] = {}
    labels: dict[str, np.ndarray | None] = {}
    baseline_scores: dict[str, np.ndarray] = {}
    groups = dataset.groups.to_numpy() if dataset.task == "ranking" else None

    def rows_metrics(rows: np.ndarray, values: np.ndarray, labels_: np.ndarray | None) -> dict[str, float]:
        query_ids = None if groups is None else groups[rows]
        ranking_k, bins = cfg.eval.ranking_k, cfg.eval.calibration_bins
        return compute_metrics(dataset.task, y[rows], values, labels_, bins, query_ids, ranking_k)

    for name, rows, X in parts:
        if dataset.task in CLASSIFICATION:
            labels[name] = predicted_labels(scores[name], threshold.value if threshold else None)
        metrics |= prefixed(rows_metrics(rows, scores[name], labels.get(name)), name)
        baseline_scores[name] = baseline.predict(X)
        metrics |= prefixed(rows_metrics(rows, baseline_scores[name], None), f"baseline/{name}")
    native = model.predict(X_test) if graph is not None else None
    predictions = prediction_frame(dataset, split.test, scores["test"], labels.get("test"), split.fold)
    return FoldResult(
        split.fold,
        metrics,
        predictions,
        model,
        preprocessor,
        graph,
        scores["test"],
        None if native is None else float(np.max(np.abs(native - scores["test"]), initial=0.0)),
        labels.get("test"),
        threshold,
        None if dataset.task == "ranking" else [float(v) for v in np.ravel(baseline_scores["test"][:1])],
        baseline_scores["test"],
        baseline.ranker_state(),
    )
