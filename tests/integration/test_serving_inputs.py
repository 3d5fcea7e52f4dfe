"""The hardening campaign's bad-input matrix against a real uvicorn on 127.0.0.1: no input
gives a 5xx; each answer is tabpipe's own error body, counted, and the server keeps serving.
Also the last-resort handler for errors no endpoint handles."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from serving_helpers import serve_config, serving_in_thread

pytestmark = pytest.mark.slow
TOKEN = "matrix-token"
JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def bundles(binary_bundle) -> Path:
    """The session's churn model (booleans, numbers, categoricals, an id): its registry."""
    return binary_bundle.registry


@pytest.fixture(scope="module")
def servers(bundles: Path, multiclass_bundle, tmp_path_factory) -> Iterator[dict[str, str]]:
    """The churn model and the session's weather model (a datetime column)."""
    from tabpipe.serving.app import create_app

    log = tmp_path_factory.mktemp("log") / "predictions.jsonl"
    churn = create_app(
        serve_config("telco_churn:1", bundles, f"admin_token={TOKEN}", f"prediction_log.path={log}")
    )
    weather = create_app(serve_config("seattle_weather:1", multiclass_bundle.registry))
    with serving_in_thread(churn) as churn_url, serving_in_thread(weather) as weather_url:
        yield {"churn": churn_url, "weather": weather_url}


