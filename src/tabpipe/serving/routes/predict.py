"""``POST /predict``: one record or a list of them, scored by the arm the request falls on.

The request model and the response model come from the bundle's ``schema.json``, so the
router is built per app (:func:`predict_router`). The body is read from its raw bytes
(:mod:`tabpipe.serving.request_body`) and the answer is encoded once with orjson and
returned as it is (the response model documents it).
"""

from __future__ import annotations

import asyncio
import os
import time
from datetime import datetime, timezone
from typing import Any

import numpy as np
import orjson
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from starlette.background import BackgroundTask

from tabpipe.documents.prediction_log import PredictionLogLine
from tabpipe.errors import DataValidationError
from tabpipe.export.inputs import records_to_feeds
from tabpipe.serving import contract
from tabpipe.serving.loaded_model import LoadedModel
from tabpipe.serving.request_model import PolicyViolation
from tabpipe.serving.state import Context, ServingContext

INLINE_MAX_ROWS = 64  # small requests score inline: a thread hand-off costs more than the scoring


def predict_router(response_model: Any, request_body: dict[str, Any]) -> APIRouter:
    """The ``/predict`` route, documented with the bundle's request and response models
    (``request_body``: the OpenAPI ``requestBody`` of the raw-bytes reader)."""
    router = APIRouter()
    router.add_api_route(
        "/predict",
        predict,
        methods=["POST"],
        response_model=response_model,
        responses=contract.PREDICT_ERRORS,
        openapi_extra={"requestBody": request_body},
    )
    return router


async def predict(request: Request, ctx: Context) -> Response:
    # the body is read here, not by a second dependency: FastAPI spends ~12 us solving each
    records = await ctx.reader.records(request)  # a refusal is raised for the exception handlers
    return await answer(ctx, records)


async def answer(ctx: ServingContext, records: list[dict[str, Any]]) -> Response:
    """The answer to valid records (200, or a 422 policy refusal, or a 504), with the
    prediction log's line as its background task. Shared by the route above and by
    :class:`~tabpipe.serving.predict_path.PredictPath`, which calls it without the router."""
    started = time.perf_counter()
    try:
        warnings = ctx.policies.check(records)
    except PolicyViolation as violation:
        return ctx.refuse(422, "validation", violation.problems)
    request_id = os.urandom(16).hex()
    arm = ctx.state.choose_arm(records, request_id)
    model = ctx.state.arms[arm]
    try:
        feeds, results = await _score(ctx, model, records, started)
    except DataValidationError as exc:  # the request model should have caught it: a safety net
        detail = [{"field": p.split("'")[1] if "'" in p else "body", "rule": p} for p in exc.problems]
        return ctx.refuse(422, "validation", detail)
    if results is None:
        ctx.metrics.requests.labels(model.name, model.version, arm, "504").inc()
        return ctx.refuse(504, "timeout", f"inference took longer than timeout_ms={ctx.cfg.timeout_ms}")
    latency = time.perf_counter() - started
    ctx.metrics.record_success(model.name, model.version, arm, latency, len(records))
    if ctx.drift_gauges is not None:
        ctx.drift_gauges.observe(feeds)  # one deque append; binning happens at scrape time
    logged = None
    if ctx.prediction_log.path is not None or ctx.state.shadow is not None:
        entry = (request_id, model, arm, records, feeds, results, latency)
        # the shadow's scoring runs in the thread pool; a log line alone is written on the loop
        logged = BackgroundTask(_log_prediction if ctx.state.shadow else _log_line, ctx, *entry)
    predictions = _with_ids(ctx.echoed, records, results)
    body = {
        "request_id": request_id,
        "model": {"name": model.name, "version": model.version, "arm": arm},
        "latency_ms": round(latency * 1000, 3),
        "predictions": predictions,
        "warnings": warnings,
    }
    return Response(orjson.dumps(body), media_type="application/json", background=logged)


async def _score(
    ctx: ServingContext, model: LoadedModel, records: list[dict[str, Any]], started: float
) -> tuple[dict[str, np.ndarray], list[dict[str, Any]] | None]:
    """The input tensors and the results (None past ``timeout_ms``). A small request is
    scored on the event loop, batched with the others ready in the same turn
    (:mod:`tabpipe.serving.batching`), and its deadline is checked when the graph returns;
    a larger one runs in the thread pool and is abandoned at the deadline."""
    timeout = ctx.cfg.timeout_ms / 1000
    if len(records) <= INLINE_MAX_ROWS:
        feeds, results = await ctx.batcher.score(model, records)
        return feeds, None if time.perf_counter() - started > timeout else results
    feeds = records_to_feeds(records, model.types)
    try:
        return feeds, await asyncio.wait_for(run_in_threadpool(model.score, feeds), timeout=timeout)
    except asyncio.TimeoutError:
        return feeds, None


def _with_ids(echoed: list[str], records: list[dict[str, Any]], results: list[dict[str, Any]]) -> list:
    if not echoed:
        return results
    return [
        {**{name: record.get(name) for name in echoed}, **result}
        for record, result in zip(records, results, strict=True)
    ]


async def _log_line(*entry: Any) -> None:
    """The log line of a request without a shadow, written on the event loop once the answer
    is sent: ~40 us (redaction, encoding, a buffered write), where the thread-pool hand-off of
    a plain background function cost ~300 us of CPU per request."""
    _log_prediction(*entry)


def _log_prediction(
    ctx: ServingContext,
    request_id: str,
    model: LoadedModel,
    arm: str,
    records: list[dict[str, Any]],
    feeds: dict[str, np.ndarray],
    results: list[dict[str, Any]],
    latency: float,
) -> None:
    """The request's log line, and the shadow model's (scored here, after the answer)."""
    now = datetime.now(timezone.utc)
    log, shadow = ctx.prediction_log, ctx.state.shadow
    log.write(
        PredictionLogLine(
            ts=now,
            request_id=request_id,
            model=model.name,
            version=model.version,
            arm=arm,
            latency_ms=round(latency * 1000, 3),
            inputs=records,
            outputs=results,
        )
    )
    if shadow is not None:
        log.write(
            PredictionLogLine(
                ts=now,
                request_id=request_id,
                model=shadow.name,
                version=shadow.version,
                arm="shadow",
                shadow=True,
                outputs=shadow.score(feeds),
            )
        )
