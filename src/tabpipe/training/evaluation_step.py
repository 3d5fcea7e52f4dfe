"""After the folds are fitted: run the evaluation suite on the test predictions (plots,
segments, references, report) and record what the bundle needs (threshold, baseline)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tabpipe.config.schema import DataConfig, TrainConfig
from tabpipe.data.ingestion import Dataset
from tabpipe.data.splits import Split
from tabpipe.evaluation.graph_scoring import Scorer, bundle_reference, graph_scorer
from tabpipe.evaluation.importance import native_importance
from tabpipe.evaluation.suite import (
    EvaluationInputs,
    EvaluationResult,
    Reference,
    describe_ranker,
    evaluate_predictions,
)
from tabpipe.export import runtime
from tabpipe.export.inputs import column_types
from tabpipe.export.registry import Registry, check_name
from tabpipe.tasks import get_task
from tabpipe.training.fold import FoldResult, model_name


def segment_frame(dataset: Dataset, rows: np.ndarray, data_cfg: DataConfig) -> pd.DataFrame:
    """The rows' feature columns, plus group columns that are not features (dropped ones)."""
    frame = dataset.features.iloc[rows].reset_index(drop=True)
    for column in data_cfg.group_columns:
        if column not in frame.columns:
            frame[column] = dataset.source.frame[column].iloc[rows].to_numpy()
    return frame


def baseline_reference(dataset: Dataset, folds: list[FoldResult]) -> Reference:
    scores = np.concatenate([fold.baseline_test_scores for fold in folds])
    rankers = sorted({describe_ranker(fold.baseline_ranker) for fold in folds if fold.baseline_ranker})
    task = get_task(dataset.task)
    if rankers:  # the baseline is a feature (task=ranking): name the ones the folds chose
        return Reference("baseline", "; ".join(rankers), scores)
    return Reference("baseline", task.baseline_description, task.model_output(scores))


def production_reference(cfg: TrainConfig, dataset: Dataset, rows: np.ndarray) -> Reference | None:
    """The registry's ``eval.production_alias`` version of ``registry.name``, if there is one."""
    name, alias = cfg.registry.name, cfg.eval.production_alias
    if not name or not alias:
        return None
    registry = Registry(cfg.registry.root)
    version = registry.aliases(check_name(str(name), "registry.name")).get(str(alias))
    if version is None:
        return None
    raw = dataset.source.frame.iloc[rows].reset_index(drop=True)
    return bundle_reference(
        "production",
        f"{name}:{version} (alias {alias})",
        registry.resolve(f"{name}@{alias}"),
        raw,
        dataset.task,
        dataset.classes,
    )


def _references(
    cfg: TrainConfig, dataset: Dataset, folds: list[FoldResult], rows: np.ndarray
) -> list[Reference]:
    """The run's baseline, then the registry's production version when there is one."""
    references = [baseline_reference(dataset, folds)]
    production = production_reference(cfg, dataset, rows)
    if production is not None:
        references.append(production)
    return references


def _notes(folds: list[FoldResult]) -> list[str]:
    if len(folds) == 1:
        return []
    return [
        f"{len(folds)}-fold run: plots and segments pool the out-of-fold test predictions (each fold "
        "with its own threshold); the metrics table shows the fold means; feature importance needs a "
        "single split."
    ]


def _single_split_scorer(dataset: Dataset, folds: list[FoldResult], types: dict[str, str]) -> Scorer | None:
    """The fold's graph as the permutation importance's scorer (one split with a graph only)."""
    if len(folds) == 1 and folds[0].graph is not None:
        return graph_scorer(runtime.session(folds[0].graph), types, dataset.task, dataset.classes)
    return None


def evaluate_run(
    cfg: TrainConfig,
    dataset: Dataset,
    y: np.ndarray,
    splits: list[Split],
    folds: list[FoldResult],
    metrics: dict[str, float],
    primary: str,
) -> EvaluationResult:
    rows = np.concatenate([split.test for split in splits])
    single = len(folds) == 1
    references = _references(cfg, dataset, folds, rows)
    task = get_task(dataset.task)
    labels = np.concatenate([f.test_labels for f in folds]) if task.has_classes else None
    types = column_types(dataset.schema)
    inputs = EvaluationInputs(
        task=dataset.task,
        classes=dataset.classes,
        y_true=y[rows],
        scores=np.concatenate([fold.test_scores for fold in folds]),
        labels=labels,
        frame=segment_frame(dataset, rows, cfg.data),
        primary=primary,
        seed=int(cfg.seed),
        prefix="test",
        title=f"{model_name(cfg.model)} on {dataset.source.uri}",
        group_columns=list(cfg.data.group_columns),
        time_column=cfg.data.time_column,
        groups=dataset.groups.iloc[rows].to_numpy() if task.needs_groups else None,
        ranking_k=list(cfg.eval.ranking_k),
        threshold=folds[0].threshold if single else None,
        references=references,
        scorer=_single_split_scorer(dataset, folds, types),
        input_columns=list(types),
        native_importance=native_importance(folds[0].model, folds[0].preprocessor.feature_names_)
        if single
        else None,
        known_metrics={k: v for k, v in metrics.items() if k.startswith(("test/", "baseline/test/"))},
        notes=_notes(folds),
        model_is_baseline=model_name(cfg.model) == "BaselineModel",
    )
    return evaluate_predictions(inputs, cfg.eval, cfg.paths.output_dir)


def importance_record(result: EvaluationResult) -> dict[str, Any] | None:
    """The run's importance tables as the bundle records them (None: none was measured)."""
    tables = result.importance
    if not tables:
        return None
    record: dict[str, Any] = {"metric": result.document.primary_metric}
    permutation = tables.get("permutation")
    if permutation is not None:
        record["permutation"] = [
            {
                "feature": str(row.column),
                "importance": float(row.importance_mean),
                "std": float(row.importance_std),
            }
            for row in permutation.itertuples()
        ]
    native = tables.get("native")
    if native is not None:
        record["native"] = [
            {"feature": str(row.feature), "importance": float(row.importance)} for row in native.itertuples()
        ]
    return record


def evaluation_record(fold: FoldResult, result: EvaluationResult) -> dict[str, Any]:
    """What the bundle keeps: the decision threshold, the baseline's constant (ranking: its
    feature, which ``tabpipe eval`` re-scores), the gates, the feature importance."""
    record = {
        "threshold": fold.threshold,
        "baseline_values": fold.baseline_values,
        "gates": list(result.gates),
    }
    if fold.baseline_ranker is not None:
        record["baseline_ranker"] = fold.baseline_ranker
    importance = importance_record(result)
    if importance is not None:
        record["importance"] = importance
    return record
