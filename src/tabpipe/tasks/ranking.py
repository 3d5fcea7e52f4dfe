"""task=ranking: graded relevance within queries (``data.group_column``), scored by
NDCG@k / MAP@k, the baseline the best single feature.

The target is a graded relevance: whole numbers from 0 (irrelevant) to 30, the range that
both XGBoost's ``rank:ndcg`` (exponential gain) and LightGBM's ``lambdarank`` (default
``label_gain``) accept. A text target is ranked by one class instead: with
``data.positive_class`` set, that class is relevance 1 and every other value 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from tabpipe.errors import ConfigError
from tabpipe.tasks.base import SCORE, Task, missing_target_problem

MAX_RELEVANCE = 30
KINDS = ("ndcg", "map")
RANKING_K = (5, 10)


def check_ks(ks: Sequence[int]) -> list[int]:
    values = [int(k) for k in ks]
    if not values or any(k < 1 for k in values):
        raise ConfigError(f"eval.ranking_k={list(ks)}: give one or more cut-offs k >= 1")
    return sorted(set(values))


def metric_names(ks: Sequence[int]) -> list[str]:
    return [f"{kind}@{k}" for kind in KINDS for k in ks]


def ranking_primary_metric(configured: str | None, ks: Sequence[int]) -> str:
    """Default ``ndcg@<largest k>``; a configured one must be among the computed metrics."""
    ks = check_ks(ks)
    name = configured or f"ndcg@{ks[-1]}"
    if name not in metric_names(ks):
        raise ConfigError(
            f"eval.primary_metric={name!r}: not a ranking metric of eval.ranking_k={ks}; "
            f"use one of {metric_names(ks)}"
        )
    return name


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
    missing = missing_target_problem(target, target_name)
    if missing:
        return [*problems, missing]
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


class RankingTask(Task):
    name = "ranking"
    needs_groups = True
    baseline = "best_feature"
    plots = ("ranking_at_k", "query_distribution")
    resampled_unit = "query"

    def target_problems(
        self, frame: pd.DataFrame, target: str, group_column: str | None, positive: str | None
    ) -> list[str]:
        return ranking_problems(frame, target, group_column, positive)

    def prepare_target(self, target: pd.Series, positive: str | None) -> tuple[pd.Series, list[str] | None]:
        return relevance(target, positive), None

    def encode_target(self, target: pd.Series, classes: Sequence[str] | None) -> np.ndarray:
        return target.to_numpy(dtype=np.float64)

    def metric_names(self, ranking_k: Sequence[int] | None = None) -> list[str]:
        return metric_names(check_ks(RANKING_K if ranking_k is None else ranking_k))

    def primary_metric(self, configured: str | None, ranking_k: Sequence[int] | None = None) -> str:
        return ranking_primary_metric(configured, RANKING_K if ranking_k is None else ranking_k)

    def headline_metrics(self, primary: str, ranking_k: Sequence[int] | None = None) -> list[str]:
        """The primary metric, then the other metrics at its cut-off."""
        cutoff = primary.rpartition("@")[2]
        secondary = [n for n in self.metric_names(ranking_k) if n.endswith(f"@{cutoff}")]
        return [primary, *(name for name in secondary if name != primary)]

    @property
    def baseline_description(self) -> str:
        return "the best single feature"

    def baseline_values(self, test_scores: np.ndarray) -> list[float] | None:
        return None  # the baseline is a feature (recorded as baseline_ranker), not a constant

    def output_specs(self, classes: Sequence[str] | None) -> list[dict[str, Any]]:
        return [{"name": SCORE, "type": "float32", "shape": ["N"]}]
