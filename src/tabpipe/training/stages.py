"""The stages after the split: train (fit every fold), evaluate, export.

``python train.py`` calls them one after another in one process (:mod:`.train`); the DVC
pipeline calls the same functions one stage per process (:mod:`tabpipe.pipeline`), with
their inputs and outputs on disk. There is one implementation of each.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from tabpipe.config import is_sweep_trial
from tabpipe.config.schema import TrainConfig
from tabpipe.data.column_schema import save_schema
from tabpipe.data.ingestion import Dataset
from tabpipe.data.splits import Split
from tabpipe.evaluation.gates import enforce
from tabpipe.evaluation.metric_table import metric_table
from tabpipe.evaluation.suite import EvaluationResult
from tabpipe.export.parity import ParityResult, require_parity
from tabpipe.faults import fault_point
from tabpipe.models.base import RunContext
from tabpipe.tasks import get_task
from tabpipe.training import evaluation_step, export_step, outputs, run_metadata, run_summary
from tabpipe.training.fold import FoldResult, fit_fold, model_name

log = logging.getLogger(__name__)


@dataclass
class TrainingResult:
    metrics: dict[str, float]
    primary_metric: str
    output_dir: Path
    folds: list[FoldResult]
    parity: list[ParityResult] = field(default_factory=list)
    bundle: Path | None = None
    registered: dict[str, Any] | None = None

    @property
    def objective(self) -> float:
        return self.metrics[f"val/{self.primary_metric}"]


def aggregate(folds: list[FoldResult]) -> dict[str, float]:
    """One split: its metrics. K folds: mean (the plain key), ``_std`` and per-fold keys."""
    if len(folds) == 1:
        return dict(folds[0].metrics)
    out: dict[str, float] = {}
    for key in folds[0].metrics:
        values = np.array([fold.metrics[key] for fold in folds])
        out[key], out[f"{key}_std"] = float(values.mean()), float(values.std(ddof=1))
    for fold in folds:
        out |= {f"fold_{fold.fold}/{key}": value for key, value in fold.metrics.items()}
    return out


def fold_callbacks(callbacks: dict[str, Any], fold: int) -> dict[str, Any]:
    """The ``callbacks`` group for k-fold fold ``fold``: each callback with a ``dirpath``
    (ModelCheckpoint) writes into its own ``fold_<k>`` subfolder of it, so no fold restores,
    versions or overwrites another fold's checkpoints (``last.ckpt`` included)."""
    out: dict[str, Any] = {}
    for name, spec in (callbacks or {}).items():
        if isinstance(spec, Mapping) and spec.get("dirpath"):
            spec = {**spec, "dirpath": str(Path(spec["dirpath"]) / f"fold_{fold}")}
        out[name] = spec
    return out


def fold_checkpoint(ckpt_path: str | None, fold: int) -> str | None:
    """What fold ``fold`` of a k-fold run resumes from: ``<dir>/fold_<k>/<name>`` for
    ``ckpt_path=<dir>/<name>``, the fold's own file that :func:`fold_callbacks` wrote."""
    if not ckpt_path:
        return None
    path = Path(ckpt_path)
    return str(path.parent / f"fold_{fold}" / path.name)


def fit_folds(
    cfg: TrainConfig,
    dataset: Dataset,
    splits: list[Split],
    output_dir: Path,
    on_metrics: list[Callable[[dict[str, float], int], None]] | None = None,
    say: Callable[..., None] = log.info,
) -> list[FoldResult]:
    """The train stage: features, model and baseline for every split (one per k-fold fold).
    ``on_metrics[i]`` receives split ``i``'s per-epoch / per-round metrics; ``say`` gets
    what is being done and the fitted model's line."""
    y = get_task(dataset.task).encode_target(dataset.target, dataset.classes)
    folds = []
    kfold = len(splits) > 1
    name = model_name(cfg.model)
    for i, split in enumerate(tqdm(splits, desc="folds", unit="fold", disable=not kfold or None)):
        fold_dir = output_dir / f"fold_{split.fold}" if kfold else output_dir
        callbacks = fold_callbacks(cfg.callbacks, split.fold) if kfold else cfg.callbacks
        ckpt = fold_checkpoint(cfg.ckpt_path, split.fold) if kfold else cfg.ckpt_path
        context = RunContext(cfg.seed, cfg.trainer, callbacks, fold_dir, ckpt)
        forward = [on_metrics[i]] if on_metrics else []
        where = f"fold {split.fold}: " if kfold else ""
        say("%sfitting features on %d train rows, then %s", where, len(split.train), name)
        fault_point("train.fit")
        folds.append(fit_fold(cfg, dataset, y, split, context, forward))
        say("%s", run_summary.model_line(folds[-1].model, name, split.fold if kfold else None))
    return folds


