"""The reference profile: training distributions of every feature and of the predictions,
for drift monitoring (``tabpipe.monitoring``). Computed on the train split.

* numeric, boolean and datetime (as seconds) features: ``bins`` quantile bins given by their
  inner cut points (``edges``; bins are ``(-inf, e1], (e1, e2], ..., (ek, inf)``, fewer when
  quantiles coincide), the share of the present values in each bin, the missing rate, mean,
  std, min, max, and ``ks_sample``: up to 1000 evenly spaced quantiles of the values
  (observed values, ties kept), which the monitor's KS test compares with;
* categorical features: the frequencies of the ``top`` most common categories, the rest
  summed under ``"__other__"``, and the missing rate;
* the predictions: class shares and per-class probability bins (``bins`` equal-width bins
  on [0, 1]), or the regression predictions profiled like a numeric feature.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tabpipe.export.documents.profile import (
    OTHER,
    CategoricalProfile,
    ClassificationProfile,
    NumericProfile,
    ProfileDocument,
)
from tabpipe.tasks import get_task

KS_SAMPLE = 1000


def _numeric(values: pd.Series, bins: int, kind: str = "numeric") -> NumericProfile:
    present = values.dropna().to_numpy(dtype=np.float64)
    out: dict[str, Any] = {"type": kind, "missing_rate": float(values.isna().mean()), "count": len(values)}
    if len(present) == 0:
        return NumericProfile(**out)
    quantiles = np.quantile(present, np.linspace(0, 1, bins + 1)[1:-1])
    edges = np.unique(quantiles)  # inner cut points: bins are (-inf, e1], (e1, e2], ... (ek, inf)
    counts = np.bincount(np.searchsorted(edges, present, side="left"), minlength=len(edges) + 1)
    size = min(KS_SAMPLE, len(present))
    sample = np.quantile(present, (np.arange(size) + 0.5) / size, method="inverted_cdf")
    return NumericProfile(
        **out,
        edges=edges.tolist(),
        shares=(counts / counts.sum()).tolist(),
        mean=float(present.mean()),
        std=float(present.std()),
        min=float(present.min()),
        max=float(present.max()),
        ks_sample=sample.tolist(),
    )


def _categorical(values: pd.Series, top: int) -> CategoricalProfile:
    shares = values.dropna().astype(str).value_counts(normalize=True)
    kept = shares.head(top)
    frequencies = {str(k): float(v) for k, v in kept.items()}
    if len(shares) > top:
        frequencies[OTHER] = float(shares.iloc[top:].sum())
    return CategoricalProfile(
        missing_rate=float(values.isna().mean()), count=len(values), frequencies=frequencies
    )


def as_numbers(values: pd.Series, kind: str) -> pd.Series:
    """Datetimes as float seconds since the epoch (missing stays NaN); numbers as float64."""
    if kind == "datetime":
        seconds = values.astype("datetime64[ns]").astype("int64") / 1e9
        return seconds.where(values.notna())
    return values.astype(np.float64)


def reference_profile(
    features: pd.DataFrame,
    schema: dict,
    scores: np.ndarray,
    task: str,
    classes: list[str] | None,
    bins: int = 10,
    top: int = 50,
) -> ProfileDocument:
    profiled: dict[str, NumericProfile | CategoricalProfile] = {}
    for name, spec in schema.items():
        if spec.type == "categorical":
            profiled[name] = _categorical(features[name], top)
        else:
            profiled[name] = _numeric(as_numbers(features[name], spec.type), bins, spec.type)
    return ProfileDocument(
        bins=bins, rows=len(features), features=profiled, prediction=_prediction(scores, task, classes, bins)
    )


def _prediction(
    scores: np.ndarray, task: str, classes: list[str] | None, bins: int
) -> NumericProfile | ClassificationProfile:
    if not get_task(task).has_classes:
        return _numeric(pd.Series(scores), bins)
    labels = np.asarray(classes, dtype=object)[scores.argmax(axis=1)]
    shares = pd.Series(labels).value_counts(normalize=True)
    edges = np.linspace(0, 1, bins + 1)
    return ClassificationProfile(
        class_shares={str(c): float(shares.get(c, 0.0)) for c in classes or []},
        probability_edges=edges.tolist(),
        probability_shares={
            str(c): (np.histogram(scores[:, i], bins=edges)[0] / len(scores)).tolist()
            for i, c in enumerate(classes or [])
        },
    )
