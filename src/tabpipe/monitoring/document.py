"""``drift.json``: what ``tabpipe monitor`` found, as one typed document. ``report.md`` and the
printed summary are rendered from it; it is written with ``model_dump_json`` (strict JSON:
a NaN statistic is null)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tabpipe.io import write_text_atomic
from tabpipe.monitoring.compare import FeatureDrift


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Latency(_Record):
    p50: float | None = None
    p95: float | None = None
    p99: float | None = None


class ServingFigures(_Record):
    """From the prediction log's lines: requests, errors and latency of the answered ones."""

    requests: int
    answered: int = 0
    errors: int = 0
    error_rate: float | None = None
    errors_by_kind: dict[str, int] = {}
    latency_ms: Latency = Field(default_factory=Latency)
    first: str | None = None
    last: str | None = None
    unreadable_lines: int = 0


class CurrentSummary(_Record):
    source: str
    window: str | None = None
    rows: int
    predictions: str = "none"  # scored, log, file or none
    serving: ServingFigures | None = None
    redacted: dict[str, str] = {}  # field -> hash | drop (by the server)


class SchemaSummary(_Record):
    missing: list[str] = []
    type_changed: dict[str, str] = {}
    extra: list[str] = []
    alert: bool = False


class Cadence(_Record):
    due: bool
    due_at: str
    trained_at: str


class TriggerOutcome(BaseModel):
    """What the retraining trigger did (``triggers.jsonl`` keeps the same record)."""

    model_config = ConfigDict(extra="allow")

    action: str  # none, skipped, ran
    started: str | None = None
    reasons: list[str] = []
    command: str | None = None
    detail: str | None = None
    returncode: int | None = None
    cadence: Cadence | None = None


class BundleSummary(_Record):
    ref: str
    name: str
    version: str
    path: str


class DriftDocument(_Record):
    generated_at: str
    status: str  # ok, warn, alert
    counts: dict[str, int]
    bundle: BundleSummary
    current: CurrentSummary
    schema_drift: SchemaSummary = Field(alias="schema")
    thresholds: dict[str, Any] = {}
    features: list[FeatureDrift] = []
    trigger: TriggerOutcome | None = None
    timings_s: dict[str, float] = {}
    plots: list[str] = []

    def write(self, path: Path) -> Path:
        """Atomically (a temporary file, then a rename)."""
        return write_text_atomic(path, self.model_dump_json(indent=2, by_alias=True) + "\n")
