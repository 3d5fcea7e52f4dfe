"""Metrics per task, from scikit-learn; which of them a task reports, and its primary one,
is the task's (:mod:`tabpipe.tasks`).

Keys (unprefixed; callers add ``test/``, ``val/``, ``baseline/test/``, ...):

* binary: ``auc`` (ROC), ``pr_auc`` (average precision), ``f1`` (positive class),
  ``f1_macro``, ``precision``, ``recall``, ``accuracy``, ``log_loss``, ``brier``, ``ece``;
* multiclass: ``f1_macro``, ``f1_weighted``, ``accuracy``, ``log_loss``, ``auc_ovr``
  (one-vs-rest, macro);
* regression: ``rmse``, ``mae``, ``r2``, ``mape`` (over the rows whose target is not zero);
* ranking: ``ndcg@k`` and ``map@k`` for every k of ``eval.ranking_k``, the mean over the
  queries (the rows' query ids, ``Scored.groups``) that have something to rank; see
  :mod:`tabpipe.evaluation.ranking_metrics`. Their names depend on the cut-offs, so ranking
  has no fixed entry in :data:`METRICS`; use :func:`metric_names` and :func:`metric_value`.

Label metrics use the labels the model outputs (binary: after its decision threshold).
A metric that is undefined on the rows (AUC with one class present) is NaN.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve

from tabpipe.errors import ConfigError
from tabpipe.evaluation import ranking_metrics
from tabpipe.tasks import get_task
from tabpipe.tasks.classification import normalised_probabilities as normalised_probabilities
from tabpipe.tasks.classification import predicted_labels as predicted_labels
from tabpipe.tasks.ranking import RANKING_K as RANKING_K

LOWER_IS_BETTER = frozenset({"log_loss", "brier", "ece", "rmse", "mae", "mape"})
CALIBRATION_BINS = 10


@dataclass(frozen=True)
class Scored:
    """Rows as a metric sees them: the target, the scores (probabilities [N, K],
    predictions or ranking scores [N]), the class indices the model outputs
    (classification) and the query id of each row (ranking)."""

    y: np.ndarray
    scores: np.ndarray
    labels: np.ndarray | None = None
    calibration_bins: int = CALIBRATION_BINS
    groups: np.ndarray | None = None

    @property
    def p(self) -> np.ndarray:
        return self.scores[:, 1]

    @property
    def classes(self) -> np.ndarray:
        return np.arange(self.scores.shape[1])

    @cached_property
    def per_class(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Precision, recall and F1 of every class from one confusion count (the label
        metrics read these instead of counting once each)."""
        precision, recall, f1, _ = skm.precision_recall_fscore_support(
            self.y, self.labels, labels=self.classes, average=None, zero_division=0.0
        )
        return precision, recall, f1

    @cached_property
    def queries(self) -> ranking_metrics.Queries:
        """Ranking: the row positions of each query that has something to rank."""
        return ranking_metrics.Queries.of(self.groups, self.y)

    def subset(self, rows: np.ndarray) -> Scored:
        """These rows only (ranking: each query keeps its items among them)."""
        labels = None if self.labels is None else self.labels[rows]
        groups = None if self.groups is None else self.groups[rows]
        return Scored(self.y[rows], self.scores[rows], labels, self.calibration_bins, groups)


def prefixed(metrics: dict[str, float], prefix: str) -> dict[str, float]:
    """``{name: v}`` -> ``{prefix/name: v}`` (``test/auc``, ``baseline/val/auc``)."""
    return {f"{prefix}/{name}": value for name, value in metrics.items()}


def expected_calibration_error(y_true: np.ndarray, p_positive: np.ndarray, n_bins: int) -> float:
    """ECE with equal-width bins: the sum over bins of (rows in bin / rows) x |observed
    positive rate - mean predicted probability|. The per-bin rates come from scikit-learn's
    ``calibration_curve``; the bin sizes use its bin assignment (``searchsorted`` on the
    inner edges), so the two line up bin for bin."""
    p = np.clip(np.asarray(p_positive, dtype=np.float64), 0.0, 1.0)
    prob_true, prob_pred = calibration_curve(y_true, p, n_bins=n_bins, strategy="uniform", pos_label=1)
    sizes = np.bincount(np.searchsorted(np.linspace(0, 1, n_bins + 1)[1:-1], p), minlength=n_bins)
    weights = sizes[sizes > 0] / len(p)
    return float(np.sum(weights * np.abs(prob_true - prob_pred)))


def mean_absolute_percentage_error(y_true: np.ndarray, pred: np.ndarray) -> float:
    """scikit-learn's MAPE over the rows whose target is not zero (a zero target has no
    percentage error; scikit-learn would divide by machine epsilon); NaN if all are zero."""
    nonzero = np.asarray(y_true) != 0
    if not nonzero.any():
        return float("nan")
    return float(skm.mean_absolute_percentage_error(y_true[nonzero], pred[nonzero]))


def _both_classes(s: Scored) -> bool:
    return len(np.unique(s.y)) == 2


