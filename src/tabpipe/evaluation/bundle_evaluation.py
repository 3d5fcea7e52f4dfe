"""``tabpipe eval``: evaluate a saved bundle on any dataset with its schema.

The data is ingested like training data (same validation and coercion) with the bundle's
input types pinned, scored by the bundle's graph (its ``label`` output carries the bundle's
decision threshold), and evaluated by the same suite as training, against the bundle's own
baseline and the registry's production version. With ``rows=test`` on the training data,
the training run's test split is re-derived from the recorded split config and seed, so
the metrics equal the training-time test metrics exactly.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from omegaconf import DictConfig

from tabpipe.config import option_value
from tabpipe.config.app_schema import EvalAppConfig
from tabpipe.config.schema import DataConfig
from tabpipe.config.typed import as_dict, from_record, to_typed
from tabpipe.data.ingestion import Dataset, ingest
from tabpipe.data.sources import LoadedSource
from tabpipe.documents.metadata import BaselineRanker
from tabpipe.errors import ConfigError
from tabpipe.evaluation.graph_scoring import Scorer, bundle_reference, feature_scorer, graph_scorer
from tabpipe.evaluation.metrics import primary_metric
from tabpipe.evaluation.suite import (
    EvaluationInputs,
    EvaluationResult,
    Reference,
    describe_ranker,
    evaluate_predictions,
)
from tabpipe.evaluation.training_overlap import TrainingOverlap, recorded_split, training_overlap
from tabpipe.export import runtime
from tabpipe.export.bundle import Bundle, load_bundle
from tabpipe.export.documents import EvaluationRecord
from tabpipe.export.registry import Registry
from tabpipe.io import write_atomic, write_json_atomic
from tabpipe.tasks import get_task

log = logging.getLogger(__name__)


def pinned_data_config(given: dict[str, Any], input_types: dict[str, str]) -> DataConfig:
    """``given`` (a data config's values) with ``input_types`` (a bundle's, name -> type)
    pinned, so that the columns are read exactly as in training."""
    pinned = {name: {"type": kind} for name, kind in input_types.items()}
    return from_record({**given, "schema": {**pinned, **(given.get("schema") or {})}}, DataConfig)


def _pinned(given: dict[str, Any], bundle: Bundle) -> DataConfig:
    return pinned_data_config(given, bundle.schema.input_types)


def training_data_config(bundle: Bundle) -> DataConfig | None:
    """The recorded training data config with the bundle's input types pinned (None: none)."""
    recorded = bundle.metadata.config.data
    return _pinned(recorded, bundle) if recorded is not None else None


def data_config(cfg: EvalAppConfig, bundle: Bundle) -> DataConfig:
    """The data config (given, else the bundle's recorded one) with the bundle's input
    types pinned, so the columns are read exactly as in training."""
    if cfg.data is None:
        recorded = training_data_config(bundle)
        if recorded is None:
            raise ConfigError(f"bundle={cfg.bundle}: no recorded data config; pass data=... (e.g. data=csv)")
        return recorded
    given = as_dict(cfg.data, enum_to_str=True)
    return _pinned(given, bundle)


def evaluated_rows(cfg: EvalAppConfig, bundle: Bundle, dataset: Dataset) -> np.ndarray:
    """``rows=test`` (default): the training run's test split; ``rows=all``: every row."""
    if option_value(cfg.rows) == "all":
        return np.arange(dataset.n_rows)
    trained_on = bundle.metadata.dataset.sha256
    if dataset.source.sha256 != trained_on or bundle.metadata.config.split is None:
        raise ConfigError(
            f"rows=test: the data ({dataset.source.uri}, sha256 {dataset.source.sha256[:12]}) is not the "
            f"bundle's training data (sha256 {str(trained_on)[:12]}); use rows=all"
        )
    return recorded_split(bundle, dataset).test


def _bundle_name(bundle: Bundle) -> str:
    info = bundle.metadata.registry
    return info.ref if info else f"bundle {bundle.path}"


