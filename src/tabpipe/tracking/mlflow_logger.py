"""MLflow: a run per training job in ``experiment_name``, through an explicit client.

The client is bound to ``tracking_uri`` (no global ``mlflow.set_tracking_uri``), so jobs and
tests never leak state into each other. Per-epoch metrics are buffered and sent in batches.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

MAX_BATCH = 1000  # MLflow's limit on metrics per log_batch call
MAX_PARAMS = 100  # and on params per call
MAX_PARAM_CHARS = 6000


def flatten(config: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """``{"model": {"max_depth": 6}}`` -> ``("model.max_depth", "6")``; lists as JSON."""
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            yield from flatten(value, f"{name}.")
        else:
            text = value if isinstance(value, str) else json.dumps(value)
            yield name, text[:MAX_PARAM_CHARS]


def _local_artifact_location(location: str | None) -> str | None:
    """A plain path becomes an absolute ``file://`` URI (MLflow resolves relative ones oddly)."""
    if not location or urlparse(location).scheme not in ("", "file"):
        return location
    path = Path(location.removeprefix("file://")).expanduser().resolve()
    return path.as_uri()


def _sqlite_parent(tracking_uri: str) -> Path | None:
    if not tracking_uri.startswith("sqlite:///"):
        return None
    return Path(tracking_uri.removeprefix("sqlite:///")).expanduser().parent


class MLflowLogger:
    def __init__(
        self,
        tracking_uri: str,
        experiment_name: str = "tabpipe",
        artifact_location: str | None = None,
        run_name: str | None = None,
        group: str | None = None,
        tags: Sequence[str] = (),
        log_model: bool = True,
    ) -> None:
        self.tracking_uri = tracking_uri
        self.experiment_name = experiment_name
        self.artifact_location = artifact_location
        self.run_name = run_name
        self.group = group
        self.tags = list(tags or [])
        self.log_model = log_model
        self.client: Any = None
        self.run_id: str | None = None
        self.pending: list[Any] = []
        self.last_step = 0

    def log_config(self, config: dict[str, Any]) -> None:
        """Open the experiment (created on first use) and start the run with the config."""
        from mlflow.entities import Param
        from mlflow.tracking import MlflowClient

        # "Creating initial MLflow database tables" and alembic's chatter are not news
        for name in ("mlflow.store.db.utils", "alembic"):
            logging.getLogger(name).setLevel(logging.WARNING)
        parent = _sqlite_parent(self.tracking_uri)
        if parent is not None:
            parent.mkdir(parents=True, exist_ok=True)
        client = MlflowClient(tracking_uri=self.tracking_uri)
        experiment = client.get_experiment_by_name(self.experiment_name)
        experiment_id = (
            experiment.experiment_id
            if experiment is not None
            else client.create_experiment(
                self.experiment_name, artifact_location=_local_artifact_location(self.artifact_location)
            )
        )
        tags = {tag: "true" for tag in self.tags}
        if self.group:
            tags["group"] = self.group
        run = client.create_run(experiment_id, run_name=self.run_name, tags=tags)
        self.client, self.run_id = client, run.info.run_id
        params = [Param(key, value) for key, value in flatten(config)]
        for start in range(0, len(params), MAX_PARAMS):
            client.log_batch(self.run_id, params=params[start : start + MAX_PARAMS])
        client.log_dict(self.run_id, config, "config_resolved.json")

    def log_metrics(self, metrics: dict[str, float], step: int) -> None:
        if self.run_id is None:
            return
        from mlflow.entities import Metric

        timestamp = _now_ms()
        self.last_step = max(self.last_step, step)
        self.pending.extend(Metric(key, float(value), timestamp, step) for key, value in metrics.items())
        if len(self.pending) >= MAX_BATCH:
            self._flush()

    def log_summary(self, metrics: dict[str, float]) -> None:
        """At the last step seen and later than any epoch: what MLflow shows as each metric."""
        self.log_metrics(metrics, self.last_step)
        self._flush()

    def log_plots(self, paths: list[Path]) -> None:
        if self.run_id is not None:
            for path in paths:
                self.client.log_artifact(self.run_id, str(path), "plots")

    def log_artifact(self, path: Path, name: str, type: str) -> None:
        if self.run_id is None or (type == "model" and not self.log_model):
            return
        path = Path(path)
        if path.is_dir():
            self.client.log_artifacts(self.run_id, str(path), path.name)
        else:
            self.client.log_artifact(self.run_id, str(path))

    def finalize(self, status: str) -> None:
        if self.run_id is None:
            return
        run_id, self.run_id = self.run_id, None
        try:
            self._flush(run_id)
        finally:
            self.client.set_terminated(run_id, "FINISHED" if status == "finished" else "FAILED")

    def _flush(self, run_id: str | None = None) -> None:
        run_id = run_id or self.run_id
        while self.pending and run_id:
            batch, self.pending = self.pending[:MAX_BATCH], self.pending[MAX_BATCH:]
            self.client.log_batch(run_id, metrics=batch)


def _now_ms() -> int:
    import time

    return int(time.time() * 1000)
