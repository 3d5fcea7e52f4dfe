"""Write a run's artifacts into its run directory, each file atomically."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from tabpipe.config.schema import TrainConfig
from tabpipe.config.typed import as_yaml
from tabpipe.io import write_atomic, write_json_atomic, write_text_atomic


def write_predictions(frame: pd.DataFrame, path: Path) -> Path:
    return write_atomic(path, lambda tmp: frame.to_parquet(tmp, index=False))


def write_resolved_config(cfg: TrainConfig, path: Path) -> Path:
    return write_text_atomic(path, as_yaml(cfg))


def write_preprocessor(preprocessor: Any, path: Path) -> Path:
    """The fitted scikit-learn transformer, for retraining and inspection only."""
    import joblib

    return write_atomic(path, lambda tmp: joblib.dump(preprocessor.transformer_, tmp))


def write_json(payload: Any, path: Path) -> Path:
    return write_json_atomic(path, payload)
