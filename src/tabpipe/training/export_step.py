"""After evaluation: write the graph, run the parity gate, build the bundle, register it."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path
from typing import Any

import onnx

from tabpipe.config import is_sweep_trial
from tabpipe.config.schema import TrainConfig
from tabpipe.data.ingestion import Dataset
from tabpipe.data.splits import Split
from tabpipe.documents.metadata import ExportFacts
from tabpipe.evaluation.metrics import primary_metric
from tabpipe.export import OPSET, documents, runtime
from tabpipe.export.assemble import scores_from_outputs
from tabpipe.export.bundle import schema_document, write_bundle
from tabpipe.export.documents import MetadataDocument
from tabpipe.export.inputs import column_types, tensors_from_coerced
from tabpipe.export.parity import ParityResult, check_parity
from tabpipe.export.profile import reference_profile
from tabpipe.export.registry import Registry, check_name
from tabpipe.faults import fault_point
from tabpipe.io import temp_dir, write_atomic
from tabpipe.training import run_metadata
from tabpipe.training.fold import FoldResult

log = logging.getLogger(__name__)


def write_graph(fold: FoldResult, model_dir: Path) -> Path:
    return write_atomic(model_dir / "model.onnx", lambda tmp: onnx.save(fold.graph, str(tmp)))


def parity_check(
    cfg: TrainConfig, dataset: Dataset, split: Split, fold: FoldResult, graph_path: Path
) -> ParityResult:
    """Raw test rows (as a client would send them) through the saved graph."""
    raw = dataset.source.frame.iloc[split.test][list(dataset.schema)].reset_index(drop=True)
    result = check_parity(
        graph_path,
        raw,
        dataset.schema,
        fold.test_scores,
        dataset.task,
        dataset.classes,
        cfg.export.parity_rtol,
        fold.test_label_names(dataset.classes),
    )
    log.info(
        "parity: %d test rows, labels equal on %.2f%%, max |diff| %.3g (native model vs graph %.3g)",
        result.rows,
        100 * result.label_agreement,
        result.max_abs_diff,
        fold.native_max_abs_diff,
    )
    fault_point("train.parity")
    return result


def _metadata_document(
    cfg: TrainConfig,
    fold: FoldResult,
    metadata: dict[str, Any],
    parity: ParityResult,
    providers_used: list[str],
) -> MetadataDocument:
    """The run's metadata with the export facts: opset, parity, providers requested and used."""
    return MetadataDocument.model_validate(
        metadata
        | {
            "export": ExportFacts(
                opset=OPSET,
                parity=parity.as_dict(),
                native_vs_graph_max_abs_diff=fold.native_max_abs_diff,
                providers_requested=list(cfg.export.providers),
                providers_used=providers_used,
            )
        }
    )


def _bundle_documents(
    cfg: TrainConfig,
    dataset: Dataset,
    split: Split,
    fold: FoldResult,
    metrics: dict[str, float],
    metadata: dict[str, Any],
    parity: ParityResult,
) -> dict[str, Any]:
    """The bundle's documents by file name; the reference profile holds the train rows'
    features and the graph's scores on them."""
    session = runtime.session(fold.graph, cfg.export.providers)
    train = dataset.features.iloc[split.train]
    train_scores = scores_from_outputs(
        runtime.run(session, tensors_from_coerced(train, column_types(dataset.schema))), dataset.task
    )
    return {
        "schema.json": schema_document(
            dataset.schema,
            dataset.task,
            dataset.classes,
            list(dataset.ids.columns),
            cfg.data.group_column,
        ),
        "reference_profile.json": reference_profile(
            train, dataset.schema, train_scores, dataset.task, dataset.classes, cfg.export.profile_bins
        ),
        "metrics.json": metrics,
        "metadata.json": _metadata_document(cfg, fold, metadata, parity, session.get_providers()),
    }


