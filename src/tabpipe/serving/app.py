"""The FastAPI app: ``POST /predict``, health, readiness, metrics, admin reload.

No ``from __future__ import annotations`` here: FastAPI reads the generated request
model from the endpoint's annotations at runtime.
"""

import asyncio
import gc
import hashlib
import hmac
import logging
import os
import time
from datetime import datetime, timezone
from typing import Any

import orjson
from fastapi import BackgroundTasks, FastAPI, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from omegaconf import DictConfig, OmegaConf
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from tabpipe import __version__
from tabpipe.config import option_value
from tabpipe.errors import DataValidationError
from tabpipe.export.inputs import records_to_feeds
from tabpipe.monitoring.gauges import attach_drift_gauges
from tabpipe.serving.body_limit import BodyLimitMiddleware
from tabpipe.serving.loaded_model import LoadedModel, load_model
from tabpipe.serving.observability import PredictionLog, ServingMetrics
from tabpipe.serving.redaction import build_redaction
from tabpipe.serving.request_model import InputPolicies, PolicyViolation, build_request_model

log = logging.getLogger(__name__)
INLINE_MAX_ROWS = 64


class ModelInfo(BaseModel):
    name: str
    version: str
    arm: str


class PredictResponse(BaseModel):
    request_id: str
    model: ModelInfo
    latency_ms: float
    predictions: list[dict[str, Any]]
    warnings: list[str] = []


class ServingState:
    """The loaded arms. ``reload`` builds new ones and swaps the dict in one assignment,
    so in-flight requests finish on the model they started with."""

    def __init__(self, cfg: Any) -> None:
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


