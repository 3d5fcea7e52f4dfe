"""The one shared function that turns raw records into the graph's input tensors.

Training (evaluation), batch scoring and online serving all call :func:`graph_inputs`.
The graph takes one ``[N, 1]`` input per raw feature column, named after the column:

* numeric and boolean -> ``float32``; missing -> NaN (booleans as 0/1). A number float32
  cannot hold (``inf``, ``-inf``, or beyond +-3.4e38, which the cast would turn into inf) is
  not a feed value: :func:`float32_reasons` names it, so batch scoring rejects its row;
* categorical -> ``string``; missing -> the empty string ``""``;
* datetime -> ``float64`` seconds since 1970-01-01 UTC; missing -> NaN. Timestamp strings
  are parsed here (timezone-aware ones converted to UTC), since ONNX cannot parse them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from tabpipe.data.coercion import category_text, coerce_columns
from tabpipe.errors import DataValidationError

ONNX_INPUT_TYPES = {"numeric": "float", "boolean": "float", "categorical": "string", "datetime": "double"}
FLOAT32_MAX = float(np.finfo(np.float32).max)  # the graph reads numbers as float32
FLOAT32_RULE = "float32's range (+-3.4e38), the graph's input type"


def column_types(schema: dict) -> dict[str, str]:
    return {name: (spec.type if hasattr(spec, "type") else spec["type"]) for name, spec in schema.items()}


def tensors_from_coerced(frame: pd.DataFrame, types: dict[str, str]) -> dict[str, np.ndarray]:
    """Graph inputs from a frame already in canonical dtypes (see ``coerce_columns``)."""
    feeds: dict[str, np.ndarray] = {}
    for name, kind in types.items():
        column = frame[name]
        if kind in ("numeric", "boolean"):
            values = column.to_numpy(dtype=np.float32, na_value=np.nan)
        elif kind == "datetime":
            stamps = column.astype("datetime64[ns]")
            seconds = stamps.astype("int64").to_numpy() / 1e9
            values = np.where(stamps.isna().to_numpy(), np.nan, seconds).astype(np.float64)
        else:
            values = column.to_numpy(dtype=object, na_value="")
        feeds[name] = values.reshape(-1, 1)
    return feeds


def graph_inputs(frame: pd.DataFrame, schema: dict) -> dict[str, np.ndarray]:
    """Coerce raw columns (strings, numbers, timestamps) and build the graph's feeds.

    Raises :class:`~tabpipe.errors.DataValidationError` naming each column whose values
    cannot be read as its type, or hold numbers float32 cannot (``1e39``, ``inf``).
    """
    types = column_types(schema)
    coerced = coerce_columns(frame, types)
    problems = []
    for name in (n for n, kind in types.items() if kind == "numeric"):
        beyond = np.flatnonzero(_beyond_float32(coerced[name]))
        if beyond.size:  # scored as inf otherwise: refused, as batch scoring and the server do
            first = _range_reason(frame[name].iloc[beyond[0]])
            problems.append(f"column {name!r}: {beyond.size} value(s) beyond float32, the first: {first}")
    if problems:
        raise DataValidationError(problems)
    return tensors_from_coerced(coerced, types)


def _beyond_float32(values: pd.Series) -> np.ndarray:
    """Where a coerced numeric column holds what the float32 cast would make inf (NaN: no)."""
    with np.errstate(invalid="ignore"):
        return np.abs(values.to_numpy(dtype=np.float64, na_value=np.nan)) > FLOAT32_MAX


def float32_reasons(raw: pd.DataFrame, coerced: pd.DataFrame, types: dict[str, str]) -> pd.Series:
    """Per row, the first numeric value the graph's float32 input cannot hold, as a reason
    naming the column and the rule (``""`` for a row without one).

    ``coerced`` is ``raw`` in canonical dtypes (float64 numbers, NaN for missing). ``inf`` /
    ``-inf`` and finite values beyond +-``FLOAT32_MAX`` (which the float32 cast would make
    inf) are refused; NaN is a missing value, imputed like a blank.
    """
    reasons = pd.Series("", index=coerced.index, dtype=object)
    for name, kind in types.items():
        if kind != "numeric":
            continue
        fresh = _beyond_float32(coerced[name]) & (reasons == "").to_numpy()
        if fresh.any():
            reasons[fresh] = [f"column {name!r}: {_range_reason(v)}" for v in raw[name][fresh].tolist()]
    return reasons


def _range_reason(value: object) -> str:
    if np.isinf(float(value)):
        return f"non-finite value {value!r}; numbers must be finite, within {FLOAT32_RULE}"
    return f"value {value!r} outside {FLOAT32_RULE}"


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def records_to_feeds(records: list[dict], types: dict[str, str]) -> dict[str, np.ndarray]:
    """The same tensors as :func:`graph_inputs`, straight from already type-checked JSON
    records (numbers as numbers, booleans as bools): the online server's hot path.

    Absent keys are missing values. Datetime values go through the shared pandas parser.
    """
    plan = _plan(types)
    feeds: dict[str, np.ndarray] = {}
    rows = len(records)
    # one [columns, rows, 1] array per kind, from one flat list (numpy reads a flat list in
    # half the time of nested ones); each column of it is a contiguous [rows, 1] view
    if plan.numeric:
        numbers = [np.nan if (v := r.get(name)) is None else v for name in plan.numeric for r in records]
        block = np.array(numbers, dtype=np.float32).reshape(len(plan.numeric), rows, 1)
        feeds.update(zip(plan.numeric, block, strict=True))
    if plan.categorical:
        text = [_category(r.get(name)) for name in plan.categorical for r in records]
        feeds.update(zip(plan.categorical, np.array(text, dtype=object).reshape(-1, rows, 1), strict=True))
    for name in plan.datetime:
        frame = pd.DataFrame({name: pd.Series([r.get(name) for r in records], dtype=object)})
        feeds[name] = graph_inputs(frame, {name: {"type": "datetime"}})[name]
    return feeds


@dataclass(frozen=True)
class _FeedPlan:
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    datetime: tuple[str, ...]


@lru_cache(maxsize=64)
def _plan_for(items: tuple[tuple[str, str], ...]) -> _FeedPlan:
    def names(*kinds: str) -> tuple[str, ...]:
        return tuple(name for name, kind in items if kind in kinds)

    return _FeedPlan(names("numeric", "boolean"), names("categorical"), names("datetime"))


def _plan(types: dict[str, str]) -> _FeedPlan:
    return _plan_for(tuple(types.items()))


def _category(value: object) -> str:
    if type(value) is str:  # the common case, first
        return value
    return "" if _missing(value) else category_text(value)