def build_bundle(
    cfg: TrainConfig,
    dataset: Dataset,
    split: Split,
    fold: FoldResult,
    run_dir: Path,
    metrics: dict[str, float],
    metadata: dict[str, Any],
    parity: ParityResult,
    native_files: list[Path],
) -> Path:
    """``<run_dir>/bundle``, written in a staging directory then renamed over any old one."""
    bundle_documents = _bundle_documents(cfg, dataset, split, fold, metrics, metadata, parity)
    target = run_dir / "bundle"
    staging = temp_dir(run_dir, ".bundle-")
    try:
        write_bundle(staging / "bundle", fold.graph.SerializeToString(), bundle_documents, native_files)
        if target.exists():
            shutil.rmtree(target)
        (staging / "bundle").rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def registration(cfg: TrainConfig) -> tuple[bool, str]:
    """Whether this run registers its bundle, and why (see ``registry.register``).

    Registering is a deliberate act: a plain single run and ``dvc repro`` register; a sweep
    trial and a debug run (the ``debug=`` presets) never do; a multirun job and a
    ``dvc exp run`` do only with ``registry.register=true``.
    """
    if not cfg.registry.name:
        return False, "registry.name is null"
    if is_sweep_trial(cfg):
        return False, "a sweep trial never registers"
    if cfg.task_name == "debug":  # what debug=fdr|limit|overfit set
        return False, "a debug run (task_name=debug) never registers"
    wanted = cfg.registry.register
    if wanted is not None:
        return bool(wanted), f"registry.register={str(bool(wanted)).lower()}"
    if run_metadata.hydra_job().mode == "MULTIRUN":
        return False, "a multirun job registers only with registry.register=true"
    if os.environ.get("DVC_EXP_BASELINE_REV"):
        return False, "a `dvc exp run` registers only with -S registry.register=true"
    return True, "a single run"


def registration_source(cfg: TrainConfig, run_dir: Path) -> dict[str, Any]:
    """Where a version came from: a run, a multirun job, a sweep's best-params re-run, DVC."""
    if os.environ.get("DVC_STAGE"):
        return {
            "kind": "dvc",
            "stage": os.environ["DVC_STAGE"],
            "experiment": os.environ.get("DVC_EXP_NAME"),
            "baseline_rev": os.environ.get("DVC_EXP_BASELINE_REV"),
            "run_dir": str(run_dir),
        }
    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized():
        return {"kind": "run", "run_dir": str(run_dir)}
    hydra_cfg = HydraConfig.get()
    group = cfg.tracking.group
    experiment = hydra_cfg.runtime.choices.get("experiment")
    if group and experiment == f"{group}_best":  # the file a sweep writes for its best trial
        return {"kind": "sweep", "study": str(group), "experiment": experiment, "run_dir": str(run_dir)}
    if hydra_cfg.mode is not None and hydra_cfg.mode.name == "MULTIRUN":
        return {"kind": "multirun", "job": hydra_cfg.job.num, "run_dir": str(run_dir)}
    return {"kind": "run", "run_dir": str(run_dir)}


def register(cfg: TrainConfig, bundle_dir: Path, run_dir: Path) -> dict[str, Any] | None:
    wanted, why = registration(cfg)
    if not wanted:
        if cfg.registry.name:
            log.info("not registered: %s", why)
        return None
    name = check_name(str(cfg.registry.name), "registry.name")
    registry = Registry(cfg.registry.root)
    task = documents.read(MetadataDocument, bundle_dir / "metadata.json").task
    primary = primary_metric(task, cfg.eval.primary_metric, cfg.eval.ranking_k)
    source = registration_source(cfg, run_dir)
    version = registry.register(name, bundle_dir, str(run_dir), source=source, primary_metric=primary)
    entry: dict[str, Any] = {"name": name, "version": version, "root": str(registry.root)}
    if cfg.registry.alias:
        registry.promote(name, version, cfg.registry.alias, note={"source_run": str(run_dir)})
        entry["alias"] = cfg.registry.alias
    log.info("registered %s:%d in %s (%s)", name, version, registry.root, why)
    return entry
