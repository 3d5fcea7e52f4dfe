"""The one shared function that turns raw column values into model-ready dtypes.

Training, batch scoring and online serving all call :func:`coerce_columns`, so a raw
value is interpreted the same way everywhere:

* numeric -> float64; blanks become NaN (imputed later by the fitted pipeline);
* boolean -> float64 0/1 from true/false, yes/no, 1/0 (any case); blanks -> NaN;
* datetime -> ``datetime64[ns]`` (naive; timezone-aware values are converted to UTC);
  blanks -> NaT. A value outside the days ``datetime64[ns]`` can hold (1677-09-22 to
  2262-04-10, in UTC; e.g. ``0001-01-01``) and the relative words ``now`` / ``today`` (which would make a
  row's features depend on when it was read) are invalid values, like unparseable text;
* categorical -> Python ``str`` values (integral numbers without ``.0``); blanks -> NaN,
  which the pipeline maps to the ``__missing__`` category.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tabpipe.errors import DataValidationError

_TRUE = {"true", "yes", "y", "t", "1", "1.0"}
_FALSE = {"false", "no", "n", "f", "0", "0.0"}
_RELATIVE_DATES = {"now", "today"}
# the whole days datetime64[ns] can hold (its limits fall inside 1677-09-21 and 2262-04-11);
# values outside are refused, not wrapped or clipped
DATETIME_MIN, DATETIME_END = pd.Timestamp("1677-09-22"), pd.Timestamp("2262-04-11")
DATETIME_RANGE = "1677-09-22 to 2262-04-10"


def _first_bad(raw: pd.Series, parsed: pd.Series) -> str:
    bad = raw[parsed.isna() & raw.notna()]
    return repr(bad.iloc[0]) if len(bad) else ""


def _to_numeric(name: str, raw: pd.Series, problems: list[str]) -> pd.Series:
    parsed = pd.to_numeric(raw, errors="coerce").astype("float64")
    bad = _first_bad(raw, parsed)
    if bad:
        problems.append(f"column {name!r}: non-numeric value {bad} in a numeric column")
    return parsed


def _to_boolean(name: str, raw: pd.Series, problems: list[str]) -> pd.Series:
    if pd.api.types.is_bool_dtype(raw) or pd.api.types.is_numeric_dtype(raw):
        parsed = raw.astype("float64")
        invalid = parsed.notna() & ~parsed.isin([0.0, 1.0])
    else:
        text = raw.astype("string").str.strip().str.lower()
        parsed = pd.Series(np.nan, index=raw.index, dtype="float64")
        parsed[text.isin(_TRUE).fillna(False).to_numpy(bool)] = 1.0
        parsed[text.isin(_FALSE).fillna(False).to_numpy(bool)] = 0.0
        invalid = parsed.isna() & raw.notna()
    if invalid.any():
        problems.append(
            f"column {name!r}: value {raw[invalid].iloc[0]!r} is not a boolean (true/false, yes/no, 1/0)"
        )
        parsed = parsed.where(~invalid)
    return parsed


def _out_of_range(raw: pd.Series, parsed: pd.Series) -> pd.Series:
    """Rows whose timestamp datetime64[ns] cannot hold. pandas 3 parses them at a coarser
    resolution; pandas 2 turns them into NaT, so those are parsed again one by one."""
    low, end = DATETIME_MIN, DATETIME_END
    if getattr(parsed.dt, "tz", None) is not None:
        low, end = low.tz_localize("UTC"), end.tz_localize("UTC")
    outside = ((parsed < low) | (parsed >= end)).fillna(False).astype(bool)
    unparsed = parsed.isna() & raw.notna()
    if unparsed.any():
        outside[unparsed] = raw[unparsed].map(_outside_range).astype(bool)
    return outside


def _outside_range(value: object) -> bool:
    """Whether ``value`` is a timestamp (at any resolution) outside what datetime64[ns] holds."""
    try:
        stamp = pd.Timestamp(value)  # a string; pandas 2 and 3 both parse it at second resolution
    except (ValueError, TypeError, OverflowError):
        return False
    if pd.isna(stamp):
        return False
    naive = stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo is not None else stamp
    return bool(naive < DATETIME_MIN or naive >= DATETIME_END)


def _to_datetime(name: str, raw: pd.Series, problems: list[str]) -> pd.Series:
    refused = pd.Series(False, index=raw.index)
    if pd.api.types.is_datetime64_any_dtype(raw):
        parsed = raw
    else:
        parsed = pd.to_datetime(raw, errors="coerce", format="mixed", utc=True)
        relative = raw.map(lambda v: isinstance(v, str) and v.strip().lower() in _RELATIVE_DATES).astype(bool)
        if relative.any():
            problems.append(
                f"column {name!r}: value {raw[relative].iloc[0]!r} is a relative date; "
                "send an absolute timestamp"
            )
            refused |= relative
    outside = _out_of_range(raw.mask(refused), parsed)
    if outside.any():
        problems.append(
            f"column {name!r}: value {raw[outside].iloc[0]!r} is outside the supported "
            f"timestamp range {DATETIME_RANGE}"
        )
        refused |= outside
    parsed = parsed.mask(refused)
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    parsed = parsed.astype("datetime64[ns]")
    bad = _first_bad(raw[~refused], parsed[~refused])
    if bad:
        problems.append(f"column {name!r}: value {bad} is not a parseable timestamp")
    return parsed


def category_text(value: object) -> object:
    """A categorical value as text: integral numbers without ``.0``; missing -> NaN."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return np.nan
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _to_categorical(raw: pd.Series) -> pd.Series:
    """Vectorised :func:`category_text` for text and number columns; element-wise otherwise."""
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        values = raw.to_numpy(dtype=np.float64, na_value=np.nan)
        present = ~np.isnan(values)
        integral = present & (values == np.floor(values)) & (np.abs(values) < 2**53)
        out = np.full(len(values), np.nan, dtype=object)
        out[integral] = values[integral].astype(np.int64).astype(str).astype(object)
        out[present & ~integral] = [str(v) for v in values[present & ~integral].tolist()]
        return pd.Series(out, index=raw.index, dtype=object)
    if pd.api.types.infer_dtype(raw, skipna=True) in ("string", "empty"):
        return pd.Series(raw.to_numpy(dtype=object, na_value=np.nan), index=raw.index, dtype=object)
    return raw.astype(object).map(category_text).astype(object)


