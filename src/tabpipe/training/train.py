"""The training run: ingest -> validate -> split -> fit features -> fit model -> evaluate.

:func:`run_training` is what ``python train.py`` / ``tabpipe train`` execute in-process.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from hydra.errors import InstantiationException
from hydra.utils import get_class, instantiate
from omegaconf import OmegaConf
from tqdm import tqdm

from tabpipe.data.column_schema import save_schema
from tabpipe.data.ingestion import Dataset, ingest
from tabpipe.data.splits import Split, make_splits
from tabpipe.errors import ConfigError
from tabpipe.features.preprocessing import TabularPreprocessor
from tabpipe.models.base import FitData, RunContext
from tabpipe.models.baseline import BaselineModel
from tabpipe.training import evaluate, outputs, reproducibility

log = logging.getLogger(__name__)


@dataclass
class FoldResult:
    fold: int
    metrics: dict[str, float]
    predictions: pd.DataFrame
    model: Any
    preprocessor: TabularPreprocessor


@dataclass
class TrainingResult:
    metrics: dict[str, float]
    primary_metric: str
    output_dir: Path
    folds: list[FoldResult]

    @property
    def objective(self) -> float:
        return self.metrics[f"val/{self.primary_metric}"]


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


def build_loggers(logger_cfg: Any) -> list[Any]:
    loggers = []
    for name, spec in (logger_cfg or {}).items():
        if spec is None:
            continue
        try:
            loggers.append(instantiate(spec))
        except InstantiationException as exc:
            raise ConfigError(f"logger.{name}: {exc}".splitlines()[0]) from exc
    return loggers


def encode_target(dataset: Dataset) -> np.ndarray:
    if dataset.task == "regression":
        return dataset.target.to_numpy(dtype=np.float64)
    index = {label: i for i, label in enumerate(dataset.classes or [])}
    return dataset.target.map(index).to_numpy(dtype=np.int64)


def prediction_frame(dataset: Dataset, rows: np.ndarray, pred: np.ndarray, fold: int) -> pd.DataFrame:
    frame = dataset.ids.iloc[rows].reset_index(drop=True).copy()
    frame["fold"] = fold
    frame["y_true"] = dataset.target.iloc[rows].to_numpy()
    if dataset.task == "regression":
        frame["y_pred"] = pred
        return frame
    classes = np.asarray(dataset.classes, dtype=object)
    frame["y_pred"] = classes[evaluate.predicted_labels(pred)]
    for i, label in enumerate(dataset.classes or []):
        frame[f"proba_{label}"] = pred[:, i]
    return frame


def _prefixed(metrics: dict[str, float], prefix: str) -> dict[str, float]:
    return {f"{prefix}/{name}": value for name, value in metrics.items()}


def fit_fold(
    cfg: Any,
    dataset: Dataset,
    y: np.ndarray,
    split: Split,
    loggers: list[Any],
    output_dir: Path,
    n_folds: int,
) -> FoldResult:
    """Fit the features on train only, then the model and the baseline; score val and test."""
    features = dataset.features
    preprocessor = TabularPreprocessor(cfg.features, dataset.schema, dataset.task, cfg.seed)
    X_train = preprocessor.fit_transform(features.iloc[split.train], y[split.train])
    X_val = preprocessor.transform(features.iloc[split.val])
    X_test = preprocessor.transform(features.iloc[split.test])
    step_prefix = f"fold_{split.fold}/" if n_folds > 1 else ""

    def forward(metrics: dict[str, float], step: int) -> None:
        for logger in loggers:
            logger.log_metrics({step_prefix + k: v for k, v in metrics.items()}, step)

    data = FitData(
        X_train,
        y[split.train],
        X_val,
        y[split.val],
        dataset.task,
        n_classes=len(dataset.classes or []),
        feature_names=preprocessor.feature_names_,
        categorical_slots=preprocessor.categorical_slots_,
        on_metrics=[forward],
    )
    fold_dir = output_dir / f"fold_{split.fold}" if n_folds > 1 else output_dir
    context = RunContext(cfg.seed, cfg.trainer, cfg.callbacks, fold_dir, cfg.get("ckpt_path"))
    model = build_model(cfg.model).fit(data, context)
    baseline = BaselineModel().fit(data, context)
    metrics: dict[str, float] = {}
    for name, X, rows in (("val", X_val, split.val), ("test", X_test, split.test)):
        metrics |= _prefixed(evaluate.compute_metrics(dataset.task, y[rows], model.predict(X)), name)
        metrics |= _prefixed(
            evaluate.compute_metrics(dataset.task, y[rows], baseline.predict(X)), f"baseline/{name}"
        )
    predictions = prediction_frame(dataset, split.test, model.predict(X_test), split.fold)
    return FoldResult(split.fold, metrics, predictions, model, preprocessor)


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


def _write_artifacts(
    cfg: Any,
    dataset: Dataset,
    folds: list[FoldResult],
    splits: list[Split],
    metrics: dict[str, float],
    output_dir: Path,
    started: float,
) -> None:
    for fold in folds:
        model_dir = output_dir / "model" / (f"fold_{fold.fold}" if len(folds) > 1 else "")
        fold.model.save(model_dir)
        outputs.write_preprocessor(fold.preprocessor, model_dir / "preprocessor.joblib")
        outputs.write_json(fold.preprocessor.feature_names_, model_dir / "feature_names.json")
    predictions = pd.concat([fold.predictions for fold in folds], ignore_index=True)
    outputs.write_predictions(predictions, output_dir / "predictions" / "test.parquet")
    save_schema(dataset.schema, output_dir / "schema.json")
    outputs.write_json(dataset.report.as_dict(), output_dir / "validation_report.json")
    outputs.write_json(folds[0].preprocessor.describe(), output_dir / "features.json")
    outputs.write_resolved_config(cfg, output_dir / "config_resolved.yaml")
    metadata = {
        "seed": int(cfg.seed),
        "task": dataset.task,
        "classes": dataset.classes,
        "dataset": {
            "uri": dataset.source.uri,
            "sha256": dataset.source.sha256,
            "n_rows": dataset.report.n_rows,
            "n_columns": dataset.report.n_columns,
        },
        "splits": [
            {"fold": s.fold, "train": len(s.train), "val": len(s.val), "test": len(s.test)} for s in splits
        ],
        "git": reproducibility.git_state(Path(cfg.paths.root_dir)),
        "packages": reproducibility.package_versions(),
        "platform": reproducibility.platform_info(),
        "started_at": datetime.fromtimestamp(started, timezone.utc).isoformat(),
        "duration_s": round(time.time() - started, 3),
    }
    outputs.write_json(metadata, output_dir / "metadata.json")
    outputs.write_json(metrics, output_dir / "metrics.json")


def _log_summary(metrics: dict[str, float], primary: str, n_folds: int) -> None:
    suffix = f" (mean ± std over {n_folds} folds)" if n_folds > 1 else ""
    log.info("test metrics%s:", suffix)
    for key in sorted(k for k in metrics if k.startswith("test/") and not k.endswith("_std")):
        std = metrics.get(f"{key}_std")
        spread = f" ± {std:.4f}" if std is not None else ""
        marker = "  <- primary" if key == f"test/{primary}" else ""
        log.info(
            "  %-18s %.4f%s   (baseline %.4f)%s",
            key,
            metrics[key],
            spread,
            metrics[f"baseline/{key}"],
            marker,
        )


def _check_checkpoint(cfg: Any) -> None:
    ckpt = cfg.get("ckpt_path")
    if not ckpt:
        return
    if "module" not in cfg.model:
        raise ConfigError(f"ckpt_path={ckpt!r}: resuming applies to Lightning models (model=mlp)")
    if not Path(ckpt).is_file():
        raise ConfigError(f"ckpt_path={ckpt!r}: checkpoint file not found")


def run_training(cfg: Any) -> TrainingResult:
    started = time.time()
    output_dir = Path(cfg.paths.output_dir)
    reproducibility.seed_everything(cfg.seed)
    reproducibility.require_accelerator(str(cfg.trainer.accelerator))
    _check_checkpoint(cfg)
    dataset = ingest(cfg.data)
    primary = evaluate.primary_metric(dataset.task, cfg.eval.primary_metric)
    splits = make_splits(dataset, cfg.split, cfg.seed)
    y = encode_target(dataset)
    loggers = build_loggers(cfg.logger)
    status = "failed"
    try:
        folds = [
            fit_fold(cfg, dataset, y, split, loggers, output_dir, len(splits))
            for split in tqdm(splits, desc="folds", unit="fold", disable=len(splits) == 1 or None)
        ]
        metrics = aggregate(folds)
        if not reproducibility.is_rank_zero():
            status = "worker"
            return TrainingResult(metrics, primary, output_dir, folds)
        for logger in loggers:
            logger.log_summary(metrics)
        _write_artifacts(cfg, dataset, folds, splits, metrics, output_dir, started)
        _log_summary(metrics, primary, len(folds))
        log.info("run directory: %s", output_dir)
        status = "finished"
        if cfg.eval.require_beat_baseline:
            evaluate.check_beats_baseline(
                primary,
                metrics[f"test/{primary}"],
                metrics[f"baseline/test/{primary}"],
                cfg.eval.min_improvement,
            )
    finally:
        if status != "worker":
            for logger in loggers:
                logger.finalize(status)
    return TrainingResult(metrics, primary, output_dir, folds)
