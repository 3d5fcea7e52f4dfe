"""Paired significance tests (scipy.stats): a bootstrap CI of a metric difference, McNemar's
test on two classifiers' per-row correctness, a paired t-test across CV folds."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

# maps a batch of resampled unit indices [B, n] to the B metric differences (B minus A)
Difference = Callable[[np.ndarray], np.ndarray]


class BootstrapCI(BaseModel):
    """The paired bootstrap CI of a metric's difference, B minus A (also the comparison
    document's ``bootstrap`` record)."""

    model_config = ConfigDict(extra="forbid")

    difference: Literal["b - a"] = "b - a"
    estimate: float  # the difference on the rows as they are
    low: float
    high: float
    confidence: float
    n_resamples: int
    seed: int
    method: str = "percentile"

    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0


def paired_bootstrap_ci(
    difference: Difference,
    n_units: int,
    n_resamples: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> BootstrapCI:
    """Percentile CI of ``difference`` when the units (rows, or queries for ranking) are
    resampled with replacement; both models are always scored on the same resampled units
    (paired), and ``seed`` fixes the resamples (:func:`tabpipe.evaluation.bootstrap.percentile_bootstrap`).
    A resample where the difference is undefined makes the interval NaN (never significant)."""
    from tabpipe.evaluation.bootstrap import percentile_bootstrap

    interval = percentile_bootstrap(difference, n_units, n_resamples, confidence, seed)
    low, high = (interval.low, interval.high) if interval.defined == n_resamples else (np.nan, np.nan)
    return BootstrapCI(
        estimate=float(difference(np.arange(n_units)[None, :])[0]),
        low=float(low),
        high=float(high),
        confidence=confidence,
        n_resamples=n_resamples,
        seed=seed,
    )


def mcnemar(a_correct: np.ndarray, b_correct: np.ndarray) -> dict[str, Any]:
    """McNemar's test on the discordant rows: ``b`` = A right and B wrong, ``c`` = A wrong and
    B right. The p-value is the exact one (``scipy.stats.binomtest(b, b + c, 0.5)``,
    two-sided), valid at any count; the chi-squared statistic with continuity correction,
    (|b - c| - 1)^2 / (b + c) on 1 degree of freedom, is reported next to it."""
    from scipy.stats import binomtest, chi2

    a_correct, b_correct = np.asarray(a_correct, bool), np.asarray(b_correct, bool)
    both = int(np.sum(a_correct & b_correct))
    only_a = int(np.sum(a_correct & ~b_correct))
    only_b = int(np.sum(~a_correct & b_correct))
    neither = int(np.sum(~a_correct & ~b_correct))
    discordant = only_a + only_b
    exact = float(binomtest(only_a, discordant, 0.5).pvalue) if discordant else 1.0
    statistic = (abs(only_a - only_b) - 1) ** 2 / discordant if discordant else 0.0
    return {
        "table": {
            "both_right": both,
            "a_right_b_wrong": only_a,
            "a_wrong_b_right": only_b,
            "both_wrong": neither,
        },
        "p_value": exact,
        "test": "exact binomial on the discordant rows",
        "chi2_cc": float(statistic),
        "chi2_cc_p_value": float(chi2.sf(statistic, 1)) if discordant else 1.0,
    }


def fold_ttest(a_values: Sequence[float], b_values: Sequence[float]) -> dict[str, Any]:
    """``scipy.stats.ttest_rel`` on the per-fold metrics of two runs with the same folds.
    The folds share training rows, so the test is optimistic (Nadeau & Bengio, 2003); read
    it next to the bootstrap CI, not instead of it."""
    from scipy.stats import ttest_rel

    a, b = np.asarray(a_values, float), np.asarray(b_values, float)
    result = ttest_rel(b, a)
    return {
        "folds": len(a),
        "a": a.tolist(),
        "b": b.tolist(),
        "mean_difference": float(np.mean(b - a)),
        "t": float(result.statistic),
        "p_value": float(result.pvalue),
    }
