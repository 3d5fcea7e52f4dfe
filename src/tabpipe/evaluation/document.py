"""The evaluation suite's documents: ``evaluation.json`` (:class:`EvaluationDocument`) and
``segments.json`` (:class:`SegmentsDocument`). ``report.md`` is rendered from them; they are
written with ``model_dump_json`` (strict JSON: a NaN metric is null)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    SerializerFunctionWrapHandler,
    ValidationError,
    model_serializer,
    model_validator,
)

from tabpipe.documents.base import DocumentError, one_line
from tabpipe.documents.metadata import GateResult, ThresholdChoice
from tabpipe.io import write_text_atomic


class _Document(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def write(self, path: Path) -> Path:
        """Atomically (a temporary file, then a rename)."""
        return write_text_atomic(path, self.model_dump_json(indent=2) + "\n")

    @classmethod
    def read(cls: type[D], path: Path) -> D:
        """``path`` validated; one line naming the file and the field when it does not."""
        try:
            return cls.model_validate_json(path.read_text())
        except ValidationError as error:
            raise DocumentError(one_line(error, path.name)) from None


D = TypeVar("D", bound=_Document)


class AtThreshold(_Document):
    precision: float
    recall: float
    f1: float
    cost: float


class ThresholdAnalysis(_Document):
    """The threshold in use (chosen on val) and, on the evaluated rows, the metrics at it and
    their own optima (information only). Written with the rows' prefix:
    ``test_at_threshold``, ``test_f1_optimal``, ``test_cost_optimal`` (``eval_`` for all rows)."""

    prefix: str
    in_use: ThresholdChoice
    at_threshold: AtThreshold
    f1_optimal: float
    cost_optimal: float

    @model_validator(mode="before")
    @classmethod
    def _unprefixed(cls, data: Any) -> Any:
        """Read back as written: the prefix from the ``<prefix>_at_threshold`` key."""
        if not isinstance(data, dict) or "prefix" in data:
            return data
        prefix = next((k.removesuffix("_at_threshold") for k in data if k.endswith("_at_threshold")), None)
        if prefix is None:
            return data
        names = ("at_threshold", "f1_optimal", "cost_optimal")
        written = {f"{prefix}_{name}" for name in names}
        return {k: v for k, v in data.items() if k not in written} | {
            "prefix": prefix,
            **{name: data[f"{prefix}_{name}"] for name in names if f"{prefix}_{name}" in data},
        }

    @model_serializer(mode="wrap")
    def _prefixed(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data = handler(self)
        return {"in_use": data["in_use"]} | {
            f"{self.prefix}_{name}": data[name] for name in ("at_threshold", "f1_optimal", "cost_optimal")
        }


class RankingSummary(_Document):
    queries: int
    ranked_queries: int  # queries with two items of different relevance


class ReferenceRecord(_Document):
    name: str  # baseline | production
    description: str
    note: str | None = None  # why it was not scored


@dataclass
class Segment:
    """One value of a segment column (or a time period): its metric and bootstrap interval."""

    column: str
    segment: str
    rows: int
    value: float | None
    ci_low: float | None
    ci_high: float | None
    flagged: bool
    note: str = ""
    # task=ranking: the segment's ranked queries
    queries: int | None = None


class SegmentsDocument(_Document):
    metric: str
    lower_is_better: bool
    overall: float | None
    rows: int
    resampled_unit: str  # row | query
    confidence: float
    n_bootstrap: int
    min_rows: int
    min_queries: int | None = None
    seed: int
    segments: list[Segment]
    flagged: list[str]  # column=segment


class EvaluationDocument(_Document):
    task: str
    rows: int
    primary_metric: str
    metrics: dict[str, float | None]
    gates: list[GateResult]
    threshold: ThresholdAnalysis | None = None
    ranking: RankingSummary | None = None
    references: list[ReferenceRecord] = []
    plots: dict[str, str] = {}  # title -> relative PNG path
    notes: list[str] = []