def _all_classes(s: Scored) -> bool:
    return len(np.unique(s.y)) == s.scores.shape[1]


MetricFunction = Callable[[Scored], float]
# every metric by name; a task (tabpipe.tasks) names which of them it reports. Ranking metrics
# (ndcg@k, map@k) are named by their cut-off and computed by tabpipe.evaluation.ranking_metrics.
METRICS: dict[str, MetricFunction] = {
    # binary: the positive class (index 1)
    "auc": lambda s: skm.roc_auc_score(s.y, s.p) if _both_classes(s) else np.nan,
    "pr_auc": lambda s: skm.average_precision_score(s.y, s.p) if _both_classes(s) else np.nan,
    "f1": lambda s: s.per_class[2][1],
    "precision": lambda s: s.per_class[0][1],
    "recall": lambda s: s.per_class[1][1],
    "brier": lambda s: skm.brier_score_loss(s.y, s.p, pos_label=1),
    "ece": lambda s: expected_calibration_error(s.y, s.p, s.calibration_bins),
    # classification
    "f1_macro": lambda s: s.per_class[2].mean(),
    "f1_weighted": lambda s: skm.f1_score(
        s.y, s.labels, average="weighted", labels=s.classes, zero_division=0.0
    ),
    "accuracy": lambda s: skm.accuracy_score(s.y, s.labels),
    "log_loss": lambda s: skm.log_loss(s.y, s.scores, labels=s.classes),
    "auc_ovr": lambda s: (
        skm.roc_auc_score(s.y, s.scores, multi_class="ovr", labels=s.classes) if _all_classes(s) else np.nan
    ),
    # regression
    "rmse": lambda s: skm.root_mean_squared_error(s.y, s.scores),
    "mae": lambda s: skm.mean_absolute_error(s.y, s.scores),
    "r2": lambda s: skm.r2_score(s.y, s.scores),
    "mape": lambda s: mean_absolute_percentage_error(s.y, s.scores),
}


def scored(
    task: str,
    y_true: np.ndarray,
    scores: np.ndarray,
    labels: np.ndarray | None = None,
    calibration_bins: int = CALIBRATION_BINS,
    groups: np.ndarray | None = None,
) -> Scored:
    """Normalise inputs: float64 scores, as the task reads them (classification:
    probabilities renormalised, labels defaulting to the argmax); a task that ranks within
    queries needs the query id of every row."""
    strategy = get_task(task)
    scores, labels = strategy.prepare_scores(np.asarray(scores, dtype=np.float64), labels)
    if strategy.needs_groups and groups is None:
        raise ConfigError(
            f"task={strategy.name}: ranking metrics need the query id of every row (data.group_column)"
        )
    return Scored(
        np.asarray(y_true),
        scores,
        None if labels is None else np.asarray(labels),
        calibration_bins,
        None if groups is None else np.asarray(groups),
    )


def metric_names(task: str, ranking_k: Sequence[int] | None = None) -> list[str]:
    """The metrics of ``task`` in report order (ranking: one per kind and cut-off)."""
    return get_task(task).metric_names(ranking_k)


def metric_value(task: str, name: str, rows: Scored) -> float:
    """One metric on the rows; NaN where it is undefined (ranking: no query to rank)."""
    function = METRICS.get(name)
    if function is None:  # ndcg@k / map@k
        return ranking_metrics.mean_metric(name, rows.y, rows.scores, rows.queries)
    return float(function(rows))


def compute_metrics(
    task: str,
    y_true: np.ndarray,
    scores: np.ndarray,
    labels: np.ndarray | None = None,
    calibration_bins: int = CALIBRATION_BINS,
    groups: np.ndarray | None = None,
    ranking_k: Sequence[int] | None = None,
) -> dict[str, float]:
    """Every metric of ``task``. ``scores``: probabilities [N, K], predictions or ranking
    scores [N]; ``labels``: the class indices the model outputs (default: the argmax);
    ``groups``/``ranking_k``: the rows' query ids and the cut-offs (ranking only, which
    raises :class:`ConfigError` when no query has anything to rank)."""
    rows = scored(task, y_true, scores, labels, calibration_bins, groups)
    if get_task(task).needs_groups:
        ranking_metrics.require_queries(rows.queries)
    return {name: metric_value(task, name, rows) for name in metric_names(task, ranking_k)}


def primary_metric(task: str, configured: str | None, ranking_k: Sequence[int] | None = None) -> str:
    """The configured primary metric, checked against the task's metrics, else the task's
    default (ranking: ``ndcg@<largest k>``)."""
    return get_task(task).primary_metric(configured, ranking_k)


def headline_metrics(task: str, primary: str, ranking_k: Sequence[int] | None = None) -> list[str]:
    """The primary metric, then the task's secondary ones (ranking: the other metrics at the
    primary's cut-off)."""
    return get_task(task).headline_metrics(primary, ranking_k)


def improvement(metric: str, model: float, reference: float) -> float:
    """How much better ``model`` is than ``reference`` (positive = better), by direction."""
    return reference - model if metric in LOWER_IS_BETTER else model - reference
