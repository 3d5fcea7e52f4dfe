"""After evaluation: write the graph, run the parity gate, build the bundle, register it."""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

import onnx

from tabpipe.data.ingestion import Dataset
from tabpipe.data.splits import Split
from tabpipe.export import OPSET, runtime
from tabpipe.export.assemble import scores_from_outputs
from tabpipe.export.bundle import schema_document, write_bundle
from tabpipe.export.inputs import column_types, tensors_from_coerced
from tabpipe.export.parity import ParityResult, check_parity
from tabpipe.export.profile import reference_profile
from tabpipe.export.registry import Registry, check_name
from tabpipe.io import write_atomic
from tabpipe.training.fold import FoldResult

log = logging.getLogger(__name__)


def write_graph(fold: FoldResult, model_dir: Path) -> Path:
    return write_atomic(model_dir / "model.onnx", lambda tmp: onnx.save(fold.graph, str(tmp)))


def parity_check(
    cfg: Any, dataset: Dataset, split: Split, fold: FoldResult, graph_path: Path
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
    return result


def build_bundle(
    cfg: Any,
    dataset: Dataset,
    split: Split,
    fold: FoldResult,
    run_dir: Path,
    metrics: dict[str, float],
    metadata: dict[str, Any],
    parity: ParityResult,
    native_files: list[Path],
) -> Path:
    session = runtime.session(fold.graph, cfg.export.providers)
    train = dataset.features.iloc[split.train]
    train_scores = scores_from_outputs(
        runtime.run(session, tensors_from_coerced(train, column_types(dataset.schema))), dataset.task
    )
    documents = {
        "schema.json": schema_document(
            dataset.schema,
            dataset.task,
            dataset.classes,
            list(dataset.ids.columns),
            cfg.data.get("group_column"),
        ),
        "reference_profile.json": reference_profile(
            train, dataset.schema, train_scores, dataset.task, dataset.classes, cfg.export.profile_bins
        ),
        "metrics.json": metrics,
        "metadata.json": metadata
        | {
            "export": {
                "opset": OPSET,
                "parity": parity.as_dict(),
                "native_vs_graph_max_abs_diff": fold.native_max_abs_diff,
                "providers_requested": list(cfg.export.providers),
                "providers_used": session.get_providers(),
            }
        },
    }
    target = run_dir / "bundle"
    staging = Path(tempfile.mkdtemp(prefix=".bundle-", dir=run_dir))
    try:
        write_bundle(staging / "bundle", fold.graph.SerializeToString(), documents, native_files)
        if target.exists():
            shutil.rmtree(target)
        (staging / "bundle").rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def register(cfg: Any, bundle_dir: Path, run_dir: Path) -> dict[str, Any] | None:
    name = cfg.registry.name
    if not name:
        return None
    registry = Registry(cfg.registry.root)
    version = registry.register(check_name(str(name), "registry.name"), bundle_dir, str(run_dir))
    entry: dict[str, Any] = {"name": name, "version": version, "root": str(registry.root)}
    if cfg.registry.alias:
        registry.promote(name, version, cfg.registry.alias, note={"source_run": str(run_dir)})
        entry["alias"] = cfg.registry.alias
    log.info("registered %s:%d in %s", name, version, registry.root)
    return entry
