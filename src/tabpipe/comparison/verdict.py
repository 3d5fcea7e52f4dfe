"""Which test decides a comparison, and how the other tests stand against that verdict.

The paired bootstrap CI of the primary metric decides. McNemar's test (on the labels) and
the fold t-test (on the per-fold values of the primary metric) answer related but different
questions, so each is reported as agreeing or disagreeing with the verdict, never silently
beside it: "B is significantly better on auc" next to "mean B - A -0.0016" must say that the
t-test disagrees.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

DECIDED_BY = "paired bootstrap"


@dataclass(frozen=True)
class Outcome:
    test: str  # "McNemar" | "fold t-test"
    # the side the test finds significantly better at the comparison's level: "a", "b" or None
    favours: str | None
    # the side its estimate points to, significant or not ("a", "b" or None for a tie)
    leans: str | None
    p_value: float
    agrees: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _side(b_minus_a: float) -> str | None:
    return "b" if b_minus_a > 0 else "a" if b_minus_a < 0 else None


def _outcome(test: str, leans: str | None, p_value: float, alpha: float, better: str | None) -> Outcome:
    favours = leans if p_value < alpha else None  # NaN p (identical folds) is never significant
    return Outcome(test, favours, leans, p_value, favours == better)


def other_tests(result: dict[str, Any]) -> list[Outcome]:
    """McNemar and the fold t-test where they ran, each against ``result['better']``."""
    alpha = 1 - float(result["bootstrap"]["confidence"])
    better = result["better"]
    outcomes = []
    if result.get("mcnemar"):
        m = result["mcnemar"]
        table = m["table"]
        leans = _side(table["a_wrong_b_right"] - table["a_right_b_wrong"])
        outcomes.append(_outcome("McNemar", leans, float(m["p_value"]), alpha, better))
    fold = result.get("fold_ttest") or {}
    if fold.get("available"):
        sign = 1 if result["higher_is_better"] else -1
        leans = _side(sign * float(fold["mean_difference"]))
        outcomes.append(_outcome("fold t-test", leans, float(fold["p_value"]), alpha, better))
    return outcomes


def verdict_record(result: dict[str, Any]) -> dict[str, Any]:
    """What the JSON keeps: the deciding test, its verdict, the other tests' standing."""
    return {
        "decided_by": DECIDED_BY,
        "better": result["better"],
        "other_tests": [outcome.as_dict() for outcome in other_tests(result)],
    }


def standing(outcome: Outcome) -> str:
    """``B better: agrees`` / ``no significant difference (leans A): DISAGREES with the verdict``."""
    if outcome.favours:
        found = f"{outcome.favours.upper()} significantly better"
    else:
        lean = f" (leans {outcome.leans.upper()})" if outcome.leans else ""
        found = f"no significant difference{lean}"
    return f"{found}: {'agrees with' if outcome.agrees else 'DISAGREES with'} the verdict"
