"""Read a data source into a DataFrame and hash its raw bytes."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pandas as pd

from tabpipe.config import option_value
from tabpipe.config.schema import DataConfig
from tabpipe.errors import ConfigError, DataValidationError, printable_line
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


# the leading bytes of compressed files that pandas would read as text under a .csv name
_COMPRESSED = {
    b"\x1f\x8b": "gzip",
    b"PK\x03\x04": "zip",
    b"BZh": "bzip2",
    b"\xfd7zXZ": "xz",
    b"(\xb5/\xfd": "zstd",
}


def _compression(path: Path) -> str | None:
    """The compression format of ``path`` by its leading bytes (pandas goes by the name)."""
    with path.open("rb") as handle:
        head = handle.read(8)
    return next((name for magic, name in _COMPRESSED.items() if head.startswith(magic)), None)


def _read_csv(path: Path, label: str) -> pd.DataFrame:
    """``pd.read_csv`` whose parse errors become one line naming the file and the rule."""
    try:
        frame = pd.read_csv(path, low_memory=False)
        header = pd.read_csv(path, header=None, nrows=1, dtype=str).iloc[0].tolist()
    except pd.errors.EmptyDataError:
        raise DataValidationError([f"{label}: empty file (no header row); nothing to train on"]) from None
    except UnicodeDecodeError as exc:
        packed = _compression(path)
        if packed:
            rule = f"{packed}-compressed data; name it with the matching extension (.csv.gz, .csv.zip, ...)"
        else:
            rule = f"not UTF-8 text (byte 0x{exc.object[exc.start : exc.start + 1].hex()}); save it as UTF-8"
        raise DataValidationError([f"{label}: {rule}"]) from None
    except pd.errors.ParserError as exc:
        detail = printable_line(str(exc).strip()).replace("Error tokenizing data. C error: ", "")
        raise DataValidationError(
            [f"{label}: not a well-formed CSV ({detail}); every row needs one field per header column"]
        ) from None
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise DataValidationError(
                [f"column {name!r}: appears twice in the header of {label}; column names must be unique"]
            )
        seen.add(name)
    return frame


def _read_parquet(path: Path, label: str) -> pd.DataFrame:
    import pyarrow as pa

    try:
        return pd.read_parquet(path)
    except (pa.ArrowException, OSError) as exc:
        detail = printable_line(str(exc).strip())
        raise DataValidationError([f"{label}: not a readable Parquet file ({detail})"]) from None


def _read_file(path: Path, kind: str, label: str | None = None) -> pd.DataFrame:
    label = label or f"data.path={str(path)!r}"
    if kind == "parquet":
        return _read_parquet(path, label)
    return _read_csv(path, label)


def _load_file(path_str: str | None, kind: str) -> LoadedSource:
    if not path_str:
        raise ConfigError(f"data.path: required for data.source={kind}")
    path = Path(path_str).expanduser()
    if not path.is_file():
        raise ConfigError(f"data.path={path_str!r}: file not found")
    return LoadedSource(
        _read_file(path, kind, f"data.path={path_str!r}"), str(path.resolve()), sha256_file(path)
    )


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


def frame_source(frame: pd.DataFrame, uri: str = "DataFrame") -> LoadedSource:
    """A frame the caller already holds (the Python API) as a source: its content hash is
    the sha256 of pandas' row hashes (index left out), so equal frames hash alike."""
    if not isinstance(frame, pd.DataFrame):
        raise ConfigError(f"df: expected a pandas DataFrame, got {type(frame).__name__}")
    rows = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    digest = hashlib.sha256(rows.tobytes() + "\0".join(map(str, frame.columns)).encode()).hexdigest()
    return LoadedSource(frame.reset_index(drop=True), uri, digest)


def load_source(data_cfg: DataConfig) -> LoadedSource:
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
