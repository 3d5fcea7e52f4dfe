"""The difference of one metric between two models on resampled units, for the bootstrap.

Both models arrive as :class:`tabpipe.evaluation.metrics.Scored` rows (the same rows and
targets; each model's scores and the class labels its graph output, i.e. after a binary
model's decision threshold), and every metric is the one :mod:`tabpipe.evaluation.metrics`
computes. Ranking resamples queries (each query's NDCG@k / AP@k is computed once per model,
and a resample averages them). Other tasks resample rows: accuracy, MAE and RMSE are
averages of per-row values, and binary AUC is the Mann-Whitney statistic of
``scipy.stats.rankdata`` ranks (tied scores at their average rank, exactly
``roc_auc_score``), so a whole batch of resamples is one numpy operation; any other metric
is recomputed on each resample with :func:`tabpipe.evaluation.metrics.metric_value`.
Tests check every fast path against that function.

A bootstrap of thousands of resamples can take a while (the per-resample loop: tens of
seconds for 5000), so the returned function counts the resamples it scores on a tqdm bar
(shown only when stderr is a terminal; the count and the rate, since ``scipy.stats.bootstrap``
hands over batches of a size this module does not know in advance).
"""

from __future__ import annotations

import numpy as np
from tqdm.auto import tqdm

from tabpipe.comparison.significance import Difference
from tabpipe.evaluation.metrics import Scored, metric_value
from tabpipe.evaluation.ranking_metrics import per_query
from tabpipe.tasks import get_task


def _per_row(metric: str, rows: Scored) -> np.ndarray | None:
    """Per-row values whose mean is the metric (RMSE: the root of the mean), else None.
    A metric name means one computation whichever task reports it (tabpipe.evaluation.metrics)."""
    if metric == "accuracy":
        return (rows.labels == rows.y).astype(np.float64)
    if metric == "mae":
        return np.abs(rows.scores - rows.y)
    if metric == "rmse":
        return (rows.scores - rows.y) ** 2
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


class _ResampleBar:
    """A tqdm bar over the resamples scored (created on the first batch; a single-row call,
    the estimate on the rows as they are, made after the bootstrap, closes it)."""

    def __init__(self, metric: str) -> None:
        self.metric = metric
        self.bar: tqdm | None = None

    def start(self, idx: np.ndarray) -> bool:
        """True when ``idx`` is a batch of resamples (and the bar is running)."""
        if len(idx) == 1:
            if self.bar is not None:
                self.bar.close()
            return False
        if self.bar is None:
            desc = f"bootstrap resamples ({self.metric})"
            self.bar = tqdm(desc=desc, unit="resample", disable=None, leave=False)
        return True

    def update(self, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)


def metric_difference(metric: str, task: str, a: Scored, b: Scored) -> tuple[Difference, int, str]:
    """(B minus A over resampled units, number of units, unit name)."""
    bar = _ResampleBar(metric)

    def batched(difference: Difference) -> Difference:
        def counted(idx: np.ndarray) -> np.ndarray:
            counting = bar.start(idx)
            values = difference(idx)
            if counting:
                bar.update(len(idx))
            return values

        return counted

    if get_task(task).resampled_unit == "query":
        queries = a.queries
        per_a, per_b = per_query(metric, a.y, a.scores, queries), per_query(metric, b.y, b.scores, queries)
        return batched(lambda idx: per_b[idx].mean(axis=1) - per_a[idx].mean(axis=1)), len(queries), "query"
    n = len(a.y)
    rows_a, rows_b = _per_row(metric, a), _per_row(metric, b)
    if rows_a is not None and rows_b is not None:
        root = np.sqrt if metric == "rmse" else (lambda v: v)
        return batched(lambda idx: root(rows_b[idx].mean(axis=1)) - root(rows_a[idx].mean(axis=1))), n, "row"
    if metric == "auc":  # binary: P(positive) is column 1
        return batched(lambda idx: auc_batch(a.y, b.p, idx) - auc_batch(a.y, a.p, idx)), n, "row"

    def loop(idx: np.ndarray) -> np.ndarray:
        from sklearn import config_context

        counting = bar.start(idx)
        values = np.empty(len(idx))
        # the rows were validated once; scikit-learn's per-call checks would dominate the loop
        with config_context(skip_parameter_validation=True, assume_finite=True):
            for k, i in enumerate(idx):
                values[k] = metric_value(task, metric, b.subset(i)) - metric_value(task, metric, a.subset(i))
                if counting:
                    bar.update(1)
        return values

    return loop, n, "row"
