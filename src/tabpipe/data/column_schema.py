"""The input schema: each feature column's type, nullability and observed range or set.

Types are inferred from the raw frame, or pinned in the data config
(``data.schema`` inline, or ``data.schema_path`` pointing at a run's ``schema.json``).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import BaseModel, ValidationError

from tabpipe.config.schema import DataConfig
from tabpipe.documents.base import one_line
from tabpipe.errors import ConfigError, first_line

COLUMN_TYPES = ("numeric", "categorical", "boolean", "datetime")
_DATE_LIKE = re.compile(r"^\d{2,4}[-/.]\d{1,2}[-/.]\d{1,4}([ T]\d{1,2}:\d{2}(:\d{2})?.*)?$")
_MAX_RECORDED_CATEGORIES = 1000


@dataclass
class ColumnSchema:
    name: str
    type: str
    nullable: bool = True
    min: float | None = None
    max: float | None = None
    categories: list[str] | None = None


def _looks_like_dates(values: pd.Series) -> bool:
    sample = values.dropna().astype(str).head(200)
    if sample.empty or not sample.map(lambda v: bool(_DATE_LIKE.match(v))).all():
        return False
    parsed = pd.to_datetime(sample, errors="coerce", format="mixed")
    return bool(parsed.notna().all())


def infer_type(series: pd.Series, forced_categorical: bool, is_time_column: bool) -> str:
    if forced_categorical:
        return "categorical"
    if is_time_column or pd.api.types.is_datetime64_any_dtype(series):
        return "datetime"
    if pd.api.types.is_bool_dtype(series):
        return "boolean"
    if pd.api.types.is_numeric_dtype(series):
        values = pd.unique(series.dropna())
        if len(values) == 2 and set(np.asarray(values, dtype=float).tolist()) == {0.0, 1.0}:
            return "boolean"
        return "numeric"
    if _looks_like_dates(series):
        return "datetime"
    return "categorical"


def describe_column(name: str, column_type: str, coerced: pd.Series) -> ColumnSchema:
    """Record nullability and the observed range (numbers) or set (categories)."""
    spec = ColumnSchema(name=name, type=column_type, nullable=bool(coerced.isna().any()))
    if column_type == "numeric" and coerced.notna().any():
        spec.min, spec.max = float(coerced.min()), float(coerced.max())
    elif column_type == "categorical":
        categories = sorted(coerced.dropna().astype(str).unique().tolist())
        if len(categories) <= _MAX_RECORDED_CATEGORIES:
            spec.categories = categories
    return spec


def pinned_specs(data_cfg: DataConfig) -> dict[str, ColumnSchema]:
    """Pinned columns from ``data.schema_path`` then ``data.schema`` (inline wins)."""
    pinned: dict[str, ColumnSchema] = {}
    if data_cfg.schema_path:
        pinned.update(load_schema(Path(data_cfg.schema_path)))
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    from tabpipe.config.schema import ColumnSpec

    for name, entry in (data_cfg.schema or {}).items():
        try:
            spec = OmegaConf.merge(OmegaConf.structured(ColumnSpec), entry)
            kind = spec.type.value
        except OmegaConfBaseException as exc:
            raise ConfigError(f"data.schema.{name}: {first_line(exc)}") from exc
        categories = list(spec.categories) if spec.categories is not None else None
        pinned[name] = ColumnSchema(name, kind, spec.nullable, spec.min, spec.max, categories)
    return pinned


class SchemaFile(BaseModel):
    """A run's (and the DVC ingest stage's) ``schema.json``: the validated columns."""

    columns: list[ColumnSchema]


def save_schema(columns: dict[str, ColumnSchema], path: Path) -> None:
    from tabpipe.io import write_text_atomic

    payload = {"columns": [asdict(spec) for spec in SchemaFile(columns=list(columns.values())).columns]}
    write_text_atomic(path, json.dumps(payload, indent=2))


def load_schema(path: Path) -> dict[str, ColumnSchema]:
    if not path.is_file():
        raise ConfigError(f"data.schema_path={str(path)!r}: file not found")
    try:
        columns = SchemaFile.model_validate_json(path.read_text()).columns
    except ValidationError as exc:
        reason = one_line(exc, "schema.json")
        raise ConfigError(f"data.schema_path={str(path)!r}: not a tabpipe schema.json ({reason})") from None
    for spec in columns:
        if spec.type not in COLUMN_TYPES:
            raise ConfigError(f"data.schema_path: column {spec.name!r}: unknown type {spec.type!r}")
    return {spec.name: spec for spec in columns}
