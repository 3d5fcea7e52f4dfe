"""A model to compare: a run directory or a bundle (path or registry ref), its graphs and the
rows each graph held out, rebuilt from the config and seed it recorded.

A run directory (``logs/train/runs/<ts>/``) gives ``model/model.onnx`` or, for k-fold,
``model/fold_<k>/model.onnx``: every row is then held out by exactly one fold's graph. A
bundle (``<run>/bundle``, ``name:version``, ``name@alias``) gives its one ``model.onnx``.
The held-out rows are not stored, so they are rebuilt: the recorded data config is ingested
again (the dataset's sha256 must equal the recorded one) and split with the recorded split
config and seed; the split sizes must match ``metadata.json``, and for a run directory the
rebuilt rows must reproduce ``predictions/test.parquet``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from omegaconf import OmegaConf

from tabpipe.comparison.document import CandidateSummary
from tabpipe.config import option_value
from tabpipe.config.schema import DataConfig
from tabpipe.config.typed import from_record
from tabpipe.data.ingestion import Dataset, ingest
from tabpipe.data.sources import LoadedSource
from tabpipe.data.splits import make_splits
from tabpipe.documents.metrics import read_metrics
from tabpipe.errors import ConfigError
from tabpipe.export.documents import MetadataDocument, SchemaDocument
from tabpipe.tasks import get_task


@dataclass
class Candidate:
    ref: str
    kind: str  # "run" or "bundle"
    path: Path
    metadata: MetadataDocument
    metrics: dict[str, float]
    graphs: dict[int, Path]  # fold -> model.onnx
    held_out: dict[int, np.ndarray] = field(default_factory=dict)  # fold -> row positions
    dataset: Dataset | None = None
    # the rows were given by the caller (:func:`given_rows`), not rebuilt from the record
    given: bool = False

    @property
    def label(self) -> str:
        info = self.metadata.registry
        return info.ref if info else str(self.path)

    @property
    def model_name(self) -> str:
        return self.metadata.config.model_class

    @property
    def config(self) -> Any:
        return OmegaConf.create(self.metadata.config.tree())

    def describe(self) -> CandidateSummary:
        return CandidateSummary(
            ref=self.ref,
            label=self.label,
            kind=self.kind,
            path=str(self.path),
            model=self.model_name,
            folds=len(self.graphs),
        )


def _run_graphs(run_dir: Path) -> dict[int, Path]:
    model_dir = run_dir / "model"
    if (model_dir / "model.onnx").is_file():
        return {0: model_dir / "model.onnx"}
    folds = sorted(model_dir.glob("fold_*/model.onnx"), key=lambda p: int(p.parent.name.split("_")[1]))
    return {int(p.parent.name.split("_")[1]): p for p in folds}


def load_candidate(ref: str, registry_root: str | Path | None) -> Candidate:
    """``ref``: a run directory, a bundle directory, ``name:version`` or ``name@alias``."""

    from tabpipe.export import documents
    from tabpipe.export.bundle import load_bundle
    from tabpipe.export.registry import Registry

    path = Path(ref)
    if path.is_dir() and not (path / "manifest.json").is_file():
        if not (path / "metadata.json").is_file() or not (path / "metrics.json").is_file():
            raise ConfigError(f"{ref}: not a run directory (no metadata.json / metrics.json) or a bundle")
        graphs = _run_graphs(path)
        if not graphs:
            raise ConfigError(f"{ref}: the run directory has no model/model.onnx (did the run finish?)")
        metadata = documents.read(MetadataDocument, path / "metadata.json")
        metrics = read_metrics(path / "metrics.json")
        return Candidate(ref, "run", path, metadata, metrics, graphs)
    bundle = load_bundle(Registry(registry_root).resolve(ref))  # checksums verified
    return Candidate(ref, "bundle", bundle.path, bundle.metadata, bundle.metrics, {0: bundle.model_path})


def _data_config(metadata: MetadataDocument) -> DataConfig:
    data_cfg = from_record(metadata.config.data, DataConfig)
    if option_value(data_cfg.source) in ("csv", "parquet"):
        data_cfg.path = metadata.dataset.uri  # the resolved path the run read
    return data_cfg


def rebuild_rows(candidate: Candidate) -> Candidate:
    """Load the recorded dataset and the rows each of ``candidate``'s graphs held out."""
    metadata = candidate.metadata
    dataset = ingest(_data_config(metadata))
    recorded = metadata.dataset.sha256
    if dataset.source.sha256 != recorded:
        raise ConfigError(
            f"{candidate.ref}: dataset {metadata.dataset.uri} changed since training "
            f"(sha256 {dataset.source.sha256[:12]}… != recorded {recorded[:12]}…)"
        )
    config = candidate.config
    splits = make_splits(dataset, config.split, int(config.seed))
    sizes = [(s.train, s.val, s.test) for s in metadata.splits]
    if [(len(s.train), len(s.val), len(s.test)) for s in splits] != sizes:
        raise ConfigError(f"{candidate.ref}: the rebuilt split sizes differ from metadata.json {sizes}")
    if len(splits) != len(candidate.graphs):
        raise ConfigError(f"{candidate.ref}: {len(splits)} recorded folds but {len(candidate.graphs)} graphs")
    candidate.dataset = dataset
    candidate.held_out = {split.fold: split.test for split in splits}
    return candidate


