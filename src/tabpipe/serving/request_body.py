"""``POST /predict``'s body, read from the raw bytes: one record or a list of them.

The common case is one pass: pydantic validates the bytes as JSON against the request model
(``TypeAdapter.validate_json``), with no ``json.loads`` and no intermediate Python objects.
Anything that pass refuses, or a body it does not take (a content type other than JSON, an
empty body), is read again as FastAPI reads a declared body (``json.loads``, then the same
model in Python mode), so that every refusal is raised exactly as before: a
:class:`RequestValidationError` (answered 422, or 400 for JSON that does not parse) or an
:class:`HTTPException` 400 whose cause says why the body could not be parsed. The slow
reading is also the arbiter: the fast one only ever accepts what it accepts (JSON's parser
and pydantic's agree on every valid document; where they differ, such as ``NaN`` or an
integer of more than 4300 digits, the fast pass refuses first).
"""

from __future__ import annotations

import email.message
import inspect
import json
from functools import lru_cache
from typing import Annotated, Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, TypeAdapter, ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request

Records = list[dict[str, Any]]


@lru_cache(maxsize=32)
def is_json(content_type: str | None) -> bool:
    """FastAPI's test for a body it parses as JSON (``application/json`` or ``+json``)."""
    if not content_type:
        return False  # FastAPI's strict_content_type: a body without a type is not JSON
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    json_subtype = subtype == "json" or subtype.endswith("+json")
    return message.get_content_maintype() == "application" and json_subtype


def body_type(record: type[BaseModel], max_records: int) -> Any:
    """One record or a list of 1 to ``max_records`` of them (the OpenAPI request body)."""
    return Annotated[list[record], Field(min_length=1, max_length=max_records)] | record  # type: ignore[valid-type]


def document_request_body(app: FastAPI, body: Any) -> dict[str, Any]:
    """The OpenAPI ``requestBody`` of ``body`` (see :func:`body_type`) exactly as FastAPI
    writes a declared body parameter, taken from a throwaway app that declares it; its
    models (``Record``) are added to ``app``'s components."""
    declared = FastAPI()

    async def endpoint(**_: Any) -> None:  # pragma: no cover - only documented, never called
        return None

    parameter = inspect.Parameter("body", inspect.Parameter.KEYWORD_ONLY, annotation=body)
    endpoint.__signature__ = inspect.Signature([parameter])  # type: ignore[attr-defined]
    declared.post("/predict")(endpoint)
    document = declared.openapi()
    models = {
        name: model
        for name, model in document["components"]["schemas"].items()
        if name not in ("HTTPValidationError", "ValidationError")  # the 422 tabpipe does not send
    }
    generate = app.openapi

    def openapi() -> dict[str, Any]:  # FastAPI's documented way to extend the document
        if app.openapi_schema is None:
            generate().setdefault("components", {}).setdefault("schemas", {}).update(models)
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]
    return document["paths"]["/predict"]["post"]["requestBody"]


class RecordsReader:
    def __init__(self, record: type[BaseModel], max_records: int) -> None:
        self.adapter: TypeAdapter[Any] = TypeAdapter(body_type(record, max_records))
        self.fields = tuple(record.model_fields)

    async def records(self, request: Request) -> Records:
        """The body's records as dicts with every field (absent fields are None)."""
        raw = await request.body()
        content_type = request.headers.get("content-type")
        records = self.accepted(raw, content_type)
        if records is not None:
            return records
        return self._checked(self._parsed(raw, content_type))  # raises the refusal as FastAPI words it

    def accepted(self, raw: bytes, content_type: str | None) -> Records | None:
        """The records when the one-pass reading accepts the body; None when it does not
        (then :meth:`records` reads it again and raises the refusal)."""
        if not is_json(content_type):
            return None
        try:
            body = self.adapter.validate_json(raw)
        except ValidationError:
            return None
        if type(body) is list:
            return [item.__dict__ for item in body]
        return [body.__dict__]

    def _parsed(self, raw: bytes, content_type: str | None) -> Any:
        """The body as FastAPI hands it to validation (``fastapi.routing``, 0.165)."""
        if not raw:
            raise RequestValidationError([_missing_body()], body=None)
        if not is_json(content_type):
            return raw  # validated as bytes, which no record is
        try:
            return json.loads(raw)
        except json.JSONDecodeError as exc:
            error = {
                "type": "json_invalid",
                "loc": ("body", exc.pos),
                "msg": "JSON decode error",
                "input": {},
                "ctx": {"error": exc.msg},
            }
            raise RequestValidationError([error], body=exc.doc) from exc
        except (ValueError, RecursionError) as exc:  # not UTF-8, nested too deeply, a huge integer
            raise HTTPException(status_code=400, detail="There was an error parsing the body") from exc

    def _checked(self, body: Any) -> Records:
        try:
            valid = self.adapter.validate_python(body, from_attributes=True)
        except ValidationError as exc:
            errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
            raise RequestValidationError(errors, body=body) from None
        return [item.model_dump() for item in (valid if isinstance(valid, list) else [valid])]


def _missing_body() -> dict[str, Any]:
    return {"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}
