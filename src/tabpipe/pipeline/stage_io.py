"""What one DVC stage hands to the next, on disk.

ingest -> ``data/raw/`` (the raw bytes, DVC-tracked) and ``data/validated/`` (a Parquet
snapshot of the validated source, its schema, validation report and source identity);
split -> ``data/split/{train,val,test}.parquet`` (the rows, with ``_row`` and ``_fold``);
train -> ``pipeline/train/folds.joblib`` (the fitted folds) and their graphs; evaluate ->
``pipeline/evaluate/`` (metrics.json, the suite's run directory, its result).
Each file is written to a temporary path and renamed.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ValidationError

from tabpipe.config.schema import DataConfig
from tabpipe.data.column_schema import save_schema
from tabpipe.data.ingestion import Dataset, ingest
from tabpipe.data.sources import LoadedSource
from tabpipe.data.splits import Split
from tabpipe.documents.base import one_line
from tabpipe.errors import ConfigError
from tabpipe.io import write_atomic, write_json_atomic
from tabpipe.pipeline import layout

ROW, FOLD = "_row", "_fold"


class SourceRecord(BaseModel):
    """``source.json`` of the ingest stage: where the data came from and the sha256 of its bytes."""

    uri: str
    sha256: str
    raw_copy: str | None = None


def _require(path: Path, stage: str) -> Path:
    if not path.exists():
        raise ConfigError(f"{path}: missing; run the {stage} stage first (dvc repro)")
    return path


def save_ingested(dataset: Dataset) -> None:
    """The raw source's bytes (or, for an in-memory source, its CSV) and the snapshot."""
    source = Path(dataset.source.uri)
    if source.is_file():
        raw = layout.RAW / source.name
        write_atomic(raw, lambda tmp: shutil.copyfile(source, tmp))
    else:  # e.g. sklearn://iris
        raw = layout.RAW / f"{dataset.source.uri.split('://')[-1]}.csv"
        write_atomic(raw, lambda tmp: dataset.source.frame.to_csv(tmp, index=False))
    write_atomic(layout.SNAPSHOT, lambda tmp: dataset.source.frame.to_parquet(tmp, index=False))
    save_schema(dataset.schema, layout.VALIDATED / "schema.json")
    write_json_atomic(layout.VALIDATED / "validation_report.json", dataset.report.as_dict())
    record = SourceRecord(uri=dataset.source.uri, sha256=dataset.source.sha256, raw_copy=str(raw))
    write_json_atomic(layout.SOURCE, record.model_dump())


def load_dataset(data_cfg: DataConfig) -> Dataset:
    """The ingest stage's snapshot, validated again by the same function (no re-read of the
    raw source: the stage's output is what DVC versioned)."""
    frame = pd.read_parquet(_require(layout.SNAPSHOT, "ingest"))
    path = _require(layout.SOURCE, "ingest")
    try:
        source = SourceRecord.model_validate_json(path.read_text())
    except ValidationError as exc:
        raise ConfigError(f"{one_line(exc, str(path))} (re-run the ingest stage)") from None
    return ingest(data_cfg, LoadedSource(frame, source.uri, source.sha256))


def save_splits(dataset: Dataset, splits: list[Split]) -> None:
    for part, path in layout.SPLIT_FILES.items():
        rows = [getattr(split, part) for split in splits]
        index = np.concatenate(rows)
        frame = dataset.source.frame.iloc[index].reset_index(drop=True)
        frame.insert(0, FOLD, np.repeat([s.fold for s in splits], [len(r) for r in rows]))
        frame.insert(0, ROW, index)
        write_atomic(path, lambda tmp, frame=frame: frame.to_parquet(tmp, index=False))


def load_splits() -> list[Split]:
    parts = {
        part: pd.read_parquet(_require(path, "split"), columns=[ROW, FOLD])
        for part, path in layout.SPLIT_FILES.items()
    }
    folds = sorted(parts["train"][FOLD].unique())

    def rows(part: str, fold: int) -> np.ndarray:
        frame = parts[part]
        return frame.loc[frame[FOLD] == fold, ROW].to_numpy(dtype=np.int64)

    return [Split(rows("train", f), rows("val", f), rows("test", f), int(f)) for f in folds]


def save_object(obj: Any, path: Path) -> None:
    import joblib

    write_atomic(path, lambda tmp: joblib.dump(obj, tmp))


def load_object(path: Path, stage: str) -> Any:
    import joblib

    return joblib.load(_require(path, stage))