def _coerce(frame: pd.DataFrame, column_types: dict[str, str]) -> tuple[pd.DataFrame, list[str]]:
    problems: list[str] = []
    out: dict[str, pd.Series] = {}
    for name, kind in column_types.items():
        raw = frame[name]
        if kind == "numeric":
            out[name] = _to_numeric(name, raw, problems)
        elif kind == "boolean":
            out[name] = _to_boolean(name, raw, problems)
        elif kind == "datetime":
            out[name] = _to_datetime(name, raw, problems)
        else:
            out[name] = _to_categorical(raw)
    return pd.DataFrame(out, index=frame.index), problems


def coerce_columns(frame: pd.DataFrame, column_types: dict[str, str]) -> pd.DataFrame:
    """Return a new frame holding ``column_types``'s columns in their canonical dtypes.

    Raises :class:`DataValidationError` with one line per column whose values cannot be
    interpreted as the column's type.
    """
    coerced, problems = _coerce(frame, column_types)
    if problems:
        raise DataValidationError(problems)
    return coerced


def coerce_rows(frame: pd.DataFrame, column_types: dict[str, str]) -> tuple[pd.DataFrame, pd.Series]:
    """Like :func:`coerce_columns`, but per row: returns the coerced frame and, for each row,
    the first problem (``""`` when the row is valid). Bad values become missing."""
    coerced, _ = _coerce(frame, column_types)
    reasons = pd.Series("", index=frame.index, dtype=object)
    for name, kind in column_types.items():
        raw = frame[name]
        bad = coerced[name].isna() & raw.notna()
        if kind == "categorical" or not bad.any():
            continue
        fresh = (bad & (reasons == "")).to_numpy()
        reasons[fresh] = [f"column {name!r}: {_reason(kind, value)}" for value in raw[fresh]]
    return coerced, reasons


def _reason(kind: str, value: object) -> str:
    if kind == "numeric":
        return f"non-numeric value {value!r}"
    if kind == "boolean":
        return f"not a boolean {value!r}"
    if isinstance(value, str) and value.strip().lower() in _RELATIVE_DATES:
        return f"relative date {value!r} (send an absolute timestamp)"
    if _outside_range(value) or not pd.isna(pd.to_datetime(value, errors="coerce", format="mixed", utc=True)):
        return f"timestamp {value!r} outside {DATETIME_RANGE}"
    return f"not a parseable timestamp {value!r}"
