"""Read a data source into a DataFrame and hash its raw bytes."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from tabpipe.config import option_value
from tabpipe.errors import ConfigError
from tabpipe.io import sha256_file

BUNDLED_DATASETS = {
    "telco_churn": "telco_churn.csv",
    "seattle_weather": "seattle_weather.csv",
    # the churn data again, under its own name (and registry name) for the ranking demo
    "telco_cohorts": "telco_churn.csv",
}
SKLEARN_DATASETS = ("breast_cancer", "wine", "iris", "diabetes")


@dataclass(frozen=True)
class LoadedSource:
    frame: pd.DataFrame
    uri: str
    sha256: str


def bundled_dataset_path(name: str) -> Path:
    if name not in BUNDLED_DATASETS:
        raise ConfigError(
            f"data.name={name!r}: unknown bundled dataset; available: {', '.join(sorted(BUNDLED_DATASETS))}"
        )
    return Path(str(resources.files("tabpipe.datasets") / BUNDLED_DATASETS[name]))


def _read_file(path: Path, kind: str) -> pd.DataFrame:
    if kind == "parquet":
        return pd.read_parquet(path)
    return pd.read_csv(path, low_memory=False)


def _load_file(path_str: str | None, kind: str) -> LoadedSource:
    if not path_str:
        raise ConfigError(f"data.path: required for data.source={kind}")
    path = Path(path_str).expanduser()
    if not path.is_file():
        raise ConfigError(f"data.path={path_str!r}: file not found")
    return LoadedSource(_read_file(path, kind), str(path.resolve()), sha256_file(path))


def _load_sklearn(name: str | None) -> LoadedSource:
    if name not in SKLEARN_DATASETS:
        raise ConfigError(
            f"data.name={name!r}: unknown scikit-learn dataset; available: {', '.join(SKLEARN_DATASETS)}"
        )
    from sklearn import datasets

    bunch = getattr(datasets, f"load_{name}")(as_frame=True)
    frame = bunch.frame.copy()
    if name != "diabetes":  # classification targets as their class names
        frame["target"] = bunch.target_names[bunch.target.to_numpy()]
    buffer = io.BytesIO()
    frame.to_csv(buffer, index=False)
    return LoadedSource(frame, f"sklearn://{name}", hashlib.sha256(buffer.getvalue()).hexdigest())


def load_source(data_cfg: Any) -> LoadedSource:
    """Load ``data_cfg`` (the ``data`` config group) into a frame with its content hash."""
    source = option_value(data_cfg.source)
    if source in ("csv", "parquet"):
        return _load_file(data_cfg.path, source)
    if source == "bundled":
        path = bundled_dataset_path(data_cfg.name)
        return LoadedSource(_read_file(path, "csv"), f"tabpipe://{data_cfg.name}", sha256_file(path))
    if source == "sklearn":
        return _load_sklearn(data_cfg.name)
    raise ConfigError(f"data.source={source!r}: unknown source")
