"""The queries of task=ranking, and the mean NDCG over them: the query math that both the
ranking baseline (:class:`tabpipe.models.ranking.SingleFeatureRanker`, which picks its feature
by train NDCG) and evaluation (:mod:`tabpipe.evaluation.ranking_metrics`) use, kept below both.

A query counts when it has at least two items whose relevance differs: a query whose items
are all equally relevant (all 0 included) has no order to get right, and NDCG is undefined
for a query without relevant items.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import ndcg_score


@dataclass(frozen=True)
class Queries:
    """The row positions of each query that counts (see the module docstring)."""

    members: tuple[np.ndarray, ...]

    @classmethod
    def of(cls, groups: np.ndarray, relevance: np.ndarray) -> Queries:
        groups, relevance = np.asarray(groups), np.asarray(relevance)
        codes = np.unique(groups, return_inverse=True)[1]
        order = np.argsort(codes, kind="stable")
        bounds = np.flatnonzero(np.diff(codes[order])) + 1
        members = tuple(
            rows for rows in np.split(order, bounds) if len(rows) > 1 and np.ptp(relevance[rows]) > 0
        )
        return cls(members)

    def __len__(self) -> int:
        return len(self.members)


def mean_ndcg(relevance: np.ndarray, scores: np.ndarray, queries: Queries, k: int | None = None) -> float:
    """Mean NDCG(@k) over the queries in one scikit-learn call: each query is a row, padded
    with relevance 0 at a score below every real one (padding adds no gain and moves no real
    item), so it equals the mean of
    :func:`tabpipe.evaluation.ranking_metrics.ndcg_per_query` at the same cut-off."""
    width = max(len(rows) for rows in queries.members)
    floor = float(np.min(scores)) - 1.0
    true = np.zeros((len(queries), width))
    predicted = np.full((len(queries), width), floor)
    for i, rows in enumerate(queries.members):
        true[i, : len(rows)] = relevance[rows]
        predicted[i, : len(rows)] = scores[rows]
    return float(ndcg_score(true, predicted, k=k))