def _production(cfg: EvalAppConfig, bundle: Bundle, registry: Registry, raw: Any, task: str, classes: Any):
    info = bundle.metadata.registry
    alias = cfg.eval.production_alias
    if info is None or not alias:
        return None
    version = registry.aliases(info.name).get(str(alias))
    if version is None or version == info.version:
        return None
    path = registry.resolve(f"{info.name}@{alias}")
    return bundle_reference("production", f"{info.name}:{version} (alias {alias})", path, raw, task, classes)


def ranking_baseline(bundle: Bundle, state: BaselineRanker, frame: Any, types: dict[str, str]) -> Reference:
    """The bundle's ranking baseline: its recorded feature (sign included), read from the
    encoded features inside the bundle's graph, as training scored it."""
    features = feature_scorer(bundle.model_path, types)(frame)
    scores = state.sign * features[:, state.feature_index].astype(np.float64)
    return Reference("baseline", describe_ranker(state), scores)


def _references(
    cfg: EvalAppConfig,
    bundle: Bundle,
    registry: Registry,
    record: EvaluationRecord,
    rows: tuple[Any, Any],
    types: dict[str, str],
    task: str,
    classes: list[str],
) -> list[Reference]:
    """The bundle's own baseline (its recorded constant; ranking: its recorded feature) and
    the production version. ``rows``: (raw rows, the same rows coerced to the schema)."""
    raw, frame = rows
    references = []
    if record.baseline_ranker:
        references.append(ranking_baseline(bundle, record.baseline_ranker, frame[list(types)], types))
    if record.baseline_values:
        strategy = get_task(task)
        constant = strategy.baseline_scores(record.baseline_values, len(raw))
        references.append(Reference("baseline", strategy.baseline_description, constant))
    production = _production(cfg, bundle, registry, raw, task, classes)
    return references + ([production] if production is not None else [])


def write_predictions(
    out_dir: Path, dataset: Dataset, rows: np.ndarray, scores, labels, classes, overlap: TrainingOverlap
) -> Path:
    y_true = dataset.target.iloc[rows].to_numpy()
    frame = get_task(dataset.task).prediction_frame(dataset.ids.iloc[rows], y_true, scores, labels, classes)
    if overlap.in_training is not None:
        frame["in_training"] = overlap.in_training
    return write_atomic(out_dir / "predictions.parquet", lambda tmp: frame.to_parquet(tmp, index=False))


@dataclass(frozen=True)
class BundleEvaluation:
    result: EvaluationResult
    overlap: TrainingOverlap


def _dataset(
    cfg: EvalAppConfig, bundle: Bundle, source: LoadedSource | None = None
) -> tuple[DataConfig, Dataset]:
    """The data config (its task checked against the bundle's) and the data ingested with it
    (from ``source`` when the caller holds the rows already)."""
    task = bundle.schema.task
    data_cfg = data_config(cfg, bundle)
    if option_value(data_cfg.task) != task:
        raise ConfigError(f"data.task={option_value(data_cfg.task)}: the bundle was trained for task={task}")
    return data_cfg, ingest(data_cfg, source)


@dataclass
class _ScoredRows:
    """The evaluated rows (positions in the dataset), their encoded target, their feature
    frame (plus the group columns), and the bundle graph's scores and labels on them."""

    rows: np.ndarray
    y: np.ndarray
    frame: pd.DataFrame
    scores: np.ndarray
    labels: np.ndarray | None
    scorer: Scorer


def _score_rows(cfg: EvalAppConfig, bundle: Bundle, dataset: Dataset, data_cfg: DataConfig) -> _ScoredRows:
    task, classes = bundle.schema.task, bundle.schema.class_list
    rows = evaluated_rows(cfg, bundle, dataset)
    y = get_task(task).encode_target(dataset.target, classes)[rows]
    types = bundle.schema.input_types
    scorer = graph_scorer(runtime.session(bundle.model_path, list(cfg.providers)), types, task, classes)
    frame = dataset.features.iloc[rows].reset_index(drop=True)
    for column in data_cfg.group_columns:
        if column not in frame.columns:
            frame[column] = dataset.source.frame[column].iloc[rows].to_numpy()
    scores, labels = scorer(frame[list(types)])
    return _ScoredRows(rows, y, frame, scores, labels, scorer)