def _chunks(total: int) -> Iterator[bytes]:  # no Content-Length: sent chunked
    for _ in range(total // 65536 + 1):
        yield b" " * 65536


def _body(raw: bytes) -> Callable[[httpx.Client], httpx.Response]:
    return lambda client: client.post("/predict", content=raw, headers=JSON)


# (server, request, status, error kind, the field named in a 422)
MATRIX = {
    "date 0001-01-01": ("weather", _body(b'{"date": "0001-01-01"}'), 422, "validation", "date"),
    "date 9999-12-31": ("weather", _body(b'{"date": "9999-12-31"}'), 422, "validation", "date"),
    "date 1677-09-21": ("weather", _body(b'{"date": "1677-09-21"}'), 422, "validation", "date"),
    "date 2262-04-12": ("weather", _body(b'{"date": "2262-04-12"}'), 422, "validation", "date"),
    "date today": ("weather", _body(b'{"date": "today"}'), 422, "validation", "date"),
    "date now": ("weather", _body(b'{"date": "now"}'), 422, "validation", "date"),
    "date Feb 30": ("weather", _body(b'{"date": "2012-02-30"}'), 422, "validation", "date"),
    "date as a number": ("weather", _body(b'{"date": 20120101}'), 422, "validation", "date"),
    "lone surrogate": ("churn", _body(b'{"contract": "\\ud800"}'), 422, "validation", "contract"),
    "lone surrogate in a number": ("churn", _body(b'{"tenure": "\\ud800"}'), 422, "validation", "tenure"),
    "lone surrogate in a key": ("churn", _body(b'{"\\ud800": 1}'), 422, "validation", "body"),
    "lone surrogate in an id": (
        "churn",
        _body(b'{"customer_id": "x\\udc00"}'),
        422,
        "validation",
        "customer_id",
    ),
    "invalid UTF-8": ("churn", _body(b'{"contract": "\xff\xfe"}'), 400, "malformed_json", None),
    "JSON 100,000 deep": ("churn", _body(b"[" * 100_000 + b"]" * 100_000), 400, "malformed_json", None),
    "int of 4,301 digits": ("churn", _body(b'{"tenure": ' + b"1" * 4301 + b"}"), 400, "malformed_json", None),
    "truncated JSON": ("churn", _body(b'{"tenure": '), 400, "malformed_json", None),
    "chunked over max_body_bytes": (
        "churn",
        lambda client: client.post("/predict", content=_chunks(1_100_000), headers=JSON),
        413,
        "body_too_large",
        None,
    ),
    "empty list": ("churn", _body(b"[]"), 422, "validation", "body"),
    "boolean 'yes'": ("churn", _body(b'{"partner": "yes"}'), 422, "validation", "partner"),
    "boolean 2": ("churn", _body(b'{"partner": 2}'), 422, "validation", "partner"),
    "customer_id false": ("churn", _body(b'{"customer_id": false}'), 422, "validation", "customer_id"),
    "number true": ("churn", _body(b'{"tenure": true}'), 422, "validation", "tenure"),
    "number as text": ("churn", _body(b'{"tenure": "3"}'), 422, "validation", "tenure"),
    "number NaN": ("churn", _body(b'{"tenure": NaN}'), 422, "validation", "tenure"),
    "number 1e400": ("churn", _body(b'{"tenure": 1e400}'), 422, "validation", "tenure"),
    "number -1e300": ("churn", _body(b'{"tenure": -1e300}'), 422, "validation", "tenure"),
    "number 1e39": ("churn", _body(b'{"total_charges": 1e39}'), 422, "validation", "total_charges"),
    "number over float32": (
        "churn",
        _body(b'{"monthly_charges": 3.5e38}'),
        422,
        "validation",
        "monthly_charges",
    ),
    "id beyond 2**53 - 1": (
        "churn",
        _body(b'{"customer_id": 18446744073709551616}'),
        422,
        "validation",
        "customer_id",
    ),
    "null body": ("churn", _body(b"null"), 422, "validation", "body"),
    "list of numbers": ("churn", _body(b"[1, 2]"), 422, "validation", "[0]"),
}


@pytest.mark.parametrize("case", list(MATRIX))
def test_bad_input_matrix_gets_tabpipe_4xx_and_the_server_keeps_serving(servers, case) -> None:
    server, send, status, kind, field = MATRIX[case]
    with httpx.Client(base_url=servers[server], timeout=60) as client:
        reply = send(client)
        assert reply.status_code == status, reply.text
        body = reply.json()
        assert body["error"] == kind
        if field is not None:
            assert body["detail"][0]["field"] == field and body["detail"][0]["rule"]
        else:
            assert isinstance(body["detail"], str) and body["detail"]
        assert client.get("/ready").status_code == 200  # still serving
    metrics = httpx.get(f"{servers[server]}/metrics").text
    assert f'tabpipe_errors_total{{kind="{kind}"}}' in metrics
    assert 'kind="internal"' not in metrics  # nothing reached the last-resort handler


def test_valid_dates_at_the_edges_of_the_range_are_scored(servers) -> None:
    for stamp in (
        "1678-01-01",
        "2261-12-31T23:59:59-14:00",
        "2012-02-29T10:00:00.123456789Z",
        "2012-06-01 08:30",
    ):
        reply = httpx.post(f"{servers['weather']}/predict", json={"date": stamp, "wind": 3.0})
        assert reply.status_code == 200, (stamp, reply.text)


def test_empty_record_is_scored_with_a_warning_listing_the_missing_features(servers) -> None:
    reply = httpx.post(f"{servers['churn']}/predict", json={})
    assert reply.status_code == 200
    [warning] = reply.json()["warnings"]
    assert warning.startswith("missing features (imputed as in training): female, senior_citizen,")
    assert warning.endswith("monthly_charges, total_charges")
    two = httpx.post(f"{servers['churn']}/predict", json=[{"tenure": 3}, {}]).json()["warnings"]
    assert [w.split(":")[0] for w in two] == ["[0]", "[1]"]


def test_predictions_echo_the_id_columns(servers) -> None:
    reply = httpx.post(f"{servers['churn']}/predict", json=[{"customer_id": 7, "tenure": 3}, {"tenure": 1}])
    predictions = reply.json()["predictions"]
    assert [p["customer_id"] for p in predictions] == [7, None]
    assert set(predictions[0]) == {"customer_id", "label", "probabilities"}


def test_reload_onto_a_tampered_bundle_is_409_and_keeps_serving(bundles: Path, tmp_path: Path) -> None:
    import shutil

    from tabpipe.serving.app import create_app

    registry = tmp_path / "registry"
    shutil.copytree(bundles / "telco_churn", registry / "telco_churn")
    app = create_app(serve_config("telco_churn:1", registry, f"admin_token={TOKEN}"))
    model = registry / "telco_churn" / "1" / "model.onnx"
    data = bytearray(model.read_bytes())
    data[-1] ^= 0xFF
    model.write_bytes(bytes(data))
    with serving_in_thread(app) as url, httpx.Client(base_url=url) as client:
        anonymous = client.post("/admin/reload")
        assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"] == "Bearer"
        reply = client.post("/admin/reload", headers={"Authorization": f"Bearer {TOKEN}"})
        assert reply.status_code == 409
        assert reply.json()["error"] == "reload_failed"
        assert "file model.onnx fails its checksum" in reply.json()["detail"]
        served = client.post("/predict", json={"tenure": 3})
        assert served.status_code == 200 and served.json()["model"]["version"] == "1"


def test_unhandled_errors_are_a_counted_logged_json_500(bundles: Path, tmp_path: Path, caplog) -> None:
    from tabpipe.monitoring.current_data import read_prediction_log
    from tabpipe.serving.app import create_app

    log = tmp_path / "predictions.jsonl"
    app = create_app(serve_config("telco_churn:1", bundles, f"prediction_log.path={log}"))

    def broken() -> None:  # a failure no endpoint handles
        raise RuntimeError("disk on fire")

    app.add_api_route("/broken", broken)
    with (
        caplog.at_level(logging.ERROR, logger="tabpipe.serving"),
        serving_in_thread(app) as url,
        httpx.Client(base_url=url) as client,
    ):
        reply = client.get("/broken")
        assert reply.status_code == 500
        body = reply.json()
        assert body["error"] == "internal" and len(body["request_id"]) == 32
        # the same connection still works: the server keeps serving
        assert client.post("/predict", json={"tenure": 3}).status_code == 200
        metrics = client.get("/metrics").text
    assert 'tabpipe_errors_total{kind="internal"} 1.0' in metrics
    [record] = [r for r in caplog.records if body["request_id"] in r.getMessage()]
    assert record.exc_info is not None and "disk on fire" in str(record.exc_info[1])
    serving = read_prediction_log(log, None, None).serving
    assert serving.errors_by_kind == {"internal": 1}
    assert serving.requests == 2 and serving.error_rate == 0.5
