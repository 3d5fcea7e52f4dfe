"""What the endpoints share: the loaded arms (:class:`ServingState`) and the per-app context
(:class:`ServingContext`: config, metrics, prediction log, the request reader, the input
policies). The routers reach it through the :func:`serving_context` dependency."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.responses import JSONResponse

from tabpipe.config.app_schema import ServeConfig
from tabpipe.export.inputs import records_to_feeds
from tabpipe.serving.batching import Batcher
from tabpipe.serving.http_errors import ErrorResponse
from tabpipe.serving.loaded_model import LoadedModel, load_model
from tabpipe.serving.observability import PredictionLog, ServingMetrics
from tabpipe.serving.request_body import RecordsReader
from tabpipe.serving.request_model import InputPolicies


class ServingState:
    """The loaded arms. ``reload`` builds new ones and swaps the dict in one assignment,
    so in-flight requests finish on the model they started with."""

    def __init__(self, cfg: ServeConfig) -> None:
        self.cfg = cfg
        self.arms: dict[str, LoadedModel] = {}
        self.shadow: LoadedModel | None = None
        self.ready = False
        self.reload()

    def _load(self, ref: str) -> LoadedModel:
        return load_model(ref, self.cfg.registry_root, list(self.cfg.providers))

    def reload(self) -> dict[str, dict[str, str]]:
        arms = {"a": self._load(self.cfg.bundle)}
        if self.cfg.ab.bundle and self.cfg.ab.weight > 0:
            arms["b"] = self._load(self.cfg.ab.bundle)
        shadow = self._load(self.cfg.shadow) if self.cfg.shadow else None
        for model in [*arms.values(), *([shadow] if shadow else [])]:
            if self.arms and model.types != self.arms["a"].types:
                raise ValueError(f"{model.ref}: its input schema differs from the served one; restart")
            model.score(records_to_feeds([{}], model.types))  # warm-up, all values missing
        self.arms, self.shadow, self.ready = arms, shadow, True
        return {arm: {"ref": m.ref, "name": m.name, "version": m.version} for arm, m in arms.items()}

    def choose_arm(self, records: list[dict[str, Any]], request_id: str) -> str:
        if "b" not in self.arms:
            return "a"
        ab = self.cfg.ab
        key = records[0].get(ab.key) if ab.key else None
        token = f"{ab.salt}:{key if key is not None else request_id}"
        fraction = int(hashlib.sha256(token.encode()).hexdigest()[:15], 16) / 16**15
        return "b" if fraction < ab.weight else "a"


@dataclass
class ServingContext:
    """Everything an endpoint needs besides the request, built once by ``create_app``."""

    cfg: ServeConfig
    state: ServingState
    metrics: ServingMetrics
    prediction_log: PredictionLog
    reader: RecordsReader
    policies: InputPolicies
    echoed: list[str]  # id columns echoed in each prediction
    kinds: dict[str, str]  # field -> its type (the id columns: "id"), for the 422 rules
    drift_gauges: Any = None  # tabpipe.monitoring.gauges.DriftGauges, when configured
    batcher: Batcher = field(default_factory=lambda: Batcher(keep_feeds=True))

    def refuse(self, status: int, kind: str, detail: Any) -> JSONResponse:
        """tabpipe's error body, counted (and logged when the prediction log is on)."""
        self.metrics.record_error(kind, status)
        return ErrorResponse(status_code=status, content={"error": kind, "detail": detail})


async def serving_context(request: Request) -> ServingContext:
    """The dependency through which every endpoint reaches the app's state (async: FastAPI
    runs a plain function in its thread pool, a hand-off that costs more than a request)."""
    return request.app.state.context


Context = Annotated[ServingContext, Depends(serving_context)]
