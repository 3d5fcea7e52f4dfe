"""The app's exception handlers: FastAPI's and Starlette's refusals answered with tabpipe's
error bodies, counted (and logged when the prediction log is on)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse

from tabpipe.serving.http_errors import ErrorResponse, http_error, validation_detail
from tabpipe.serving.state import serving_context


async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
    """400 for JSON that does not parse; 422 naming each bad field and its rule."""
    ctx = await serving_context(request)
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return ctx.refuse(400, "malformed_json", "the body is not valid JSON")
    return ctx.refuse(422, "validation", validation_detail(list(errors), exc.body, ctx.kinds))


async def refused(request: Request, exc: HTTPException) -> JSONResponse:
    ctx = await serving_context(request)
    kind, detail = http_error(exc)
    if exc.status_code in (404, 405):  # not requests for a prediction: counted, not logged
        ctx.metrics.errors.labels(kind).inc()
        return ErrorResponse({"error": kind, "detail": detail}, exc.status_code, headers=exc.headers)
    response = ctx.refuse(exc.status_code, kind, detail)
    response.headers.update(exc.headers or {})
    return response


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, invalid_request)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, refused)  # type: ignore[arg-type]
