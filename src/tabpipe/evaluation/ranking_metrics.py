"""Ranking metrics (task=ranking): NDCG@k and MAP@k per query, averaged over queries.

* ``ndcg@k`` is scikit-learn's :func:`~sklearn.metrics.ndcg_score` on each query (gain =
  the relevance, log2 discount; tied scores share the average gain of their positions, which
  is the expectation over the orders of the tie).
* ``map@k`` is the mean over queries of AP@k = (1 / min(k, R)) * sum over the top-k
  positions i of precision@i * rel_i, where an item is relevant when its relevance is > 0
  and R is the number of relevant items of the query (the usual "AP at k" of information
  retrieval; torchmetrics divides by the hits in the top k instead). scikit-learn has no
  AP@k and torchmetrics would import torch into every GBDT run, so this one formula is
  written here; with k >= the query size it equals ``sklearn.metrics.average_precision_score``
  (tested). Ties keep the input (row) order, as trec_eval breaks them by document id.

A query counts when it has at least two items whose relevance differs: a query whose items
are all equally relevant (all 0 included) has no order to get right, and NDCG/AP are
undefined for a query without relevant items (:class:`tabpipe.data.queries.Queries`, with
the one-call mean NDCG that the ranking baseline also uses to pick its feature).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import ndcg_score

from tabpipe.data.queries import Queries
from tabpipe.errors import ConfigError
from tabpipe.tasks.ranking import KINDS, check_ks, metric_names, ranking_primary_metric

__all__ = ["KINDS", "check_ks", "metric_names", "ranking_primary_metric"]  # the names live in tasks


def parse_metric(name: str) -> tuple[str, int]:
    """``"ndcg@10"`` -> ``("ndcg", 10)``."""
    kind, _, k = name.partition("@")
    if kind not in KINDS or not k.isdigit() or int(k) < 1:
        raise ConfigError(f"ranking metric {name!r}: expected ndcg@<k> or map@<k> with k >= 1")
    return kind, int(k)


def ndcg_per_query(relevance: np.ndarray, scores: np.ndarray, queries: Queries, k: int) -> np.ndarray:
    return np.array(
        [ndcg_score(relevance[rows][None, :], scores[rows][None, :], k=k) for rows in queries.members]
    )


def average_precision_per_query(
    relevance: np.ndarray, scores: np.ndarray, queries: Queries, k: int
) -> np.ndarray:
    values = []
    for rows in queries.members:
        order = np.argsort(-scores[rows], kind="stable")
        relevant = relevance[rows][order] > 0
        hits = relevant[:k]
        precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
        values.append(float((precision * hits).sum() / min(k, int(relevant.sum()))))
    return np.array(values)


def per_query(name: str, relevance: np.ndarray, scores: np.ndarray, queries: Queries) -> np.ndarray:
    """One value per counted query of ``ndcg@k`` or ``map@k``."""
    kind, k = parse_metric(name)
    function = ndcg_per_query if kind == "ndcg" else average_precision_per_query
    return function(np.asarray(relevance), np.asarray(scores).reshape(-1), queries, k)


def mean_metric(name: str, relevance: np.ndarray, scores: np.ndarray, queries: Queries) -> float:
    """The mean over the counted queries of ``ndcg@k`` or ``map@k``; NaN without one."""
    if not len(queries):
        return float("nan")
    return float(per_query(name, relevance, scores, queries).mean())


def require_queries(queries: Queries) -> Queries:
    if not len(queries):
        raise ConfigError(
            "task=ranking: no query in these rows has two items of different relevance; "
            "nothing to rank (check data.group_column and the target)"
        )
    return queries


def compute_ranking_metrics(
    relevance: np.ndarray, scores: np.ndarray, groups: np.ndarray, ks: Sequence[int]
) -> dict[str, float]:
    """The mean over counted queries of every ``ndcg@k`` and ``map@k``."""
    queries = require_queries(Queries.of(groups, relevance))
    return {name: mean_metric(name, relevance, scores, queries) for name in metric_names(ks)}
