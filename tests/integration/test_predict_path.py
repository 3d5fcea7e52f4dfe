"""``POST /predict`` answered ahead of FastAPI's router (:mod:`tabpipe.serving.predict_path`)
answers exactly as the documented route does: the same statuses and bodies, the same
Prometheus counts and the same prediction-log lines, for scored bodies, policy refusals,
bodies it hands on to the route, and a body big enough to arrive in several messages."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import httpx
import pandas as pd
import pytest

from helpers import ROOT
from serving_helpers import serve_config, serving_in_thread
from tabpipe.serving.predict_path import PredictPath

JSON = {"content-type": "application/json"}
VOLATILE = ("request_id", "latency_ms", "ts")  # differ between any two requests


def _rows(n: int) -> list[dict]:
    frame = pd.read_csv(ROOT / "src/tabpipe/datasets/telco_churn.csv").drop(columns=["churn"]).head(n)
    return [
        {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in row.items()}
        for row in frame.to_dict(orient="records")
    ]


ROWS = _rows(700)
REQUESTS = [  # (method, path, body, headers)
    ("POST", "/predict", json.dumps(ROWS[0]).encode(), JSON),
    ("POST", "/predict", json.dumps(ROWS[1:4]).encode(), JSON),
    ("POST", "/predict", json.dumps(ROWS).encode(), JSON),  # ~400 kB: several ASGI messages
    ("POST", "/predict", b"{}", JSON),  # scored, with the missing-features warning
    ("POST", "/predict", b'{"tenure": 500}', JSON),  # scored, out of range: a warning
    ("POST", "/predict", b'{"contract": "Weekly"}', JSON),  # on_unseen_category=error: 422
    ("POST", "/predict", b'{"tenure": "3"}', JSON),  # refused by the request model: 422
    ("POST", "/predict", b'{"tenure": ', JSON),  # 400
    ("POST", "/predict", b'{"tenure": 3}', {"content-type": "text/plain"}),
    ("POST", "/predict", b'{"tenure": 3}', {"content-type": "application/json; charset=utf-8"}),
    ("GET", "/predict", b"", {}),  # 405
]


def _answers(url: str) -> list[tuple[int, object]]:
    out = []
    with httpx.Client(base_url=url, timeout=60) as client:
        for method, path, body, headers in REQUESTS:
            reply = client.request(method, path, content=body, headers=headers)
            document = reply.json()
            if isinstance(document, dict):
                document = {k: v for k, v in document.items() if k not in VOLATILE}
            out.append((reply.status_code, document))
        metrics = client.get("/metrics").text
    counted = re.compile(r"^tabpipe_((requests|rows_scored|errors)_total|request_latency_seconds_count)")
    out.append((0, sorted(line for line in metrics.splitlines() if counted.match(line))))
    return out


def _log(path: Path) -> list[dict]:
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    return [{k: v for k, v in line.items() if k not in VOLATILE} for line in lines]


@pytest.fixture(scope="module")
def both(binary_bundle, tmp_path_factory) -> dict[str, tuple[list, list]]:
    from tabpipe.serving.app import create_app

    out = {}
    for name in ("fast", "routed"):
        log = tmp_path_factory.mktemp(name) / "predictions.jsonl"
        overrides = ["on_unseen_category=error", f"prediction_log.path={log}", "prediction_log.key=k"]
        app = create_app(serve_config("telco_churn:1", binary_bundle.registry, *overrides))
        if name == "routed":  # the same app with every request going through the router
            app.user_middleware = [m for m in app.user_middleware if m.cls is not PredictPath]
        assert (name == "fast") == any(m.cls is PredictPath for m in app.user_middleware)
        with serving_in_thread(app) as url:
            answers = _answers(url)
        out[name] = (answers, _log(log))  # the server has stopped: every log line is written
    return out


def test_the_fast_path_answers_and_counts_as_the_route_does(both) -> None:
    (fast, _), (routed, _) = both["fast"], both["routed"]
    assert [status for status, _ in fast[:-1]] == [200, 200, 200, 200, 200, 422, 422, 400, 422, 200, 405]
    assert len(fast[2][1]["predictions"]) == len(ROWS)
    assert fast[4][1]["warnings"][0] == "tenure: 500.0 outside the training range [0.0, 72.0]"
    assert fast == routed
    assert 'tabpipe_rows_scored_total{arm="a",model="telco_churn",version="1"} 707.0' in fast[-1][1]


def test_the_fast_path_logs_the_same_prediction_lines(both) -> None:
    (_, fast), (_, routed) = both["fast"], both["routed"]
    # a scored request's line is written after its answer, so lines may swap with the next request's
    errors = sorted(str(line.get("error")) for line in fast)  # the 405 is counted, not logged
    assert errors == ["None"] * 6 + ["malformed_json"] + ["validation"] * 3
    assert sorted(map(json.dumps, fast)) == sorted(map(json.dumps, routed))
