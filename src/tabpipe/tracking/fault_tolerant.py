"""A logger wrapper that never lets a tracking backend break training.

A backend that raises (an unwritable W&B directory, a broken MLflow URI, a server that went
away) is reported with one warning line and ignored for the rest of the run; the run's local
outputs (metrics.json, metadata.json, the bundle) do not depend on any tracker. ``finalize``
is still attempted afterwards, so a W&B run is always finished and a multirun's next job
never logs into it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from tabpipe.errors import first_line

log = logging.getLogger(__name__)


class FaultTolerantLogger:
    """Forward every call to ``backend``; the first exception disables it with one warning."""

    def __init__(self, name: str, backend: Any) -> None:
        self.name = name
        self.backend = backend
        self.failed = False

    def _call(self, method: str, *args: Any) -> None:
        function = getattr(self.backend, method, None)
        if self.failed or function is None:
            return
        try:
            function(*args)
        # a tracker may raise anything (network, filesystem, its own errors): training goes on
        except Exception as exc:  # noqa: BLE001
            self.failed = True
            reason = first_line(exc)
            log.warning(
                "tracking: logger.%s failed in %s (%s: %s); the run continues without it, "
                "local outputs are unaffected",
                self.name,
                method,
                type(exc).__name__,
                reason,
            )

    def log_config(self, config: dict[str, Any]) -> None:
        self._call("log_config", config)

    def log_metrics(self, metrics: dict[str, float], step: int) -> None:
        self._call("log_metrics", metrics, step)

    def log_summary(self, metrics: dict[str, float]) -> None:
        self._call("log_summary", metrics)

    def log_plots(self, paths: list[Path]) -> None:
        self._call("log_plots", paths)

    def log_artifact(self, path: Path, name: str, type: str) -> None:
        self._call("log_artifact", path, name, type)

    def finalize(self, status: str) -> None:
        if not self.failed:
            self._call("finalize", status)
            return
        # already reported once: close what can be closed (a W&B run must end), quietly
        try:
            self.backend.finalize(status)
        except Exception as exc:  # noqa: BLE001
            log.debug("logger.%s: finalize after failure: %s", self.name, exc)