def evaluate_folds(
    cfg: TrainConfig, dataset: Dataset, splits: list[Split], folds: list[FoldResult], primary: str
) -> tuple[dict[str, float], EvaluationResult]:
    """The evaluate stage: the fold metrics aggregated, then the evaluation suite (plots,
    segments, references, report) written to ``cfg.paths.output_dir``."""
    metrics = aggregate(folds)
    y = get_task(dataset.task).encode_target(dataset.target, dataset.classes)
    evaluation = evaluation_step.evaluate_run(cfg, dataset, y, splits, folds, metrics, primary)
    metrics |= {key: value for key, value in evaluation.metrics.items() if key not in metrics}
    outputs.write_json(metrics, Path(cfg.paths.output_dir) / "metrics.json")
    # a sweep trial shows no test results while tuning: the sweeper logs its one line with
    # the validation objective (tabpipe.tuning.sweep.OptunaSweep._tell)
    if not is_sweep_trial(cfg):
        _log_summary(metrics, primary, len(folds))
    return metrics, evaluation


def export_run(
    cfg: TrainConfig,
    dataset: Dataset,
    splits: list[Split],
    folds: list[FoldResult],
    metrics: dict[str, float],
    evaluation: EvaluationResult,
    primary: str,
    started: float,
    facts: dict[str, Any],
) -> TrainingResult:
    """The export stage: the run's artifacts and metadata, the parity and evaluation gates,
    then (single split) the bundle and its registration."""
    output_dir = Path(cfg.paths.output_dir)
    metadata = run_metadata.build(cfg, dataset, splits, started, facts)
    metadata["evaluation"] = [evaluation_step.evaluation_record(fold, evaluation) for fold in folds]
    parity, native = _write_artifacts(cfg, dataset, folds, splits, metrics, output_dir, metadata, started)
    result = TrainingResult(metrics, primary, output_dir, folds, parity)
    for check in parity:
        require_parity(check)
    enforce(evaluation.gates)
    if not cfg.export.onnx:
        log.info("export.onnx=false: a search run (no graph, parity gate, bundle or registry entry)")
    elif len(folds) == 1:
        result.bundle = export_step.build_bundle(
            cfg, dataset, splits[0], folds[0], output_dir, metrics, metadata, parity[0], native[0]
        )
        run_metadata.write(metadata, output_dir, metrics, started)  # now with the bundle's files
        result.registered = export_step.register(cfg, result.bundle, output_dir)
    else:
        log.info(
            "k-fold runs estimate performance: each fold's graph is in model/fold_<k>/; "
            "train with split=stratified or split=temporal for a registered bundle"
        )
    return result


def _write_artifacts(
    cfg: TrainConfig,
    dataset: Dataset,
    folds: list[FoldResult],
    splits: list[Split],
    metrics: dict[str, float],
    output_dir: Path,
    metadata: dict[str, Any],
    started: float,
) -> tuple[list[ParityResult], list[list[Path]]]:
    parity, native = [], []
    for fold, split in zip(folds, splits, strict=True):
        if fold.graph is None:
            continue
        model_dir = output_dir / "model" / (f"fold_{fold.fold}" if len(folds) > 1 else "")
        native.append(fold.model.save(model_dir))
        outputs.write_preprocessor(fold.preprocessor, model_dir / "preprocessor.joblib")
        outputs.write_json(fold.preprocessor.feature_names_, model_dir / "feature_names.json")
        graph_path = export_step.write_graph(fold, model_dir)
        parity.append(export_step.parity_check(cfg, dataset, split, fold, graph_path))
    predictions = pd.concat([fold.predictions for fold in folds], ignore_index=True)
    outputs.write_predictions(predictions, output_dir / "predictions" / "test.parquet")
    save_schema(dataset.schema, output_dir / "schema.json")
    outputs.write_json(dataset.report.as_dict(), output_dir / "validation_report.json")
    outputs.write_json(folds[0].preprocessor.describe(), output_dir / "features.json")
    outputs.write_resolved_config(cfg, output_dir / "config_resolved.yaml")
    metadata["parity"] = [result.as_dict() for result in parity]
    outputs.write_json(metrics, output_dir / "metrics.json")
    run_metadata.write(metadata, output_dir, metrics, started)
    return parity, native


def _log_summary(metrics: dict[str, float], primary: str, n_folds: int) -> None:
    for line in metric_table(metrics, primary, "test", n_folds):
        log.info("%s", line)
