"""The drift statistics: reference-bin counts, PSI, KL, KS and chi-square p-values, BH.

**Smoothing.** An empty bin has share 0, and both PSI and KL take ``log(share)``. Every share
below ``epsilon`` (default 1e-4, ``monitor.epsilon``) is raised to ``epsilon`` and the shares
are renormalised to sum to 1, on both sides, before either statistic is computed:

* ``PSI = sum((c - r) * ln(c / r))`` over the reference's bins (the population stability
  index; symmetric);
* ``KL(reference || current) = sum(r * ln(r / c))``.

With ``epsilon = 1e-4`` a bin holding 10% of the current rows but none of the reference
contributes ``0.1 * ln(0.1 / 1e-4) ~ 0.69`` to PSI: an alert on its own, as it should be.

Missing values never enter the bins (the reference shares are of present values too); their
rate is compared separately, so a column that goes 30% missing is reported, not hidden.

scipy is imported inside the functions that need it: the serving gauges use only numpy.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

EPSILON = 1e-4
OTHER = "__other__"
MAX_PASS_EDGES = 32
KS_MAX_CURRENT = 100_000


def smoothed(shares: np.ndarray, epsilon: float = EPSILON) -> np.ndarray:
    """Shares (or counts) with every value below ``epsilon`` raised to it, renormalised."""
    values = np.asarray(shares, dtype=np.float64)
    total = values.sum()
    values = values / total if total > 0 else np.full(len(values), 1.0 / max(len(values), 1))
    values = np.maximum(values, epsilon)
    return values / values.sum()


def psi(reference: np.ndarray, current: np.ndarray, epsilon: float = EPSILON) -> float:
    """Population stability index of two share (or count) vectors over the same bins."""
    r, c = smoothed(reference, epsilon), smoothed(current, epsilon)
    return float(np.sum((c - r) * np.log(c / r)))


def kl_divergence(reference: np.ndarray, current: np.ndarray, epsilon: float = EPSILON) -> float:
    """KL(reference || current), with the same smoothing as :func:`psi`."""
    r, c = smoothed(reference, epsilon), smoothed(current, epsilon)
    return float(np.sum(r * np.log(r / c)))


def numeric_counts(values: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, int]:
    """Counts of ``values`` in the reference bins ``(-inf, e1], ..., (ek, inf)`` and the number
    of missing (NaN) values.

    With the profile's handful of edges, one vectorised ``values <= e`` count per edge gives
    the cumulative counts (NaN compares false, so it falls in no bin): about 6x faster than a
    per-value binary search (``searchsorted`` + ``bincount``), which is kept for many edges.
    """
    values = np.asarray(values).reshape(-1)
    missing = int(np.count_nonzero(np.isnan(values)))
    present = len(values) - missing
    if len(edges) > MAX_PASS_EDGES:
        counts = np.bincount(np.searchsorted(edges, values, side="left"), minlength=len(edges) + 1)
        counts[-1] -= missing  # NaN sorts after every edge: searchsorted put it in the last bin
        return counts, missing
    cumulative = [np.count_nonzero(values <= edge) for edge in edges]
    return np.diff(np.array([0, *cumulative, present], dtype=np.int64)), missing


def category_counts(values: pd.Series, listed: list[str]) -> tuple[np.ndarray, int, dict[str, int]]:
    """Counts of the reference's ``listed`` categories plus one trailing bucket for every
    other value (the reference's ``__other__`` tail, or categories it never saw), the number
    of missing values, and the counts of those other values by name (for the report: a new
    dominant category is named).

    One hash pass (``value_counts``); the mapping onto the reference is over distinct values.
    """
    counted = values.value_counts(dropna=True, sort=False)
    missing = int(len(values) - counted.sum())
    position = {name: i for i, name in enumerate(listed)}
    counts = np.zeros(len(listed) + 1, dtype=np.int64)
    unlisted: dict[str, int] = {}
    for value, count in counted.items():
        if count == 0:
            continue
        i = position.get(str(value))
        if i is None:
            unlisted[str(value)] = int(count)
        else:
            counts[i] += count
    counts[-1] = sum(unlisted.values())
    return counts, missing, unlisted


def ks_test(reference_sample: list[float], present: np.ndarray) -> tuple[float, float]:
    """Two-sample KS statistic and p-value against the profile's quantile sample.

    The reference side is the profile's ``ks_sample`` (up to 1000 evenly spaced quantiles of
    the training values), so the p-value is that of a 1000-row reference sample: conservative.
    For the same reason the current side is capped at ``KS_MAX_CURRENT`` values (a seeded
    random subsample): the effective sample size ``n*m/(n+m)`` moves by under 1%, and the
    sort no longer dominates the run on millions of rows.
    """
    from scipy.stats import ks_2samp

    if len(present) > KS_MAX_CURRENT:
        present = np.random.default_rng(0).choice(present, KS_MAX_CURRENT, replace=False)
    result = ks_2samp(np.asarray(reference_sample, dtype=np.float64), present)
    return float(result.statistic), float(result.pvalue)


def chi2_test(
    reference_shares: np.ndarray, counts: np.ndarray, epsilon: float = EPSILON
) -> tuple[float, float]:
    """Chi-square goodness of fit of the current counts to the (smoothed) reference shares."""
    from scipy.stats import chisquare

    observed = np.asarray(counts, dtype=np.float64)
    expected = smoothed(reference_shares, epsilon) * observed.sum()
    result = chisquare(observed, f_exp=expected)
    return float(result.statistic), float(result.pvalue)


def adjust_p_values(p_values: list[float | None], method: str) -> list[float | None]:
    """Benjamini-Hochberg (``bh``) or Benjamini-Yekutieli (``by``) adjusted p-values over the
    features that have one (``scipy.stats.false_discovery_control``); ``none`` keeps them."""
    present = [i for i, p in enumerate(p_values) if p is not None]
    if method == "none" or not present:
        return list(p_values)
    from scipy.stats import false_discovery_control

    adjusted = false_discovery_control(
        np.array([p_values[i] for i in present], dtype=np.float64), method=method
    )
    out: list[float | None] = [None] * len(p_values)
    for i, value in zip(present, adjusted, strict=True):
        out[i] = float(value)
    return out
