"""The comparison document: what ``tabpipe compare`` prints and writes (``--output``), and
what ``registry promote --require-significant`` records. Built once, read by attribute;
``model_dump_json`` writes NaN (a t-test over identical folds) as null, strict JSON."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, SerializerFunctionWrapHandler, model_serializer

from tabpipe.comparison.significance import BootstrapCI

Side = Literal["a", "b"]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CandidateSummary(_Record):
    ref: str
    label: str
    kind: Literal["run", "bundle"]
    path: str
    model: str
    folds: int


class RowsSummary(_Record):
    count: int
    which: str
    resampled_unit: Literal["row", "query"]
    resampled_units: int


class PairedMetrics(_Record):
    a: dict[str, float | None]
    b: dict[str, float | None]


class McNemarTable(_Record):
    both_right: int
    a_right_b_wrong: int
    a_wrong_b_right: int
    both_wrong: int


class McNemarResult(_Record):
    table: McNemarTable
    p_value: float
    test: str
    chi2_cc: float
    chi2_cc_p_value: float


class FoldTTest(_Record):
    """The paired t-test over folds (``available``), or why it did not run (``reason``);
    written with the fields of its case only."""

    available: bool
    reason: str | None = None
    folds: int | None = None
    a: list[float] | None = None
    b: list[float] | None = None
    mean_difference: float | None = None
    t: float | None = None
    p_value: float | None = None

    @model_serializer(mode="wrap")
    def _set_fields_only(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return {k: v for k, v in handler(self).items() if k in self.model_fields_set}


class Outcome(_Record):
    """Another test's standing against the verdict (:mod:`tabpipe.comparison.verdict`)."""

    test: Literal["McNemar", "fold t-test"]
    # the side the test finds significantly better at the comparison's level
    favours: Side | None
    # the side its estimate points to, significant or not (None for a tie)
    leans: Side | None
    p_value: float | None
    agrees: bool


class Verdict(_Record):
    decided_by: str
    better: Side | None
    other_tests: list[Outcome]


class ComparisonDocument(_Record):
    a: CandidateSummary
    b: CandidateSummary
    task: str
    rows: RowsSummary
    metric: str
    higher_is_better: bool
    metrics: PairedMetrics
    bootstrap: BootstrapCI
    significant: bool
    better: Side | None
    mcnemar: McNemarResult | None = None
    fold_ttest: FoldTTest
    verdict: Verdict | None = None

    def improvement_ci(self) -> tuple[float, float, float]:
        """(estimate, low, high) of B's improvement over A, positive = B is better."""
        boot = self.bootstrap
        if self.higher_is_better:
            return boot.estimate, boot.low, boot.high
        return -boot.estimate, -boot.high, -boot.low


class SignificanceRecord(_Record):
    """What ``promote --require-significant`` records with the move (alias_history.jsonl)."""

    required: bool = True
    holder: int | None
    result: str | None = None  # when there was no holder to beat
    metric: str | None = None
    holder_value: float | None = None
    candidate_value: float | None = None
    improvement: float | None = None
    ci: tuple[float, float] | None = None
    confidence: float | None = None
    n_resamples: int | None = None
    seed: int | None = None
    rows: RowsSummary | None = None
    significant: bool | None = None
    mcnemar_p_value: float | None = None

    def as_note(self) -> dict[str, Any]:
        """The fields set, as strict JSON values (NaN as null), for the alias history."""
        return json.loads(self.model_dump_json(exclude_unset=True))
