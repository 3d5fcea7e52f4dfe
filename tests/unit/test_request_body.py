"""The raw-body reader of ``POST /predict``: its one-pass reading (pydantic ``validate_json``)
accepts exactly what FastAPI's reading of a declared body accepts (``json.loads``, then the
request model), with the same records, and every refusal is FastAPI's own."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request

from tabpipe.data.column_schema import ColumnSchema
from tabpipe.export.bundle import schema_document
from tabpipe.serving.request_body import RecordsReader
from tabpipe.serving.request_model import build_request_model

COLUMNS = [
    ColumnSchema("tenure", "numeric", min=0.0, max=72.0),
    ColumnSchema("partner", "boolean"),
    ColumnSchema("contract", "categorical", categories=["Month-to-month", "Two year"]),
    ColumnSchema("signup", "datetime"),
]
SCHEMA = schema_document({c.name: c for c in COLUMNS}, "binary", ["No", "Yes"], ["customer_id"])
JSON = "application/json"
BODIES = [
    b'{"tenure": 3}',
    b'[{"tenure": 3}, {}]',
    b"{}",
    b'{"tenure": 3, "tenure": 4}',  # duplicate keys: the last wins in both
    b' \n{"tenure": 1E2}\t',
    b'{"tenure": 2.5000000000000001, "contract": -0.0}',
    b'{"tenure": -0, "contract": 1e16}',
    b'{"contract": 12345678901234567890}',
    b'{"contract": ' + b"1" * 400 + b"}",
    b'{"contract": ' + b"1" * 4301 + b"}",  # json.loads refuses it (400); so must the fast pass
    b'{"contract": 3.0, "partner": 1}',
    b'{"partner": 1.0}',
    b'{"partner": true, "customer_id": 7.0}',
    b'{"customer_id": 7.5}',
    b'{"customer_id": true}',
    b'{"customer_id": "x\\u00e9"}',
    b'{"customer_id": 18446744073709551616}',
    b'{"tenure": NaN}',
    b'{"tenure": Infinity}',
    b'{"tenure": 1e400}',
    b'{"contract": "\\ud800"}',
    b'{"\\ud800": 1}',
    b'{"contract": "\xff"}',
    b'{"contract": "caf\xc3\xa9"}',
    b"\xef\xbb\xbf{}",
    '{"tenure": 3}'.encode("utf-16"),
    b'{"tenure": 3} x',
    b'{"tenure": ',
    b"[" * 5000 + b"]" * 5000,
    b"",
    b"null",
    b"[]",
    b"[1, 2]",
    b"[{}, {}, {}, {}]",  # over max_records
    b'{"signup": "2012-02-29T10:00:00.123456789Z"}',
    b'{"signup": "2013-02-29"}',
    b'{"tenur": 3}',
]


def _request(raw: bytes, content_type: str | None) -> Request:
    headers = [(b"content-type", content_type.encode())] if content_type else []
    scope = {"type": "http", "method": "POST", "path": "/predict", "headers": headers}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": raw, "more_body": False}

    return Request(scope, receive)


def _outcome(read: Any) -> tuple:
    """("ok", records) or the refusal: its type, errors (or status and cause's type)."""
    try:
        return "ok", read()
    except RequestValidationError as exc:
        return "422/400", [{k: e.get(k) for k in ("type", "loc", "msg", "input")} for e in exc.errors()]
    except HTTPException as exc:
        return exc.status_code, exc.detail, type(exc.__cause__)


@pytest.fixture(scope="module")
def reader() -> RecordsReader:
    return RecordsReader(build_request_model(SCHEMA), max_records=3)


@pytest.mark.parametrize("content_type", [JSON, "application/json; charset=utf-8", "text/plain", None])
@pytest.mark.parametrize("raw", BODIES, ids=[repr(b[:40]) for b in BODIES])
def test_one_pass_reading_equals_fastapis(reader: RecordsReader, raw: bytes, content_type: str) -> None:
    slow = _outcome(lambda: reader._checked(reader._parsed(raw, content_type)))
    fast = _outcome(lambda: asyncio.run(reader.records(_request(raw, content_type))))
    assert fast == slow
    if fast[0] == "ok":
        assert all(set(record) == set(reader.fields) for record in fast[1])  # absent fields: None


def test_the_one_pass_reading_is_the_common_path(reader: RecordsReader, monkeypatch) -> None:
    """A valid JSON body never reaches the slower reading."""

    def slower(*_: Any) -> None:
        raise AssertionError("read twice")

    monkeypatch.setattr(reader, "_parsed", slower)
    records = asyncio.run(reader.records(_request(b'[{"tenure": 3, "customer_id": "a"}, {}]', JSON)))
    assert records[0]["tenure"] == 3.0 and records[0]["customer_id"] == "a" and records[1]["partner"] is None
