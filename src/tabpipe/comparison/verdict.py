"""Which test decides a comparison, and how the other tests stand against that verdict.

The paired bootstrap CI of the primary metric decides. McNemar's test (on the labels) and
the fold t-test (on the per-fold values of the primary metric) answer related but different
questions, so each is reported as agreeing or disagreeing with the verdict, never silently
beside it: "B is significantly better on auc" next to "mean B - A -0.0016" must say that the
t-test disagrees.
"""

from __future__ import annotations

from tabpipe.comparison.document import ComparisonDocument, Outcome, Verdict

DECIDED_BY = "paired bootstrap"


def _side(b_minus_a: float) -> str | None:
    return "b" if b_minus_a > 0 else "a" if b_minus_a < 0 else None


def _outcome(
    test: str, leans: str | None, p_value: float | None, alpha: float, better: str | None
) -> Outcome:
    # a NaN or missing p (identical folds) is never significant
    favours = leans if p_value is not None and p_value < alpha else None
    return Outcome(test=test, favours=favours, leans=leans, p_value=p_value, agrees=favours == better)


def other_tests(result: ComparisonDocument) -> list[Outcome]:
    """McNemar and the fold t-test where they ran, each against ``result.better``."""
    alpha = 1 - result.bootstrap.confidence
    outcomes = []
    if result.mcnemar:
        table = result.mcnemar.table
        leans = _side(table.a_wrong_b_right - table.a_right_b_wrong)
        outcomes.append(_outcome("McNemar", leans, result.mcnemar.p_value, alpha, result.better))
    fold = result.fold_ttest
    if fold.available:
        sign = 1 if result.higher_is_better else -1
        leans = _side(sign * float(fold.mean_difference or 0.0))
        outcomes.append(_outcome("fold t-test", leans, fold.p_value, alpha, result.better))
    return outcomes


def verdict_record(result: ComparisonDocument) -> Verdict:
    """What the JSON keeps: the deciding test, its verdict, the other tests' standing."""
    return Verdict(decided_by=DECIDED_BY, better=result.better, other_tests=other_tests(result))


def standing(outcome: Outcome) -> str:
    """``B better: agrees`` / ``no significant difference (leans A): DISAGREES with the verdict``."""
    if outcome.favours:
        found = f"{outcome.favours.upper()} significantly better"
    else:
        lean = f" (leans {outcome.leans.upper()})" if outcome.leans else ""
        found = f"no significant difference{lean}"
    return f"{found}: {'agrees with' if outcome.agrees else 'DISAGREES with'} the verdict"
