"""The readable form of a comparison (the JSON holds the same numbers)."""

from __future__ import annotations

import math

from tabpipe.comparison.document import CandidateSummary, ComparisonDocument
from tabpipe.comparison.verdict import DECIDED_BY, other_tests, standing


def _number(value: float | None) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:.4f}"


def _candidate(side: str, c: CandidateSummary) -> str:
    return f"{side}: {c.label}  ({c.kind}, {c.model}, {c.folds} fold{'s' * (c.folds > 1)})"


def _metric_lines(result: ComparisonDocument) -> list[str]:
    boot = result.bootstrap
    lines = []
    for name in sorted(result.metrics.a):
        va, vb = result.metrics.a[name], result.metrics.b[name]
        primary = name == result.metric
        interval = f"[{boot.low:+.4f}, {boot.high:+.4f}]" if primary else ""
        label = f"{name} *" if primary else name
        lines.append(f"{label:<14}{va:>10.4f}{vb:>10.4f}{vb - va:>+10.4f}   {interval}")
    return lines


def _verdict_line(result: ComparisonDocument, level: int) -> str:
    boot = result.bootstrap
    interval = f"{level}% CI of B - A [{boot.low:+.4f}, {boot.high:+.4f}]"
    if result.better:
        return (
            f"verdict: {result.better.upper()} is significantly better on {result.metric} "
            f"(decided by the {DECIDED_BY}: {interval} excludes 0)"
        )
    return (
        f"verdict: no significant difference on {result.metric} "
        f"(decided by the {DECIDED_BY}: {interval} contains 0)"
    )


def _other_test_lines(result: ComparisonDocument) -> list[str]:
    outcomes = {outcome.test: outcome for outcome in other_tests(result)}
    lines = []
    if result.mcnemar:
        m, t = result.mcnemar, result.mcnemar.table
        lines.append(
            f"McNemar (labels): A right/B wrong {t.a_right_b_wrong}, A wrong/B right {t.a_wrong_b_right}; "
            f"exact p = {m.p_value:.4g} (chi2 with continuity correction p = {m.chi2_cc_p_value:.4g})"
            f" -> {standing(outcomes['McNemar'])}"
        )
    fold = result.fold_ttest
    if fold.available:
        lines.append(
            f"fold t-test ({fold.folds} folds, {result.metric}): "
            f"mean B - A {fold.mean_difference:+.4f}, "
            f"t = {_number(fold.t)}, p = {_number(fold.p_value)} -> {standing(outcomes['fold t-test'])}"
        )
    else:
        lines.append(f"fold t-test: not run ({fold.reason})")
    return lines


def format_comparison(result: ComparisonDocument) -> str:
    boot, rows = result.bootstrap, result.rows
    level = round(100 * boot.confidence)
    unit_plural = {"row": "rows", "query": "queries"}[rows.resampled_unit]
    return "\n".join(
        [
            _candidate("A", result.a),
            _candidate("B", result.b),
            f"rows: {rows.which}",
            "",
            f"{'metric':<14}{'A':>10}{'B':>10}{'B - A':>10}   {level}% CI of B - A",
            *_metric_lines(result),
            "",
            f"* primary ({'higher' if result.higher_is_better else 'lower'} is better); paired bootstrap "
            f"over {rows.resampled_units} {unit_plural}, {boot.n_resamples} resamples, seed {boot.seed}",
            _verdict_line(result, level),
            *_other_test_lines(result),
        ]
    )
