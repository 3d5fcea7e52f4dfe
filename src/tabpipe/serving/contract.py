"""The HTTP contract: the response and error bodies the server really sends, as pydantic
models, so that ``/openapi.json`` declares every status and body shape (a schemathesis test
validates real responses against it).

The endpoints return pre-serialised bodies (orjson) for speed; these models document them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, create_model

from tabpipe.export.documents import SchemaDocument
from tabpipe.serving.request_model import IdValue, id_columns
from tabpipe.tasks import get_task


class ErrorDetail(BaseModel):
    field: str = Field(description="the field, e.g. `tenure` or `[1].tenure`; `body` for the whole body")
    rule: str = Field(description="the rule the value broke")


class ValidationErrorBody(BaseModel):
    """422: the body is JSON but breaks the request model or an input policy."""

    error: Literal["validation"]
    detail: list[ErrorDetail]


class ErrorBody(BaseModel):
    """Every other refusal: ``error`` is the kind (also the ``kind`` label of
    ``tabpipe_errors_total``), ``detail`` one line."""

    error: str
    detail: str


class InternalErrorBody(BaseModel):
    """500: an unexpected failure, logged with its traceback under ``request_id``."""

    error: Literal["internal"]
    detail: str
    request_id: str


class ModelInfo(BaseModel):
    name: str
    version: str
    arm: str


class HealthResponse(BaseModel):
    status: Literal["ok"]


class ReadyModel(BaseModel):
    name: str
    version: str


class ReadyResponse(BaseModel):
    status: Literal["ready"]
    models: dict[str, ReadyModel]


class LoadingResponse(BaseModel):
    status: Literal["loading"]


class ReloadedModel(BaseModel):
    ref: str
    name: str
    version: str


class ReloadResponse(BaseModel):
    reloaded: dict[str, ReloadedModel]


def _error(model: type[BaseModel], description: str) -> dict[str, Any]:
    return {"model": model, "description": description}


_INTERNAL_DESCRIPTION = "unexpected failure (logged with its traceback, counted)"
INTERNAL: dict[int | str, dict[str, Any]] = {500: _error(InternalErrorBody, _INTERNAL_DESCRIPTION)}
# for a route whose own media type is not JSON: the schema by reference (registered by the others)
INTERNAL_JSON = {
    "description": _INTERNAL_DESCRIPTION,
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/InternalErrorBody"}}},
}
PREDICT_ERRORS: dict[int | str, dict[str, Any]] = {
    400: _error(ErrorBody, "malformed_json: not JSON, not UTF-8, nested too deeply, or an over-long integer"),
    413: _error(ErrorBody, "body_too_large: the body is over max_body_bytes"),
    422: _error(
        ValidationErrorBody,
        "a field breaks its type or an input policy; an empty list or more than max_records records",
    ),
    504: _error(ErrorBody, "timeout: inference took longer than timeout_ms"),
    **INTERNAL,
}
RELOAD_ERRORS: dict[int | str, dict[str, Any]] = {
    401: _error(ErrorBody, "unauthorized: missing or wrong bearer token"),
    403: _error(ErrorBody, "admin_disabled: no admin_token configured"),
    409: _error(ErrorBody, "reload_failed: a bundle did not load (named); the old version keeps serving"),
    **INTERNAL,
}


def response_model(schema: SchemaDocument) -> type[BaseModel]:
    """``PredictResponse`` with typed prediction items for the bundle's task and classes."""
    ids: dict[str, Any] = {
        name: (IdValue, Field(description="echoed from the record")) for name in id_columns(schema)
    }
    if not get_task(schema.task).has_classes:  # one output per tensor the schema lists
        outputs: dict[str, Any] = {output.name: (float, ...) for output in schema.outputs}
    else:
        classes = schema.class_list
        probabilities = create_model(
            "Probabilities",
            **{f"class_{i}": (float, Field(alias=c)) for i, c in enumerate(classes)},
        )
        label = Literal[tuple(classes)] if classes else str  # type: ignore[valid-type]
        outputs = {"label": (label, ...), "probabilities": (probabilities, ...)}
    item = create_model("Prediction", **ids, **outputs)
    return create_model(
        "PredictResponse",
        request_id=(str, ...),
        model=(ModelInfo, ...),
        latency_ms=(float, ...),
        predictions=(list[item], ...),  # type: ignore[valid-type]
        warnings=(list[str], Field(description="policy findings: missing features, unseen categories, ...")),
    )
