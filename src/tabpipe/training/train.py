"""The training run: ingest -> validate -> split -> fit features -> fit model -> evaluate
-> export (one ONNX graph, parity gate) -> bundle -> registry.

:func:`run_training` is what ``python train.py`` / ``tabpipe train`` execute in-process.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig

from tabpipe.config.schema import OptunaTrialConfig, SplitKind, TrainConfig
from tabpipe.config.typed import as_dict, to_typed
from tabpipe.data.dataset_cache import ingest_once, splits_once
from tabpipe.data.ingestion import Dataset
from tabpipe.data.splits import Split
from tabpipe.distributed import is_rank_zero
from tabpipe.errors import ConfigError, error_line
from tabpipe.evaluation.metrics import primary_metric
from tabpipe.faults import fault_point
from tabpipe.io import remove_stale_run_debris
from tabpipe.tracking.fault_tolerant import FaultTolerantLogger
from tabpipe.training import reproducibility, run_metadata, run_summary, stages
from tabpipe.training.stages import TrainingResult

log = logging.getLogger(__name__)

# cfg -> the per-step metric loggers of a sweep trial; the caller (the CLI, inside a trial
# job) passes tuning's, so training never imports tuning
TrialLoggers = Callable[[OptunaTrialConfig, str], list[Any]]


def build_loggers(logger_cfg: dict[str, Any]) -> list[FaultTolerantLogger]:
    """One logger per ``logger.<name>`` spec; a backend that fails later only warns."""
    loggers = []
    for name, spec in (logger_cfg or {}).items():
        if spec is None:
            continue
        try:
            loggers.append(FaultTolerantLogger(name, instantiate(spec)))
        except InstantiationException as exc:
            raise ConfigError(f"logger.{name}: {error_line(exc)}") from exc
    return loggers


def _check_checkpoint(cfg: TrainConfig) -> None:
    ckpt = cfg.ckpt_path
    if not ckpt:
        return
    if not hasattr(cfg.model, "module"):
        raise ConfigError(f"ckpt_path={ckpt!r}: resuming applies to Lightning models (model=mlp)")
    if cfg.split.kind != SplitKind.kfold:
        if not Path(ckpt).is_file():
            raise ConfigError(f"ckpt_path={ckpt!r}: checkpoint file not found")
        return
    for fold in range(cfg.split.n_folds):  # split=kfold: each fold resumes from its own file
        own = stages.fold_checkpoint(ckpt, fold)
        if not Path(own).is_file():
            raise ConfigError(
                f"ckpt_path={ckpt!r}: split=kfold resumes fold {fold} from its own checkpoint "
                f"{own}, not found (give the <run>/checkpoints/last.ckpt of a k-fold run)"
            )


def _prepare(cfg: TrainConfig, output_dir: Path) -> None:
    """Before any data is read: a killed run's debris removed, seeds set, the accelerator
    and the checkpoint checked."""
    for path in remove_stale_run_debris(output_dir):  # left by killed runs
        log.info("removed stale debris of a killed run: %s", path)
    reproducibility.seed_everything(cfg.seed)
    reproducibility.require_accelerator(str(cfg.trainer.accelerator))
    _check_checkpoint(cfg)


def _data(cfg: TrainConfig, say: Callable[..., None]) -> tuple[Dataset, str, list[Split]]:
    """(the validated dataset, its primary metric, its splits), each announced."""
    say("loading and validating data: %s", cfg.data.name or cfg.data.path or "")
    fault_point("train.ingest")
    dataset = ingest_once(cfg.data)  # a sweep's trials validate an unchanged source once
    say("%s", run_summary.data_line(dataset, cfg.data.name))
    primary = primary_metric(dataset.task, cfg.eval.primary_metric, cfg.eval.ranking_k)
    splits = splits_once(dataset, cfg.split, cfg.seed)
    say("%s", run_summary.split_line(splits, cfg.split.kind))
    return dataset, primary, splits


def _trackers(
    cfg: TrainConfig, trial_loggers: TrialLoggers | None
) -> tuple[list[FaultTolerantLogger], list[Any]]:
    """(the run's loggers, a sweep trial's loggers): none but on rank zero."""
    # DDP worker processes run this function too: only rank zero tracks the run
    rank_zero = is_rank_zero()
    loggers = build_loggers(cfg.logger) if rank_zero else []
    # in a sweep trial, per-step metrics also go to the Optuna trial, which may prune (its
    # TrialPruned must reach the sweeper, so it is not behind the fault-tolerant wrapper)
    trials = (
        trial_loggers(cfg.optuna, cfg.paths.output_dir) if rank_zero and trial_loggers is not None else []
    )
    return loggers, trials


def _stages(
    cfg: TrainConfig,
    dataset: Dataset,
    splits: list[Split],
    primary: str,
    loggers: list[FaultTolerantLogger],
    trials: list[Any],
    facts: dict[str, Any],
    started: float,
) -> tuple[TrainingResult, str]:
    """Fit, evaluate and export, tracked: (the result, ``worker`` on a DDP worker else
    ``finished``)."""
    say, output_dir = run_summary.announcer(cfg), Path(cfg.paths.output_dir)
    for logger in loggers:
        logger.log_config(as_dict(cfg) | facts)
    forwarders = [_forwarder([*loggers, *trials], prefix) for prefix in _prefixes(splits)]
    folds = stages.fit_folds(cfg, dataset, splits, output_dir, forwarders, say)
    if not is_rank_zero():
        return TrainingResult(stages.aggregate(folds), primary, output_dir, folds), "worker"
    say("evaluating on the test split%s", "s" if len(splits) > 1 else "")
    fault_point("train.evaluate")
    metrics, evaluation = stages.evaluate_folds(cfg, dataset, splits, folds, primary)
    for logger in loggers:
        logger.log_summary(metrics)
    result = stages.export_run(cfg, dataset, splits, folds, metrics, evaluation, primary, started, facts)
    if result.bundle is not None:
        for logger in loggers:
            logger.log_artifact(result.bundle, str(cfg.registry.name or "model"), "model")
    log.info("run directory: %s", output_dir)
    return result, "finished"


def _finalize(output_dir: Path, loggers: list[FaultTolerantLogger], trials: list[Any], status: str) -> None:
    """The run's plots to its loggers, then every logger and trial closed with ``status``."""
    plots = sorted((output_dir / "plots").glob("*.png"))
    for logger in loggers:
        logger.log_plots(plots)
        logger.finalize(status)
    for trial in trials:
        trial.finalize(status)