def _bundle_schema(candidate: Candidate) -> SchemaDocument:
    """The candidate's bundle schema (a run directory's ``bundle/``), for its input types."""
    from tabpipe.export import documents

    path = candidate.path if candidate.kind == "bundle" else candidate.path / "bundle"
    if not (path / "schema.json").is_file():
        raise ConfigError(f"{candidate.ref}: no bundle/schema.json (a run that exported no bundle)")
    return documents.read(SchemaDocument, path / "schema.json")


def given_rows(candidate: Candidate, source: LoadedSource) -> Candidate:
    """Every row of ``source`` (a frame the caller gives), read with the candidate's recorded
    data config and its bundle's input types, all scored by its one graph."""
    from tabpipe.evaluation.bundle_evaluation import pinned_data_config

    if len(candidate.graphs) != 1:
        raise ConfigError(
            f"{candidate.ref}: a k-fold run has one graph per fold; compare it on its own held-out "
            "rows (without a frame)"
        )
    recorded = candidate.metadata.config.data
    if recorded is None:
        raise ConfigError(f"{candidate.ref}: metadata.json records no data config to read the frame with")
    data_cfg = pinned_data_config(recorded, _bundle_schema(candidate).input_types)
    candidate.dataset = ingest(data_cfg, source)
    candidate.held_out = {next(iter(candidate.graphs)): np.arange(candidate.dataset.n_rows)}
    candidate.given = True
    return candidate


def check_recorded_predictions(
    candidate: Candidate, scores: dict[int, np.ndarray], tol: float = 1e-6
) -> None:
    """A run directory's ``predictions/test.parquet`` must equal the rebuilt rows' scores."""
    path = candidate.path / "predictions" / "test.parquet"
    if candidate.kind != "run" or candidate.given or not path.is_file():
        return
    recorded = pd.read_parquet(path)
    dataset = candidate.dataset
    ours = np.concatenate([scores[fold] for fold in sorted(scores)])
    if get_task(dataset.task).has_classes:
        theirs = recorded[[f"proba_{c}" for c in dataset.classes]].to_numpy(np.float64)
    else:
        theirs = recorded["y_pred"].to_numpy(np.float64)
    if ours.shape != theirs.shape or not np.allclose(ours, theirs, rtol=tol, atol=tol):
        raise ConfigError(
            f"{candidate.ref}: the rebuilt test rows do not reproduce predictions/test.parquet "
            "(was the data or the code changed since training?)"
        )
