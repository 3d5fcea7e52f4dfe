"""One drift result per feature and per prediction output, each with a severity.

Severity (``ok`` < ``warn`` < ``alert``) is the worst of three checks, each from config
(:class:`tabpipe.config.app_schema.DriftThresholds`, the ``tabpipe monitor`` config itself):

* PSI on the reference bins: below ``psi_warn`` (0.1) ok, up to ``psi_alert`` (0.25) warn,
  above it alert (the credit-scoring convention);
* the change of the missing rate, in absolute terms: ``missing_warn`` (0.05) and
  ``missing_alert`` (0.10);
* optionally the test p-value (KS for numbers, chi-square for categories), after the
  multiple-testing correction (Benjamini-Hochberg by default): below ``alpha`` it raises the
  severity to ``severity`` (``tests.alpha`` is null by default: p-values are reported only,
  since with many rows they flag differences too small to matter).

A feature with fewer than ``min_samples`` current values is ``insufficient_data``, never an
alert, unless its missing rate alone (judged on all its rows) breaks a threshold.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from tabpipe.config import option_value
from tabpipe.config.app_schema import DriftThresholds
from tabpipe.export.documents import CategoricalProfile, NumericProfile
from tabpipe.monitoring import drift, figure

SEVERITIES = ("ok", "insufficient_data", "warn", "alert")
Thresholds = DriftThresholds  # the one declaration, in the monitor's config schema


def thresholds_record(t: DriftThresholds) -> dict[str, Any]:
    """The thresholds as ``drift.json`` records them (flat keys)."""
    return {
        "psi_warn": t.severity.psi_warn,
        "psi_alert": t.severity.psi_alert,
        "missing_warn": t.severity.missing_warn,
        "missing_alert": t.severity.missing_alert,
        "epsilon": t.epsilon,
        "min_samples": t.min_samples,
        "alpha": t.tests.alpha,
        "test_severity": option_value(t.tests.severity),
        "correction": option_value(t.tests.correction),
    }


@dataclass
class FeatureDrift:
    name: str
    kind: str
    rows: int
    present: int
    psi: float | None = None
    kl: float | None = None
    test: str | None = None
    statistic: float | None = None
    p_value: float | None = None
    p_adjusted: float | None = None
    missing_reference: float | None = None
    missing_current: float | None = None
    missing_change: float | None = None
    bins: list[str] = field(default_factory=list)
    reference_shares: list[float] = field(default_factory=list)
    current_shares: list[float] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    unlisted_categories: dict[str, int] = field(default_factory=dict)
    severity: str = "ok"
    reasons: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def worst(*severities: str) -> str:
    return max(severities, key=SEVERITIES.index)


def _numeric_labels(edges: np.ndarray) -> list[str]:
    if len(edges) == 0:
        return ["all"]
    cuts = [f"{e:.4g}" for e in edges]
    inner = [f"({a}, {b}]" for a, b in itertools.pairwise(cuts)]
    return [f"<= {cuts[0]}", *inner, f"> {cuts[-1]}"]


def _with_shares(result: FeatureDrift, reference: np.ndarray, counts: np.ndarray, eps: float) -> None:
    result.reference_shares = [float(v) for v in reference]
    result.counts = [int(v) for v in counts]
    total = counts.sum()
    result.current_shares = [float(v) for v in (counts / total if total else counts.astype(float))]
    if total:
        result.psi = drift.psi(reference, counts, eps)
        result.kl = drift.kl_divergence(reference, counts, eps)


def compare_numeric(name: str, entry: NumericProfile, values: np.ndarray, t: Thresholds) -> FeatureDrift:
    """``values``: float64, NaN for missing (datetimes as seconds)."""
    edges = np.asarray(entry.edges, dtype=np.float64)
    counts, missing = drift.numeric_counts(values, edges)
    result = FeatureDrift(name, entry.type, len(values), len(values) - missing)
    result.bins = _numeric_labels(edges)
    _missing(result, entry.missing_rate, missing)
    if result.present and entry.shares:
        _with_shares(result, np.asarray(entry.shares), counts, t.epsilon)
    return result


def add_ks(result: FeatureDrift, entry: NumericProfile, values: np.ndarray, t: Thresholds) -> None:
    """KS test of the present values against the profile's quantile sample (profiles written
    before the sample existed get no test)."""
    if entry.ks_sample and result.present >= t.min_samples:
        result.test = "ks"
        result.statistic, result.p_value = drift.ks_test(entry.ks_sample, values[~np.isnan(values)])


def add_chi2(result: FeatureDrift, t: Thresholds) -> None:
    """Chi-square test of the current bin counts against the reference shares."""
    if result.counts and result.present >= t.min_samples:
        result.test = "chi2"
        result.statistic, result.p_value = drift.chi2_test(
            np.asarray(result.reference_shares), np.asarray(result.counts), t.epsilon
        )


def compare_categorical(
    name: str, entry: CategoricalProfile, values: pd.Series, t: Thresholds
) -> FeatureDrift:
    """``values``: text categories, NaN for missing (``coerce_columns``' categorical form)."""
    listed = entry.listed
    counts, missing, unlisted = drift.category_counts(values, listed)
    result = FeatureDrift(name, "categorical", len(values), len(values) - missing)
    result.bins = [*listed, drift.OTHER]
    reference = np.array(entry.reference_shares())
    top = sorted(unlisted.items(), key=lambda item: -item[1])[:5]
    result.unlisted_categories = dict(top)
    _missing(result, entry.missing_rate, missing)
    if result.present:
        _with_shares(result, reference, counts, t.epsilon)
    return result


def compare_binned(
    name: str, edges: list[float], reference: list[float], values: np.ndarray, t: Thresholds
) -> FeatureDrift:
    """Predicted probabilities on the profile's equal-width bins (``np.histogram``'s rule)."""
    values = np.asarray(values, dtype=np.float64)
    present = values[~np.isnan(values)]
    counts = np.histogram(present, bins=np.asarray(edges))[0]
    result = FeatureDrift(name, "prediction", len(values), len(present))
    result.bins = [f"[{a:.2f}, {b:.2f})" for a, b in itertools.pairwise(edges)]
    _missing(result, 0.0, len(values) - len(present))
    if len(present):
        _with_shares(result, np.asarray(reference), counts, t.epsilon)
    return result


def _missing(result: FeatureDrift, reference_rate: float, missing: int) -> None:
    result.missing_reference = float(reference_rate)
    if result.rows:
        result.missing_current = missing / result.rows
        result.missing_change = result.missing_current - result.missing_reference


def judge(results: list[FeatureDrift], t: Thresholds) -> list[FeatureDrift]:
    """Adjust the p-values across all results, then set each severity and its reasons."""
    correction = option_value(t.tests.correction)
    adjusted = drift.adjust_p_values([r.p_value for r in results], correction)
    for result, p in zip(results, adjusted, strict=True):
        result.p_adjusted = p
        severity, reasons = "ok", []
        if result.rows < t.min_samples:
            result.severity = "insufficient_data"
            result.reasons = [f"{result.rows} rows < min_samples={t.min_samples}"]
            continue
        change = abs(result.missing_change or 0.0)
        if change >= t.severity.missing_alert or change >= t.severity.missing_warn:
            level = "alert" if change >= t.severity.missing_alert else "warn"
            severity = worst(severity, level)
            reasons.append(
                f"missing rate {figure(result.missing_reference)} -> {figure(result.missing_current)}"
            )
        if result.present < t.min_samples:
            severity = worst(severity, "insufficient_data")
            reasons.append(f"{result.present} present values < min_samples={t.min_samples}")
        elif result.psi is not None and result.psi >= t.severity.psi_warn:
            severity = worst(severity, "alert" if result.psi > t.severity.psi_alert else "warn")
            reasons.append(f"PSI {figure(result.psi)}")
        if t.tests.alpha is not None and p is not None and p < t.tests.alpha:
            severity = worst(severity, option_value(t.tests.severity))
            reasons.append(f"{result.test} p={figure(p)} < alpha={t.tests.alpha} ({correction})")
        if result.unlisted_categories and result.psi is not None and result.psi >= t.severity.psi_warn:
            name, count = next(iter(result.unlisted_categories.items()))
            reasons.append(f"unseen category {name!r} in {count / result.present:.0%} of rows")
        result.severity, result.reasons = severity, reasons
    return results


def rank(results: list[FeatureDrift]) -> list[FeatureDrift]:
    """By PSI, highest first; results without a PSI last."""
    return sorted(results, key=lambda r: (r.psi is None, -(r.psi or 0.0)))
