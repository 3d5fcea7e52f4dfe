"""The readable form of a comparison (the JSON holds the same numbers)."""

from __future__ import annotations

from typing import Any

from tabpipe.comparison.verdict import DECIDED_BY, other_tests, standing


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def format_comparison(result: dict[str, Any]) -> str:
    a, b, boot = result["a"], result["b"], result["bootstrap"]
    level = round(100 * boot["confidence"])
    lines = [
        f"A: {a['label']}  ({a['kind']}, {a['model']}, {a['folds']} fold{'s' * (a['folds'] > 1)})",
        f"B: {b['label']}  ({b['kind']}, {b['model']}, {b['folds']} fold{'s' * (b['folds'] > 1)})",
        f"rows: {result['rows']['which']}",
        "",
        f"{'metric':<14}{'A':>10}{'B':>10}{'B - A':>10}   {level}% CI of B - A",
    ]
    for name in sorted(result["metrics"]["a"]):
        va, vb = result["metrics"]["a"][name], result["metrics"]["b"][name]
        primary = name == result["metric"]
        interval = f"[{boot['low']:+.4f}, {boot['high']:+.4f}]" if primary else ""
        label = f"{name} *" if primary else name
        lines.append(f"{label:<14}{va:>10.4f}{vb:>10.4f}{vb - va:>+10.4f}   {interval}")
    unit_plural = {"row": "rows", "query": "queries"}[result["rows"]["resampled_unit"]]
    lines += [
        "",
        f"* primary ({'higher' if result['higher_is_better'] else 'lower'} is better); paired bootstrap "
        f"over {result['rows']['resampled_units']} {unit_plural}, {boot['n_resamples']} resamples, "
        f"seed {boot['seed']}",
    ]
    interval = f"{level}% CI of B - A [{boot['low']:+.4f}, {boot['high']:+.4f}]"
    if result["better"]:
        lines.append(
            f"verdict: {result['better'].upper()} is significantly better on {result['metric']} "
            f"(decided by the {DECIDED_BY}: {interval} excludes 0)"
        )
    else:
        lines.append(
            f"verdict: no significant difference on {result['metric']} "
            f"(decided by the {DECIDED_BY}: {interval} contains 0)"
        )
    outcomes = {outcome.test: outcome for outcome in other_tests(result)}
    if result["mcnemar"]:
        m = result["mcnemar"]
        t = m["table"]
        lines.append(
            f"McNemar (labels): A right/B wrong {t['a_right_b_wrong']}, "
            f"A wrong/B right {t['a_wrong_b_right']}; "
            f"exact p = {m['p_value']:.4g} (chi2 with continuity correction p = {m['chi2_cc_p_value']:.4g})"
            f" -> {standing(outcomes['McNemar'])}"
        )
    fold = result["fold_ttest"]
    if fold.get("available"):
        lines.append(
            f"fold t-test ({fold['folds']} folds, {result['metric']}): "
            f"mean B - A {fold['mean_difference']:+.4f}, "
            f"t = {_number(fold['t'])}, p = {_number(fold['p_value'])} -> {standing(outcomes['fold t-test'])}"
        )
    else:
        lines.append(f"fold t-test: not run ({fold['reason']})")
    return "\n".join(lines)
