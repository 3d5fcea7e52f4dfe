"""Which rows ``tabpipe eval`` scores that the bundle was fitted on (its train or val split).

Metrics on those rows are optimistic (the model saw them, or stopped early on them), so
they are flagged, never silently mixed in:

* on the bundle's own training data (same sha256), the recorded split is re-derived and
  the overlap is exact, by row position;
* on other data, each row's input columns and target are hashed
  (``pandas.util.hash_pandas_object``) and matched against the training split of the
  recorded training data, when that data can still be read.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tabpipe.config.schema import DataConfig, SplitConfig
from tabpipe.config.typed import from_record
from tabpipe.data.ingestion import Dataset, ingest
from tabpipe.data.splits import Split, make_splits
from tabpipe.errors import TabpipeError
from tabpipe.export.bundle import Bundle


@dataclass(frozen=True)
class TrainingOverlap:
    """``in_training``: one flag per evaluated row (None: not checked, ``method`` says why)."""

    in_training: np.ndarray | None
    method: str

    @property
    def count(self) -> int | None:
        return None if self.in_training is None else int(self.in_training.sum())

    def note(self) -> str:
        if self.in_training is None:
            return f"Overlap with the bundle's training split not checked: {self.method}."
        if not self.count:
            return f"No evaluated row is in the bundle's training split (train/val; {self.method})."
        return (
            f"{self.count} of {len(self.in_training)} evaluated rows are in the bundle's training split "
            f"(train/val; {self.method}): their metrics are optimistic. Column in_training of "
            "predictions.parquet flags them; rows=test evaluates the held-out test split only."
        )


def recorded_split(bundle: Bundle, dataset: Dataset) -> Split:
    """The training run's split, re-derived from its recorded split config and seed."""
    recorded = bundle.metadata.config
    seed = recorded.seed if recorded.seed is not None else bundle.metadata.seed
    (split,) = make_splits(dataset, from_record(recorded.split, SplitConfig), int(seed))
    return split


def _row_hashes(dataset: Dataset, columns: list[str], rows: np.ndarray) -> np.ndarray:
    frame = dataset.features[columns].iloc[rows].reset_index(drop=True)
    frame["__target__"] = dataset.target.iloc[rows].to_numpy()
    return pd.util.hash_pandas_object(frame, index=False).to_numpy()


def training_overlap(
    bundle: Bundle, dataset: Dataset, rows: np.ndarray, data_cfg: DataConfig, columns: list[str]
) -> TrainingOverlap:
    """Flag the evaluated ``rows`` of ``dataset`` that the bundle was fitted on.
    ``data_cfg``: the training data's config with the bundle's input types pinned."""
    if bundle.metadata.config.split is None:
        return TrainingOverlap(None, "the bundle records no split config")
    trained_on = bundle.metadata.dataset.sha256
    if dataset.source.sha256 == trained_on:
        split = recorded_split(bundle, dataset)
        seen = np.isin(rows, np.concatenate([split.train, split.val]))
        return TrainingOverlap(seen, "the same data file, by row position")
    try:
        training = ingest(data_cfg)
    except TabpipeError as error:
        return TrainingOverlap(None, f"the recorded training data cannot be read ({error})")
    if training.source.sha256 != trained_on:
        return TrainingOverlap(None, f"the recorded training data {training.source.uri} has changed since")
    split = recorded_split(bundle, training)
    seen_hashes = _row_hashes(training, columns, np.concatenate([split.train, split.val]))
    seen = np.isin(_row_hashes(dataset, columns, rows), seen_hashes)
    return TrainingOverlap(seen, "rows matched by the contents of their input columns and target")
