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
from typing import Annotated, Any

import orjson
from fastapi import BackgroundTasks, Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from omegaconf import DictConfig
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import Field
from starlette.exceptions import HTTPException

from tabpipe import __version__
from tabpipe.config import option_value
from tabpipe.config.app_schema import ServeConfig
from tabpipe.config.typed import to_typed
from tabpipe.errors import ConfigError, DataValidationError, TabpipeError
from tabpipe.export.inputs import records_to_feeds
from tabpipe.monitoring.gauges import attach_drift_gauges
from tabpipe.serving import contract
from tabpipe.serving.body_limit import BodyLimitMiddleware
from tabpipe.serving.http_errors import ErrorResponse, http_error, validation_detail
from tabpipe.serving.last_resort import LastResortMiddleware
from tabpipe.serving.loaded_model import LoadedModel, load_model
from tabpipe.serving.observability import PredictionLog, ServingMetrics, prepare_log_path
from tabpipe.serving.redaction import build_redaction
from tabpipe.serving.request_model import InputPolicies, PolicyViolation, build_request_model, id_columns

log = logging.getLogger(__name__)
INLINE_MAX_ROWS = 64
_bearer = HTTPBearer(auto_error=False, description="admin_token (or TABPIPE_ADMIN_TOKEN)")


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


def _error(status: int, kind: str, detail: Any, metrics: ServingMetrics) -> JSONResponse:
    metrics.record_error(kind, status)
    return ErrorResponse(status_code=status, content={"error": kind, "detail": detail})


def _check_ab_key(key: str | None, fields: list[str]) -> None:
    """``ab.key`` must be a field of the requests, or every request would be split by its id."""
    if key and key not in fields:
        raise ConfigError(
            f"ab.key={key!r}: not a field of the bundle's requests "
            f"(id columns and inputs: {', '.join(fields)})"
        )


def create_app(composed: ServeConfig | DictConfig) -> FastAPI:
    """The app for a ``serve`` config (``conf/serve.yaml``), typed here if it is still the
    composed ``DictConfig`` (a plain dataclass: OmegaConf attribute access costs ~60 us, too
    much per request)."""
    cfg = to_typed(composed, ServeConfig)
    state = ServingState(cfg)
    metrics = ServingMetrics()
    drift_gauges = attach_drift_gauges(cfg.drift, metrics.registry, lambda: state.arms["a"].bundle)
    served = state.arms["a"]
    schema = served.bundle.schema
    _check_ab_key(cfg.ab.key, [*id_columns(schema), *served.types])
    log_cfg = cfg.prediction_log
    if log_cfg.path:
        prepare_log_path(log_cfg.path)  # before the redaction creates its key file beside the log
    prediction_log = PredictionLog(
        log_cfg.path,
        log_cfg.max_bytes,
        log_cfg.backups,
        build_redaction(log_cfg, schema) if log_cfg.path else None,
    )
    if prediction_log.path is not None:
        metrics.on_error = prediction_log.write_error
    Record = build_request_model(schema)
    Records = Annotated[list[Record], Field(min_length=1, max_length=cfg.max_records)]  # type: ignore[valid-type]
    echoed = id_columns(schema)
    kinds = {**served.types, **dict.fromkeys(echoed, "id")}
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
    app.add_middleware(LastResortMiddleware, on_error=metrics.record_error)  # the outermost
    app.state.serving = state

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return _error(400, "malformed_json", "the body is not valid JSON", metrics)
        return _error(422, "validation", validation_detail(list(errors), exc.body, kinds), metrics)

    @app.exception_handler(HTTPException)
    async def refused(request: Request, exc: HTTPException) -> JSONResponse:
        kind, detail = http_error(exc)
        if exc.status_code in (404, 405):  # not requests for a prediction: counted, not logged
            metrics.errors.labels(kind).inc()
            return ErrorResponse({"error": kind, "detail": detail}, exc.status_code, headers=exc.headers)
        response = _error(exc.status_code, kind, detail, metrics)
        response.headers.update(exc.headers or {})
        return response

    @app.post("/predict", response_model=contract.response_model(schema), responses=contract.PREDICT_ERRORS)
    async def predict(body: Records | Record, background: BackgroundTasks) -> Any:  # type: ignore[valid-type]
        started = time.perf_counter()
        request_id = os.urandom(16).hex()
        items = body if isinstance(body, list) else [body]
        records = [item.model_dump() for item in items]
        try:
            warnings = input_policies.check(records)
        except PolicyViolation as violation:
            return _error(422, "validation", violation.problems, metrics)
        arm = state.choose_arm(records, request_id)
        model = state.arms[arm]
        try:
            feeds = records_to_feeds(records, model.types)
        except DataValidationError as exc:  # the request model should have caught it: a safety net
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
        if echoed:
            predictions = [
                {**{name: record.get(name) for name in echoed}, **result}
                for record, result in zip(records, results, strict=True)
            ]
        else:
            predictions = results
        content = {
            "request_id": request_id,
            "model": {"name": model.name, "version": model.version, "arm": arm},
            "latency_ms": round(latency * 1000, 3),
            "predictions": predictions,
            "warnings": warnings,
        }
        # returned as-is (the response_model above documents it); background tasks attached.
        # orjson: a tenth of json.dumps' time for this body
        return Response(orjson.dumps(content), media_type="application/json", background=background)

    @app.get("/health", response_model=contract.HealthResponse, responses=contract.INTERNAL)
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/ready",
        response_model=contract.ReadyResponse,
        responses={
            503: {"model": contract.LoadingResponse, "description": "still loading"},
            **contract.INTERNAL,
        },
    )
    async def ready() -> JSONResponse:
        if not state.ready:
            return JSONResponse(status_code=503, content={"status": "loading"})
        models = {arm: {"name": m.name, "version": m.version} for arm, m in state.arms.items()}
        return JSONResponse(content={"status": "ready", "models": models})

    @app.get(
        "/metrics",
        response_class=PlainTextResponse,
        responses={
            200: {
                "description": "Prometheus text exposition format",
                "content": {"text/plain": {"schema": {"type": "string"}}},
            },
            500: contract.INTERNAL_JSON,  # not text/plain like the 200
        },
    )
    async def prometheus_metrics() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.post("/admin/reload", response_model=contract.ReloadResponse, responses=contract.RELOAD_ERRORS)
    async def admin_reload(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> JSONResponse:
        token = cfg.admin_token
        if not token:
            return _error(
                403, "admin_disabled", "set admin_token (or TABPIPE_ADMIN_TOKEN) to enable", metrics
            )
        if credentials is None or not hmac.compare_digest(credentials.credentials.encode(), token.encode()):
            refused = _error(401, "unauthorized", "missing or wrong bearer token", metrics)
            refused.headers["WWW-Authenticate"] = "Bearer"
            return refused
        try:
            arms = await run_in_threadpool(state.reload)
        except (TabpipeError, ValueError, OSError) as exc:  # a bundle that fails its checksum, ...
            log.warning("reload failed, still serving the loaded models: %s", exc)
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
