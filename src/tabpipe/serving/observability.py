"""Prometheus metrics and the rotating JSONL prediction log.

The log has one line per answered request (``ts``, ``request_id``, ``model``, ``version``,
``arm``, ``latency_ms``, ``inputs``, ``outputs``; shadow lines add ``"shadow": true``) and one
per refused or failed request (``ts``, ``error``: the kind, ``status``: the HTTP code; a 500
adds its ``request_id``), from which ``tabpipe monitor`` reads the latency percentiles and the
error rate.

The log is private: it and its rotated backups are created (and kept) with mode 0600. Lines
that carry ``inputs`` are redacted first (:mod:`tabpipe.serving.redaction`; the line then
names what was redacted under ``redacted``), and every line is strict JSON
(:mod:`tabpipe.monitoring.log_lines`: non-finite numbers as null, named in ``non_finite``)."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import datetime, timezone
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Any, TextIO

from prometheus_client import CollectorRegistry, Counter, Histogram

from tabpipe.documents.prediction_log import PredictionLogLine
from tabpipe.errors import ConfigError
from tabpipe.monitoring.log_lines import encode_line
from tabpipe.serving.redaction import Redaction

LOG_FILE_MODE = 0o600

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


def _private_opener(path: str, flags: int) -> int:
    fd = os.open(path, flags, LOG_FILE_MODE)
    os.fchmod(fd, LOG_FILE_MODE)  # a file left by an older version may be 0644
    return fd


def prepare_log_path(path: str | Path) -> Path:
    """Create the log's folder; a one-line :class:`ConfigError` naming ``prediction_log.path``
    when the log cannot go there (a directory, a folder that is a regular file, no permission)."""
    path = Path(path)
    where = f"prediction_log.path={str(path)!r}"
    if path.is_dir():
        example = str(path / "predictions.jsonl")
        raise ConfigError(f"{where}: is a directory; give a file path such as {example!r}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # FileExistsError / NotADirectoryError: a parent is a regular file
        not_a_folder = isinstance(exc, FileExistsError | NotADirectoryError)
        reason = "a parent is not a directory" if not_a_folder else exc.strerror
        raise ConfigError(f"{where}: cannot create its folder ({reason})") from exc
    return path


class PrivateRotatingFileHandler(RotatingFileHandler):
    """``RotatingFileHandler`` whose files are created with mode 0600. Rotation renames the
    current file (its mode goes with it) and opens the next one through :meth:`_open`."""

    def _open(self) -> TextIO:
        return open(
            self.baseFilename, self.mode, encoding=self.encoding, errors=self.errors, opener=_private_opener
        )


class PredictionLog:
    """One JSON line per request; rotates by size (``RotatingFileHandler``).

    ``write(line)`` takes a :class:`PredictionLogLine`: its ``inputs`` (a list of records), if
    any, are redacted, and the line is written as strict JSON. ``write_error(kind, status,
    **fields)`` writes a refused or failed request (``ts``, ``error``, ``status`` and the
    other fields of the line, such as ``request_id``)."""

    def __init__(
        self, path: str | None, max_bytes: int, backups: int, redaction: Redaction | None = None
    ) -> None:
        self.logger = logging.getLogger(f"tabpipe.predictions.{id(self)}")
        self.logger.propagate = False
        self.logger.setLevel(logging.INFO)
        self.path = Path(path) if path else None
        self.redaction = redaction
        if self.path is not None:
            prepare_log_path(self.path)
            try:
                for backup in self.path.parent.glob(f"{self.path.name}.*"):
                    if backup.suffix[1:].isdigit():  # backups rotated by an older version
                        backup.chmod(LOG_FILE_MODE)
                handler = PrivateRotatingFileHandler(self.path, maxBytes=max_bytes, backupCount=backups)
            except OSError as exc:  # no permission, a read-only file system
                raise ConfigError(
                    f"prediction_log.path={str(self.path)!r}: cannot open it for writing ({exc.strerror})"
                ) from exc
            handler.setFormatter(logging.Formatter("%(message)s"))
            self.logger.addHandler(handler)

    def write(self, line: PredictionLogLine) -> None:
        if self.path is None:
            return
        if self.redaction is not None and line.inputs is not None:
            inputs = [self.redaction.apply(record) for record in line.inputs]
            line = line.model_copy(update={"inputs": inputs, "redacted": self.redaction.marker})
        self.logger.info(encode_line(line.to_json()))

    def write_error(self, kind: str, status: int, request_id: str | None = None, **fields: Any) -> None:
        known = {"request_id": request_id} if request_id is not None else {}  # absent when unknown
        self.write(
            PredictionLogLine(ts=datetime.now(timezone.utc), error=kind, status=status, **known, **fields)
        )

    def close(self) -> None:
        for handler in list(self.logger.handlers):
            handler.close()
            self.logger.removeHandler(handler)
