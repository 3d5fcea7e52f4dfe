"""One line of the prediction log: written by the server (``serving``), read back by
``tabpipe monitor`` (``monitoring``). Both use :class:`PredictionLogLine`, so the fields the
reader relies on are the ones the writer declares.

Three kinds of line share the model (README "Prediction log"):

* an answered request: ``ts``, ``request_id``, ``model``, ``version``, ``arm``,
  ``latency_ms``, ``inputs`` (the records, redacted as configured; ``redacted`` then names the
  fields and how), ``outputs`` (one result per record);
* the shadow model's line for the same request: ``shadow: true``, its ``outputs``, no inputs;
* a refused or failed request: ``ts``, ``error`` (its kind), ``status``, ``request_id``.

Only the fields a writer set are written (``exclude_unset``), so the lines keep the shape they
had before the model existed, and older logs read. The JSON encoding itself (strict JSON, the
non-finite numbers named by pointer) is :mod:`tabpipe.monitoring.log_lines`.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from pydantic import BaseModel, ConfigDict, StrictFloat, StrictInt, field_serializer, field_validator


class LoggedOutput(BaseModel):
    """One record's result: ``label`` + ``probabilities`` (classification), ``prediction``
    (regression) or ``score`` (ranking)."""

    model_config = ConfigDict(extra="allow")

    label: str | None = None
    probabilities: dict[str, float | None] | None = None
    prediction: float | None = None
    score: float | None = None


class PredictionLogLine(BaseModel):
    """One JSON line of the prediction log; fields a newer server adds are kept (``extra``)."""

    model_config = ConfigDict(extra="allow")

    ts: datetime | None = None
    request_id: str | None = None
    model: str | None = None
    version: str | int | None = None
    arm: str | None = None
    shadow: bool = False
    latency_ms: StrictInt | StrictFloat | None = None
    inputs: list[dict[str, Any]] | None = None
    outputs: list[LoggedOutput] | None = None
    redacted: dict[str, str] | None = None
    error: str | None = None
    status: int | None = None

    @field_validator("ts", mode="before")
    @classmethod
    def _iso_timestamp(cls, value: Any) -> datetime:
        """An ISO 8601 text (as ``datetime.isoformat`` writes it); without a zone: UTC."""
        if isinstance(value, datetime):
            stamp = value
        elif isinstance(value, str):
            stamp = datetime.fromisoformat(value)
        else:
            raise ValueError("ts: not an ISO 8601 timestamp")
        return stamp if stamp.tzinfo else stamp.replace(tzinfo=timezone.utc)

    @field_serializer("ts")
    def _write_iso(self, value: datetime | None) -> str | None:
        return value.isoformat() if value is not None else None

    @property
    def answered(self) -> bool:
        """A served request's line: inputs, not a shadow line, not an error line (an error
        line counts as an error even if it carries the request's inputs)."""
        return self.inputs is not None and self.error is None and not self.shadow

    def to_json(self) -> dict[str, Any]:
        """The line as a dict for :func:`~tabpipe.monitoring.log_lines.encode_line`: only
        what the writer set."""
        return self.model_dump(exclude_unset=True)
