"""``tabpipe stage <name>``: one DVC stage, with the stage functions ``python train.py`` runs.

The config is ``pipeline/config/config.yaml`` (:mod:`.dvc_params`: the composition of conf/,
checked against the schemas; the stage's own dependency file must be its slice); each stage
writes to its fixed
directory (:mod:`.layout`) so that ``dvc.yaml`` can declare it. Trackers are not used here:
DVC records the params, metrics and plots of every stage (``dvc exp show``).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from tabpipe.config.params_file import load_params, params_range_problems
from tabpipe.errors import ConfigError
from tabpipe.pipeline import dvc_params, layout, stage_io
from tabpipe.training import reproducibility, run_metadata, stages

log = logging.getLogger(__name__)


def stage_config(params: Path, output_dir: Path, stage: str | None = None) -> DictConfig:
    """The composition at ``params``, checked (keys, types and ranges, as ``python train.py``
    checks its config; then the stage's dependency file against it) and resolved, with the
    stage's output directory."""
    cfg = load_params(params)
    as_written = OmegaConf.to_container(cfg, resolve=False, enum_to_str=True)
    cfg.paths.output_dir = str(output_dir)
    OmegaConf.resolve(cfg)
    problems = params_range_problems(cfg)
    if problems:
        raise ConfigError("\n".join(f"{params}: {problem}" for problem in problems))
    if stage is not None:
        dvc_params.check_stage_file(as_written, stage, Path(params))
    return cfg


def _ingest(cfg: Any) -> None:
    from tabpipe.data.ingestion import ingest

    dataset = ingest(cfg.data)
    stage_io.save_ingested(dataset)
    log.info("ingest: %d rows x %d columns from %s", *dataset.features.shape, dataset.source.uri)


def _split(cfg: Any) -> None:
    from tabpipe.data.splits import make_splits

    dataset = stage_io.load_dataset(cfg.data)
    splits = make_splits(dataset, cfg.split, cfg.seed)
    stage_io.save_splits(dataset, splits)
    log.info("split: %s", ", ".join(f"{len(s.train)}/{len(s.val)}/{len(s.test)}" for s in splits))


def _train(cfg: Any) -> None:
    from tabpipe.training import export_step

    reproducibility.seed_everything(cfg.seed)
    reproducibility.require_accelerator(str(cfg.trainer.accelerator))
    dataset = stage_io.load_dataset(cfg.data)
    folds = stages.fit_folds(cfg, dataset, stage_io.load_splits(), layout.TRAIN)
    for fold in folds:  # the graphs, to look at; the next stages read folds.joblib
        export_step.write_graph(
            fold, layout.TRAIN / "model" / (f"fold_{fold.fold}" if len(folds) > 1 else "")
        )
    stage_io.save_object(folds, layout.FOLDS)


def _evaluate(cfg: Any) -> None:
    """All metrics go to the suite's run directory; DVC's metrics file (``dvc metrics``,
    ``dvc exp show``) keeps the primary and secondary test metrics only."""
    from tabpipe.evaluation.metrics import headline_metrics, primary_metric
    from tabpipe.io import write_json_atomic

    dataset = stage_io.load_dataset(cfg.data)
    folds = stage_io.load_object(layout.FOLDS, "train")
    primary = primary_metric(dataset.task, cfg.eval.primary_metric, cfg.eval.ranking_k)
    metrics, evaluation = stages.evaluate_folds(cfg, dataset, stage_io.load_splits(), folds, primary)
    names = headline_metrics(dataset.task, primary, cfg.eval.ranking_k)
    write_json_atomic(layout.METRICS, {f"test/{name}": metrics[f"test/{name}"] for name in names})
    stage_io.save_object((metrics, evaluation, primary), layout.EVALUATION)


def _export(cfg: Any) -> None:
    started = time.time()
    dataset = stage_io.load_dataset(cfg.data)
    folds = stage_io.load_object(layout.FOLDS, "train")
    metrics, evaluation, primary = stage_io.load_object(layout.EVALUATION, "evaluate")
    facts = run_metadata.run_facts(cfg, dataset)
    splits = stage_io.load_splits()
    result = stages.export_run(cfg, dataset, splits, folds, metrics, evaluation, primary, started, facts)
    if result.registered:
        log.info("export: registered %s:%s", result.registered["name"], result.registered["version"])


_OUTPUT_DIRS = {
    "ingest": layout.VALIDATED,
    "split": layout.SPLIT,
    "train": layout.TRAIN,
    "evaluate": layout.EVALUATION_RUN,
    "export": layout.EXPORT,
}
_RUNNERS = {"ingest": _ingest, "split": _split, "train": _train, "evaluate": _evaluate, "export": _export}


def run_stage(name: str, params: Path = dvc_params.CONFIG) -> None:
    cfg = stage_config(params, _OUTPUT_DIRS[name], name)
    if not cfg.export.get("onnx", True):  # the train and export stages' outputs are the graph and the bundle
        raise ConfigError("export.onnx=false: the DVC pipeline exports a bundle; set export.onnx=true")
    _RUNNERS[name](cfg)
