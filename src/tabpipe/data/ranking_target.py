"""The target and query id of task=ranking.

The target is a graded relevance: whole numbers from 0 (irrelevant) to 30, the range that
both XGBoost's ``rank:ndcg`` (exponential gain) and LightGBM's ``lambdarank`` (default
``label_gain``) accept. A text target is ranked by one class instead: with
``data.positive_class`` set, that class is relevance 1 and every other value 0.
"""

from __future__ import annotations

import pandas as pd

MAX_RELEVANCE = 30


def ranking_problems(
    frame: pd.DataFrame, target_name: str, group_column: str | None, positive: str | None
) -> list[str]:
    """One line per broken rule of the query id and the relevance target."""
    problems = []
    if not group_column:
        problems.append("data.task=ranking: needs data.group_column, the query id column")
    elif frame[group_column].isna().any():
        count = int(frame[group_column].isna().sum())
        problems.append(
            f"column {group_column!r} (group_column): {count} missing query ids; every row needs one"
        )
    target = frame[target_name]
    if target.isna().any():
        missing = int(target.isna().sum())
        return [
            *problems,
            f"column {target_name!r} (target): {missing} missing values; the target must be complete",
        ]
    if positive is not None:
        if positive not in set(target.astype(str)):
            problems.append(f"data.positive_class={positive!r}: not a value of column {target_name!r}")
        return problems
    numeric = pd.to_numeric(target, errors="coerce")
    bad = target[numeric.isna() | (numeric % 1 != 0) | (numeric < 0) | (numeric > MAX_RELEVANCE)]
    if len(bad):
        problems.append(
            f"column {target_name!r} (target): relevance {bad.iloc[0]!r} is not a whole number from 0 to "
            f"{MAX_RELEVANCE}; task=ranking needs graded relevance (or data.positive_class for a text target)"
        )
    elif numeric.nunique() < 2:
        problems.append(f"column {target_name!r} (target): constant relevance; there is nothing to rank")
    return problems


def relevance(target: pd.Series, positive: str | None) -> pd.Series:
    """The validated target as float relevance (the positive class as 1, the rest 0)."""
    if positive is not None:
        return (target.astype(str) == positive).astype("float64")
    return pd.to_numeric(target).astype("float64")
