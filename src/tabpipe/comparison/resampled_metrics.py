"""The difference of one metric between two models on resampled units, for the bootstrap.

Ranking resamples queries (each query's NDCG@k / AP@k is computed once per model, and a
resample averages them). Other tasks resample rows: accuracy, MAE and RMSE are averages of
per-row values, and binary AUC is the Mann-Whitney statistic of ``scipy.stats.rankdata``
ranks (tied scores at their average rank, exactly ``roc_auc_score``), so a whole batch of
resamples is one numpy operation; any other metric is recomputed on each resample with its
scikit-learn function (or, for a metric not listed here, with the task's full metric set).
Tests check every fast path against scikit-learn.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from sklearn import metrics as skm

from tabpipe.comparison.significance import Difference
from tabpipe.training.ranking_metrics import Queries, per_query

# one metric of scores [N, K] (classification) or [N] (regression); must equal evaluate.py's
_SINGLE: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "auc": lambda y, p: skm.roc_auc_score(y, p[:, 1]),
    "f1_macro": lambda y, p: skm.f1_score(y, p.argmax(axis=1), average="macro"),
    "log_loss": lambda y, p: skm.log_loss(y, p, labels=np.arange(p.shape[1])),
    "r2": skm.r2_score,
}


def _per_row(metric: str, task: str, y: np.ndarray, scores: np.ndarray) -> np.ndarray | None:
    """Per-row values whose mean is the metric (RMSE: the root of the mean), else None."""
    if metric == "accuracy" and task in ("binary", "multiclass"):
        return (scores.argmax(axis=1) == y).astype(np.float64)
    if metric == "mae" and task == "regression":
        return np.abs(scores - y)
    if metric == "rmse" and task == "regression":
        return (scores - y) ** 2
    return None


def auc_batch(y: np.ndarray, positive_scores: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """ROC AUC of each resample (row of ``idx``): (rank sum of positives - n1(n1+1)/2) / (n1 n0)."""
    from scipy.stats import rankdata

    ranks = rankdata(positive_scores[idx], axis=1)
    positive = y[idx] == 1
    n1 = positive.sum(axis=1)
    n0 = idx.shape[1] - n1
    with np.errstate(divide="ignore", invalid="ignore"):  # a resample of one class: NaN
        return ((ranks * positive).sum(axis=1) - n1 * (n1 + 1) / 2) / (n1 * n0)


def single_metric(metric: str, task: str) -> Callable[[np.ndarray, np.ndarray], float]:
    if metric in _SINGLE:
        return _SINGLE[metric]
    from tabpipe.training import evaluate

    return lambda y, p: evaluate.compute_metrics(task, y, p)[metric]


def metric_difference(
    metric: str,
    task: str,
    y: np.ndarray,
    scores_a: np.ndarray,
    scores_b: np.ndarray,
    groups: np.ndarray | None = None,
) -> tuple[Difference, int, str]:
    """(difference over resampled units, number of units, unit name)."""
    if task == "ranking":
        queries = Queries.of(groups, y)
        a, b = per_query(metric, y, scores_a, queries), per_query(metric, y, scores_b, queries)
        return (lambda idx: b[idx].mean(axis=1) - a[idx].mean(axis=1)), len(queries), "query"
    rows_a, rows_b = _per_row(metric, task, y, scores_a), _per_row(metric, task, y, scores_b)
    if rows_a is not None:
        root = np.sqrt if metric == "rmse" else (lambda v: v)
        return (lambda idx: root(rows_b[idx].mean(axis=1)) - root(rows_a[idx].mean(axis=1))), len(y), "row"
    if metric == "auc" and task == "binary":
        return (
            (lambda idx: auc_batch(y, scores_b[:, 1], idx) - auc_batch(y, scores_a[:, 1], idx)),
            len(y),
            "row",
        )
    function = single_metric(metric, task)

    def loop(idx: np.ndarray) -> np.ndarray:
        return np.array([function(y[i], scores_b[i]) - function(y[i], scores_a[i]) for i in idx])

    return loop, len(y), "row"
