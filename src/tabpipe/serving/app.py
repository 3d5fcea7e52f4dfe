"""The FastAPI app: ``POST /predict``, health, readiness, metrics, admin reload.

:func:`create_app` loads the bundles into a :class:`~tabpipe.serving.state.ServingContext`,
kept on ``app.state``, and includes one router per concern (:mod:`tabpipe.serving.routes`);
every endpoint reaches the context through a dependency.
"""

from __future__ import annotations

import gc
from typing import Any

from fastapi import FastAPI
from omegaconf import DictConfig

from tabpipe import __version__
from tabpipe.config import option_value
from tabpipe.config.app_schema import ServeConfig
from tabpipe.config.typed import to_typed
from tabpipe.errors import ConfigError
from tabpipe.export.documents import SchemaDocument
from tabpipe.monitoring.gauges import attach_drift_gauges
from tabpipe.serving import contract
from tabpipe.serving.batching import Batcher
from tabpipe.serving.body_limit import BodyLimitMiddleware
from tabpipe.serving.handlers import install_error_handlers
from tabpipe.serving.last_resort import LastResortMiddleware
from tabpipe.serving.observability import PredictionLog, ServingMetrics, prepare_log_path
from tabpipe.serving.predict_path import PredictPath
from tabpipe.serving.redaction import build_redaction
from tabpipe.serving.request_body import RecordsReader, body_type, document_request_body
from tabpipe.serving.request_model import InputPolicies, build_request_model, id_columns
from tabpipe.serving.routes import admin, health, metrics, predict
from tabpipe.serving.state import ServingContext, ServingState

_POLICIES = ("on_missing", "on_unseen_category", "on_out_of_range")


def _check_ab_key(key: str | None, fields: list[str]) -> None:
    """``ab.key`` must be a field of the requests, or every request would be split by its id."""
    if key and key not in fields:
        raise ConfigError(
            f"ab.key={key!r}: not a field of the bundle's requests "
            f"(id columns and inputs: {', '.join(fields)})"
        )


def _prediction_log(cfg: ServeConfig, schema: SchemaDocument, metrics: ServingMetrics) -> PredictionLog:
    log_cfg = cfg.prediction_log
    if log_cfg.path:
        prepare_log_path(log_cfg.path)  # before the redaction creates its key file beside the log
    redaction = build_redaction(log_cfg, schema) if log_cfg.path else None
    prediction_log = PredictionLog(log_cfg.path, log_cfg.max_bytes, log_cfg.backups, redaction)
    if prediction_log.path is not None:
        metrics.on_error = prediction_log.write_error
    return prediction_log


def build_context(cfg: ServeConfig) -> tuple[ServingContext, dict[str, Any]]:
    """The loaded bundles and everything the endpoints share, and the OpenAPI documents of
    ``/predict``'s body (``schema`` of its ``requestBody``, and the component models)."""
    state = ServingState(cfg)
    served = state.arms["a"]
    schema = served.bundle.schema  # the one place the served schema is read
    _check_ab_key(cfg.ab.key, [*id_columns(schema), *served.types])
    metrics = ServingMetrics()
    record = build_request_model(schema)
    gauges = attach_drift_gauges(cfg.drift, metrics.registry, lambda: state.arms["a"].bundle)
    prediction_log = _prediction_log(cfg, schema, metrics)
    context = ServingContext(
        cfg=cfg,
        state=state,
        metrics=metrics,
        prediction_log=prediction_log,
        reader=RecordsReader(record, cfg.max_records),
        policies=InputPolicies(schema, {key: option_value(getattr(cfg, key)) for key in _POLICIES}),
        echoed=id_columns(schema),
        kinds={**served.types, **dict.fromkeys(id_columns(schema), "id")},
        drift_gauges=gauges,
        # a batched request's own input tensors: only the drift gauges and the shadow read them
        batcher=Batcher(keep_feeds=gauges is not None or state.shadow is not None),
    )
    documents = {
        "response_model": contract.response_model(schema),
        "body": body_type(record, cfg.max_records),
    }
    return context, documents


def create_app(composed: ServeConfig | DictConfig) -> FastAPI:
    """The app for a ``serve`` config (``conf/serve.yaml``), typed here if it is still the
    composed ``DictConfig`` (a plain dataclass: OmegaConf attribute access costs ~60 us, too
    much per request)."""
    cfg = to_typed(composed, ServeConfig)
    context, documents = build_context(cfg)
    served = context.state.arms["a"]
    app = FastAPI(
        title=f"tabpipe: {served.name}",
        version=__version__,
        description=f"{served.task} model; inputs and rules from the bundle's schema.json",
        telemetry={signal: cfg.opentelemetry for signal in ("tracing", "metrics", "logs")},
    )
    app.state.context = context
    app.state.serving = context.state
    if not cfg.opentelemetry:  # FastAPI's spans name the route the router selected
        app.add_middleware(PredictPath, context=context)  # ahead of the router, inside the two below
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=cfg.max_body_bytes,
        on_reject=lambda: context.metrics.record_error("body_too_large", 413),
    )
    app.add_middleware(LastResortMiddleware, on_error=context.metrics.record_error)  # the outermost
    install_error_handlers(app)
    request_body = document_request_body(app, documents["body"])
    app.include_router(predict.predict_router(documents["response_model"], request_body))
    for module in (health, metrics, admin):
        app.include_router(module.router)
    # everything loaded so far lives as long as the server: keep it out of the cyclic GC's
    # scans, which otherwise walk the ML libraries' objects on every gen-2 collection
    gc.freeze()
    return app
