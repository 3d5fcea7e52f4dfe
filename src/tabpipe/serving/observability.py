"""Prometheus metrics and the rotating JSONL prediction log.

The log has one line per answered request (``ts``, ``request_id``, ``model``, ``version``,
``arm``, ``latency_ms``, ``inputs``, ``outputs``; shadow lines add ``"shadow": true``) and one
per refused or failed request (``ts``, ``error``: the kind, ``status``: the HTTP code; a 500
adds its ``request_id``), from which
``tabpipe monitor`` reads the latency percentiles and the error rate."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime, timezone
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram

LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class ServingMetrics:
    """One registry per app, so several apps can live in one process (tests)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "tabpipe_requests",
            "Prediction requests",
            ["model", "version", "arm", "status"],
            registry=self.registry,
        )
        self.errors = Counter("tabpipe_errors", "Errors by kind", ["kind"], registry=self.registry)
        self.latency = Histogram(
            "tabpipe_request_latency_seconds",
            "Server-side latency of /predict",
            ["model", "version"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.rows = Counter(
            "tabpipe_rows_scored", "Rows scored", ["model", "version", "arm"], registry=self.registry
        )
        self._children: dict[tuple, tuple] = {}
        self.on_error: Callable[[str, int, str | None], None] | None = None

    def record_error(self, kind: str, status: int, request_id: str | None = None) -> None:
        self.errors.labels(kind).inc()
        if self.on_error is not None:
            self.on_error(kind, status, request_id)

    def record_success(self, model: str, version: str, arm: str, seconds: float, rows: int) -> None:
        """The three updates of a served request, with the labelled children cached."""
        key = (model, version, arm)
        children = self._children.get(key)
        if children is None:
            children = (
                self.requests.labels(model, version, arm, "200"),
                self.latency.labels(model, version),
                self.rows.labels(model, version, arm),
            )
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)
        children[2].inc(rows)


class PredictionLog:
    """One JSON line per request; rotates by size (``RotatingFileHandler``)."""

    def __init__(self, path: str | None, max_bytes: int, backups: int) -> None:
        self.logger = logging.getLogger(f"tabpipe.predictions.{id(self)}")
        self.logger.propagate = False
        self.logger.setLevel(logging.INFO)
        self.path = Path(path) if path else None
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handler = RotatingFileHandler(self.path, maxBytes=max_bytes, backupCount=backups)
            handler.setFormatter(logging.Formatter("%(message)s"))
            self.logger.addHandler(handler)

    def write(self, entry: dict[str, Any]) -> None:
        if self.path is not None:
            self.logger.info(json.dumps(entry, default=str))

    def write_error(self, kind: str, status: int, request_id: str | None = None) -> None:
        entry = {"ts": datetime.now(timezone.utc).isoformat(), "error": kind, "status": status}
        if request_id is not None:
            entry["request_id"] = request_id
        self.write(entry)

    def close(self) -> None:
        for handler in list(self.logger.handlers):
            handler.close()
            self.logger.removeHandler(handler)
