"""Turn the framework's refusals into tabpipe's error bodies: one ``{"field", "rule"}`` per bad
field for a 422, and a kind plus one line for the 4xx that FastAPI/Starlette raise themselves
(a body that does not parse, an unknown path or method)."""

from __future__ import annotations

import json
from typing import Any

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse

from tabpipe.serving.request_model import FIELD_RULES

_KINDS = {400: "malformed_json", 404: "not_found", 405: "method_not_allowed"}


class ErrorResponse(JSONResponse):
    """An error body as ASCII JSON: the rule may quote what the client sent, and a lone
    surrogate (``"\\ud800"``) cannot be encoded as UTF-8, only escaped."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def field_path(loc: tuple) -> str:
    """(0, "tenure") -> "[0].tenure"; ("contract", "str") -> "contract" (union members dropped)."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            return f"{path}.{part}".lstrip(".") if path else str(part)
    return path


def _field_name(loc: tuple) -> str | None:
    return next((part for part in loc if isinstance(part, str)), None)


def _rule(error: dict[str, Any], kinds: dict[str, str]) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown field: not an input of this model"
    if error["type"] == "missing":
        return "required"
    kind = kinds.get(_field_name(error["loc"][2:]) or "")  # loc: ("body", <union member>, ...)
    if kind is None:
        return str(error["msg"])
    if error["type"] == "value_error":  # our own validators: the message is the rule
        return str(error["msg"]).removeprefix("Value error, ")
    return f"must be {FIELD_RULES[kind]}; got {_quote(error.get('input'))}"


def _quote(value: Any) -> str:
    """What the client sent, as JSON, cut to 100 characters."""
    try:
        return json.dumps(value, default=str, ensure_ascii=False)[:100]
    except RecursionError:  # nested almost as deep as the JSON parser allows
        return f"a nested {type(value).__name__}"


def validation_detail(errors: list[dict[str, Any]], body: Any, kinds: dict[str, str]) -> list[dict[str, str]]:
    """One detail per bad field. The body is one record or a list of them, so pydantic reports
    both readings; keep the errors of the form the body has."""
    is_list = isinstance(body, list)
    branch = [e for e in errors if len(e["loc"]) > 1 and str(e["loc"][1]).startswith("list[") == is_list]
    detail: dict[str, str] = {}
    for error in branch or errors:
        field = field_path(error["loc"][2:]) or "body"
        if field in detail:  # a union reports each member; the first rule is enough
            continue
        if field == "body":
            detail[field] = _body_rule(error, is_list)
        elif field.endswith("]"):  # an item of the list that is not a record
            detail[field] = "must be a record (a JSON object)"
        else:
            detail[field] = _rule(error, kinds)
    return [{"field": field, "rule": rule} for field, rule in detail.items()]


def _body_rule(error: dict[str, Any], is_list: bool) -> str:
    if error["type"] == "too_short" and is_list:
        return "empty list of records"
    if error["type"] == "too_long" and is_list:
        return f"more than max_records={error['ctx']['max_length']} records"
    return f"must be one record (a JSON object) or a list of them; {error['msg']}"


def http_error(exc: HTTPException) -> tuple[str, str]:
    """(kind, one line) for an HTTPException raised by the framework."""
    kind = _KINDS.get(exc.status_code, f"http_{exc.status_code}")
    if exc.status_code == 400:  # FastAPI's "There was an error parsing the body"
        return kind, _parse_failure(exc.__cause__)
    return kind, str(exc.detail)


def _parse_failure(cause: BaseException | None) -> str:
    if isinstance(cause, UnicodeDecodeError):
        return f"the body is not valid UTF-8 (byte {cause.start})"
    if isinstance(cause, RecursionError):
        return "the JSON is nested too deeply"
    if isinstance(cause, ValueError) and "digits" in str(cause):
        return "the JSON has an integer of more than 4300 digits"
    return "the body could not be parsed as JSON"