def _overlap(bundle: Bundle, dataset: Dataset, rows: np.ndarray) -> TrainingOverlap:
    """Which evaluated rows the bundle was trained on (unknown without a recorded data config)."""
    training_cfg = training_data_config(bundle)
    if training_cfg is None:
        return TrainingOverlap(None, "the bundle records no training data config")
    return training_overlap(bundle, dataset, rows, training_cfg, list(bundle.schema.input_types))


def _inputs(
    cfg: EvalAppConfig,
    bundle: Bundle,
    dataset: Dataset,
    data_cfg: DataConfig,
    scored: _ScoredRows,
    references: list[Reference],
    overlap: TrainingOverlap,
) -> EvaluationInputs:
    """The suite's inputs: the eval config's primary metric, ranking cut-offs and seed,
    else the bundle's recorded ones; the bundle's recorded threshold."""
    task, classes, types = bundle.schema.task, bundle.schema.class_list, bundle.schema.input_types
    record, recorded = bundle.metadata.first_evaluation, bundle.metadata.config
    configured = cfg.eval.primary_metric or recorded.eval.primary_metric
    ranking_k = cfg.eval.ranking_k or recorded.eval.ranking_k
    rows = scored.rows
    return EvaluationInputs(
        task=task,
        classes=classes or None,
        y_true=scored.y,
        scores=scored.scores,
        labels=scored.labels,
        frame=scored.frame,
        primary=primary_metric(task, configured, ranking_k),
        seed=int(cfg.seed if cfg.seed is not None else (recorded.seed or 0)),
        prefix="test" if option_value(cfg.rows) == "test" else "eval",
        title=f"{_bundle_name(bundle)} on {dataset.source.uri}",
        group_columns=list(data_cfg.group_columns),
        time_column=data_cfg.time_column,
        groups=dataset.groups.iloc[rows].to_numpy() if get_task(task).needs_groups else None,
        ranking_k=None if ranking_k is None else list(ranking_k),
        threshold=record.threshold,
        references=references,
        scorer=scored.scorer,
        input_columns=list(types),
        notes=[f"bundle {bundle.path}; rows={option_value(cfg.rows)} ({len(rows)} rows)", overlap.note()],
        model_is_baseline=recorded.model_class == "BaselineModel",
    )


def evaluate_bundle(
    composed: EvalAppConfig | DictConfig, source: LoadedSource | None = None
) -> BundleEvaluation:
    """``tabpipe eval`` on its config (typed here if it is still the composed one). ``source``:
    rows the caller holds (the Python API's frame), read with the data config in place of
    its source (the bundle's recorded one unless ``data`` is given)."""
    cfg = to_typed(composed, EvalAppConfig)
    registry = Registry(cfg.registry_root)
    bundle = load_bundle(registry.resolve(str(cfg.bundle)))
    task, classes = bundle.schema.task, bundle.schema.class_list
    data_cfg, dataset = _dataset(cfg, bundle, source)
    scored = _score_rows(cfg, bundle, dataset, data_cfg)
    overlap = _overlap(bundle, dataset, scored.rows)
    raw = dataset.source.frame.iloc[scored.rows].reset_index(drop=True)
    record, types = bundle.metadata.first_evaluation, bundle.schema.input_types
    references = _references(cfg, bundle, registry, record, (raw, scored.frame), types, task, classes)
    inputs = _inputs(cfg, bundle, dataset, data_cfg, scored, references, overlap)
    out_dir = Path(cfg.output_dir)
    result = evaluate_predictions(inputs, cfg.eval, out_dir)
    write_json_atomic(out_dir / "metrics.json", result.metrics)
    write_predictions(out_dir, dataset, scored.rows, scored.scores, scored.labels, classes, overlap)
    log.info("evaluation written to %s", out_dir)
    return BundleEvaluation(result, overlap)
