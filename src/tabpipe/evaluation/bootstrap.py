"""The one bootstrap of tabpipe: a seeded percentile bootstrap over resampled units (rows, or
ranked queries), by ``scipy.stats.bootstrap``. Used by the segment intervals of the evaluation
and by the paired CI of ``tabpipe compare``.

The statistic gets a batch of resampled unit indices, ``[B, n]``, and returns the ``B``
values, so that a caller scores whatever the units index (two models' rows at once, for a
paired difference). A resample where the statistic is undefined (one class only: no AUC) is
NaN; the interval is taken over the finite values and says how many there were, so that the
caller decides (a segment skips them; a comparison does not).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

# maps a batch of resampled unit indices [B, n] to the B values of the statistic
Statistic = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Interval:
    low: float  # NaN when no resample was defined
    high: float
    defined: int  # the resamples whose statistic is finite
    n_resamples: int


def percentile_bootstrap(
    statistic: Statistic, n_units: int, n_resamples: int, confidence: float, seed: int
) -> Interval:
    """The ``confidence`` percentile interval of ``statistic`` over ``n_resamples`` resamples,
    with replacement, of ``n_units`` units; ``seed`` fixes the resamples."""
    from scipy.stats import DegenerateDataWarning, bootstrap

    def batched(indices: np.ndarray, axis: int = -1) -> np.ndarray:
        indices = np.asarray(indices)
        flat = indices.reshape(-1, indices.shape[-1])
        return np.asarray(statistic(flat), dtype=np.float64).reshape(indices.shape[:-1])

    with warnings.catch_warnings():  # undefined resamples are counted below, not warned about
        warnings.simplefilter("ignore", DegenerateDataWarning)
        result = bootstrap(
            (np.arange(n_units),),
            batched,
            n_resamples=n_resamples,
            batch=max(1, min(n_resamples, 5_000_000 // max(n_units, 1))),
            vectorized=True,
            axis=-1,
            confidence_level=confidence,
            method="percentile",
            rng=np.random.default_rng(seed),
        )
    values = np.asarray(result.bootstrap_distribution, dtype=np.float64)
    finite = values[np.isfinite(values)]
    if len(finite) == len(values):  # scipy's interval, as computed
        low, high = float(result.confidence_interval.low), float(result.confidence_interval.high)
    elif len(finite):
        tail = (1 - confidence) / 2 * 100
        low, high = (float(v) for v in np.percentile(finite, [tail, 100 - tail]))
    else:
        low = high = float("nan")
    return Interval(low, high, len(finite), n_resamples)