def run_training(
    composed: TrainConfig | DictConfig, trial_loggers: TrialLoggers | None = None
) -> TrainingResult:
    """Every stage in one process: ingest -> split -> train -> evaluate -> export. The DVC
    pipeline (``dvc.yaml``, ``tabpipe stage <name>``) runs the same stage functions, one
    process per stage, with their inputs and outputs on disk.

    This is the boundary: a composed ``DictConfig`` (``python train.py``, an in-process
    caller) becomes a typed :class:`TrainConfig` here, once; every stage reads attributes.

    ``trial_loggers`` (a sweep trial: :func:`tabpipe.tuning.trial_logger.trial_loggers`) is
    called with the ``optuna`` config and the run directory once the data is split, on rank
    zero only; its loggers get every per-step metric and may prune the trial."""
    cfg = to_typed(composed, TrainConfig)
    started = time.time()
    output_dir = Path(cfg.paths.output_dir)
    _prepare(cfg, output_dir)
    dataset, primary, splits = _data(cfg, run_summary.announcer(cfg))
    loggers, trials = _trackers(cfg, trial_loggers)
    facts = run_metadata.run_facts(cfg, dataset)
    status = "failed"
    try:
        result, status = _stages(cfg, dataset, splits, primary, loggers, trials, facts, started)
        return result
    finally:
        if status != "worker":
            _finalize(output_dir, loggers, trials, status)


def _prefixes(splits: list[Split]) -> list[str]:
    """Per-step metric names: plain for one split, ``fold_<k>/`` per fold of k-fold."""
    return [f"fold_{split.fold}/" if len(splits) > 1 else "" for split in splits]


def _forwarder(loggers: list[Any], prefix: str):
    def forward(metrics: dict[str, float], step: int) -> None:
        for logger in loggers:
            logger.log_metrics({prefix + k: v for k, v in metrics.items()}, step)

    return forward