def _field(loc: tuple) -> str:
    """(0, "tenure") -> "[0].tenure"; ("contract", "str") -> "contract" (union members dropped)."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            return f"{path}.{part}".lstrip(".") if path else str(part)
    return path


def _error(status: int, kind: str, detail: Any, metrics: ServingMetrics) -> JSONResponse:
    metrics.record_error(kind, status)
    return JSONResponse(status_code=status, content={"error": kind, "detail": detail})


def create_app(cfg: Any) -> FastAPI:
    """The app for a ``serve`` config (``conf/serve.yaml``)."""
    if isinstance(cfg, DictConfig):
        # a plain dataclass: OmegaConf attribute access costs ~60 us, too much per request
        cfg = OmegaConf.to_object(cfg)
    state = ServingState(cfg)
    metrics = ServingMetrics()
    drift_gauges = attach_drift_gauges(cfg.drift, metrics.registry, lambda: state.arms["a"].bundle)
    served = state.arms["a"]
    schema = served.bundle.schema
    log_cfg = cfg.prediction_log
    prediction_log = PredictionLog(
        log_cfg.path,
        log_cfg.max_bytes,
        log_cfg.backups,
        build_redaction(log_cfg, schema) if log_cfg.path else None,
    )
    if prediction_log.path is not None:
        metrics.on_error = prediction_log.write_error
    Record = build_request_model(schema)
    input_policies = InputPolicies(
        schema,
        {
            key: option_value(getattr(cfg, key))
            for key in ("on_missing", "on_unseen_category", "on_out_of_range")
        },
    )
    app = FastAPI(
        title=f"tabpipe: {served.name}",
        version=__version__,
        description=f"{served.task} model; inputs and rules from the bundle's schema.json",
        telemetry={signal: cfg.opentelemetry for signal in ("tracing", "metrics", "logs")},
    )
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=cfg.max_body_bytes,
        on_reject=lambda: metrics.record_error("body_too_large", 413),
    )
    app.state.serving = state

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return _error(400, "malformed_json", "the body is not valid JSON", metrics)
        # the body is one record or a list of them: report the errors of the form it has
        is_list = isinstance(exc.body, list)
        branch = [e for e in errors if len(e["loc"]) > 1 and str(e["loc"][1]).startswith("list[") == is_list]
        detail = [{"field": _field(e["loc"][2:]) or "body", "rule": e["msg"]} for e in branch or errors]
        return _error(422, "validation", detail, metrics)

    @app.post("/predict", response_model=PredictResponse)
    async def predict(body: list[Record] | Record, background: BackgroundTasks) -> Any:  # type: ignore[valid-type]
        started = time.perf_counter()
        request_id = os.urandom(16).hex()
        items = body if isinstance(body, list) else [body]
        if not items:
            return _error(422, "validation", [{"field": "body", "rule": "empty list of records"}], metrics)
        if len(items) > cfg.max_records:
            return _error(
                413, "too_many_records", f"{len(items)} records > max_records={cfg.max_records}", metrics
            )
        records = [item.model_dump() for item in items]
        try:
            warnings = input_policies.check(records)
        except PolicyViolation as violation:
            return _error(422, "validation", violation.problems, metrics)
        arm = state.choose_arm(records, request_id)
        model = state.arms[arm]
        try:
            feeds = records_to_feeds(records, model.types)
        except DataValidationError as exc:  # e.g. a timestamp string that does not parse
            detail = [{"field": p.split("'")[1] if "'" in p else "body", "rule": p} for p in exc.problems]
            return _error(422, "validation", detail, metrics)
        timeout = cfg.timeout_ms / 1000
        try:
            if len(records) <= INLINE_MAX_ROWS:
                # small requests score inline: a thread hand-off costs more than the
                # scoring; the timeout is then checked when the graph returns
                results = model.score(feeds)
                if time.perf_counter() - started > timeout:
                    raise asyncio.TimeoutError
            else:
                results = await asyncio.wait_for(run_in_threadpool(model.score, feeds), timeout=timeout)
        except asyncio.TimeoutError:
            metrics.requests.labels(model.name, model.version, arm, "504").inc()
            return _error(504, "timeout", f"inference took longer than timeout_ms={cfg.timeout_ms}", metrics)
        latency = time.perf_counter() - started
        metrics.record_success(model.name, model.version, arm, latency, len(records))
        if drift_gauges is not None:
            drift_gauges.observe(feeds)  # one deque append; binning happens at scrape time
        if prediction_log.path is not None or state.shadow is not None:
            background.add_task(
                _log_prediction,
                prediction_log,
                state,
                request_id,
                model,
                arm,
                records,
                feeds,
                results,
                latency,
            )
        content = {
            "request_id": request_id,
            "model": {"name": model.name, "version": model.version, "arm": arm},
            "latency_ms": round(latency * 1000, 3),
            "predictions": results,
            "warnings": warnings,
        }
        # returned as-is (the response_model above documents it); background tasks attached.
        # orjson: a tenth of json.dumps' time for this body
        return Response(orjson.dumps(content), media_type="application/json", background=background)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/ready")
    async def ready() -> JSONResponse:
        if not state.ready:
            return JSONResponse(status_code=503, content={"status": "loading"})
        models = {arm: {"name": m.name, "version": m.version} for arm, m in state.arms.items()}
        return JSONResponse(content={"status": "ready", "models": models})

    @app.get("/metrics")
    async def prometheus_metrics() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.post("/admin/reload")
    async def admin_reload(authorization: str | None = Header(default=None)) -> JSONResponse:
        token = cfg.admin_token
        if not token:
            return _error(
                403, "admin_disabled", "set admin_token (or TABPIPE_ADMIN_TOKEN) to enable", metrics
            )
        if not authorization or not hmac.compare_digest(authorization, f"Bearer {token}"):
            return _error(401, "unauthorized", "missing or wrong bearer token", metrics)
        try:
            arms = await run_in_threadpool(state.reload)
        except (ValueError, OSError) as exc:
            return _error(409, "reload_failed", str(exc), metrics)
        return JSONResponse(content={"reloaded": arms})

    # everything loaded so far lives as long as the server: keep it out of the cyclic GC's
    # scans, which otherwise walk the ML libraries' objects on every gen-2 collection
    gc.freeze()
    return app


def _log_prediction(
    prediction_log: PredictionLog,
    state: ServingState,
    request_id: str,
    model: LoadedModel,
    arm: str,
    records: list[dict],
    feeds: dict,
    results: list,
    latency: float,
) -> None:
    now = datetime.now(timezone.utc).isoformat()
    prediction_log.write(
        {
            "ts": now,
            "request_id": request_id,
            "model": model.name,
            "version": model.version,
            "arm": arm,
            "latency_ms": round(latency * 1000, 3),
            "inputs": records,
            "outputs": results,
        }
    )
    shadow = state.shadow
    if shadow is not None:
        prediction_log.write(
            {
                "ts": now,
                "request_id": request_id,
                "model": shadow.name,
                "version": shadow.version,
                "arm": "shadow",
                "shadow": True,
                "outputs": shadow.score(feeds),
            }
        )
