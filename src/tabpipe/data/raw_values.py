"""Checks on raw column values that type inference alone would let through silently:
nested values, numbers hidden in text columns, infinities."""

from __future__ import annotations

import numpy as np
import pandas as pd

# a text column is "mostly numeric" when at least this share of its values parse as numbers
MOSTLY_NUMERIC = 0.9
_SAMPLE = 5
_NESTED = (list, tuple, dict, set, np.ndarray)


def nested_kind(column: pd.Series) -> str | None:
    """``"list"``, ``"dict"``, ... when the column holds nested values (a Parquet list or
    struct column), else ``None``."""
    if column.dtype != object:
        return None
    for value in column.head(1000):
        if isinstance(value, _NESTED):
            return "list" if isinstance(value, np.ndarray) else type(value).__name__
    return None


def text_among_numbers(column: pd.Series) -> tuple[int, int, list[str]] | None:
    """For a text column whose values are mostly numbers: (offending count, non-missing
    count, a sample of the offending values); ``None`` for any other column."""
    if not (column.dtype == object or pd.api.types.is_string_dtype(column)):
        return None
    present = column.dropna()
    if present.empty:
        return None
    parsed = pd.to_numeric(present, errors="coerce")
    bad = present[parsed.isna()]
    if bad.empty or len(bad) > (1 - MOSTLY_NUMERIC) * len(present):
        return None
    sample = [str(v) for v in pd.unique(bad.astype(str))[:_SAMPLE]]
    return len(bad), len(present), sample


def drift_line(name: str, found: tuple[int, int, list[str]], strict: bool) -> str:
    """The warning (or, with ``data.strict_types``, the error) for :func:`text_among_numbers`."""
    n_bad, n_present, sample = found
    head = (
        f"column {name!r}: {n_bad} of {n_present} values are not numbers in a mostly numeric column "
        f"(sample: {', '.join(map(repr, sample))})"
    )
    if strict:
        return f"{head}; fix the source or list it in data.categorical_columns (data.strict_types=true)"
    return f"{head}; read as categorical (data.strict_types=true makes this an error)"


def infinite_counts(features: pd.DataFrame, numeric: list[str]) -> dict[str, int]:
    """``{column: number of inf/-inf values}`` over the ``numeric`` columns that have any."""
    counts = {name: int(np.isinf(features[name].to_numpy(dtype=float)).sum()) for name in numeric}
    return {name: count for name, count in counts.items() if count}
