"""`tabpipe serve` as a real uvicorn server on 127.0.0.1, driven by a real HTTP client."""

from __future__ import annotations

import json
import math
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest

from helpers import ROOT
from serving_helpers import running_server, serve_config, serving_in_thread
from tabpipe.export.registry import Registry
from tabpipe.serving.app import create_app

pytestmark = pytest.mark.slow
TOKEN = "s3cret-token"


@pytest.fixture(scope="module")
def trained(binary_bundle, tmp_path_factory):
    """Two registered versions of the session's churn model (the same bundle registered
    twice, in a private copy of its registry); production -> 1."""
    base = tmp_path_factory.mktemp("serving")
    registry = Registry(binary_bundle.registry_copy(base / "registry"))
    assert registry.register("telco_churn", binary_bundle.bundle) == 2
    registry.promote("telco_churn", 1, "production")
    return {"base": base, "registry": registry, "runs": [binary_bundle.result]}


def raw_records(rows: pd.DataFrame) -> list[dict]:
    records = rows.to_dict(orient="records")
    return [
        {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()} for r in records
    ]


@pytest.fixture(scope="module")
def server(trained):
    base = trained["base"]
    args = [
        "bundle=telco_churn@production",
        f"registry_root={base / 'registry'}",
        f"admin_token={TOKEN}",
        f"prediction_log.path={base / 'log' / 'predictions.jsonl'}",
        "prediction_log.max_bytes=200000",
        "prediction_log.backups=3",
        "ab.bundle=telco_churn:2",
        "ab.weight=0.3",
        "ab.key=customer_id",
        "shadow=telco_churn:2",
        "access_log=true",
    ]
    with running_server(args, base / "server.log") as url:
        yield url


def test_http_predictions_equal_the_evaluation_predictions(trained, server) -> None:
    run = trained["runs"][0]
    expected = pd.read_parquet(run.output_dir / "predictions" / "test.parquet")
    raw = pd.read_csv(ROOT / "src/tabpipe/datasets/telco_churn.csv").drop(columns=["churn"])
    rows = raw.set_index("customer_id").loc[expected["customer_id"]].reset_index()
    # arm a only: customer ids that the sticky split sends to production (version 1)
    answers = []
    with httpx.Client(base_url=server) as client:
        for start in range(0, len(rows), 50):
            body = raw_records(rows.iloc[start : start + 50])
            reply = client.post("/predict", json=body)
            assert reply.status_code == 200, reply.text
            answers.append(reply.json())
    scored = [p for a in answers for p in a["predictions"]]
    labels = np.array([p["label"] for p in scored])
    proba = np.array([p["probabilities"]["Yes"] for p in scored])
    on_v1 = np.array([i for i, a in enumerate(answers) for _ in a["predictions"]])
    mask = np.array([answers[i]["model"]["version"] == "1" for i in on_v1])
    assert mask.sum() > 500  # most batches were answered by version 1 (arm a)
    assert (labels[mask] == expected["y_pred"].to_numpy()[mask]).all()
    # bit-identical although evaluation scored the split in one batch and HTTP in 50s
    assert np.array_equal(proba[mask], expected["proba_Yes"].to_numpy()[mask])


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ({"tenure": "many"}, "tenure"),
        ({"partner": "maybe"}, "partner"),
        ({"contract": {"kind": "monthly"}}, "contract"),
        ({"tenur": 3}, "tenur"),
        ([{"tenure": 1}, {"monthly_charges": "x"}], "[1].monthly_charges"),
    ],
)
def test_validation_errors_name_the_field_and_the_rule(server, record, field) -> None:
    reply = httpx.post(f"{server}/predict", json=record)
    assert reply.status_code == 422
    body = reply.json()
    assert body["error"] == "validation" and body["detail"][0]["field"] == field
    assert body["detail"][0]["rule"]
    assert httpx.get(f"{server}/health").status_code == 200  # still serving


def test_malformed_and_oversized_bodies(server) -> None:
    bad = httpx.post(
        f"{server}/predict", content=b'{"tenure": ', headers={"content-type": "application/json"}
    )
    assert bad.status_code == 400 and bad.json()["error"] == "malformed_json"
    huge = httpx.post(
        f"{server}/predict",
        content=b"[" + b'{"tenure": 1},' * 100_000 + b"{}]",
        headers={"content-type": "application/json"},
    )
    assert huge.status_code == 413 and huge.json()["error"] == "body_too_large"
    assert httpx.get(f"{server}/ready").status_code == 200


def test_one_record_or_a_list_and_the_response_shape(server) -> None:
    one = httpx.post(f"{server}/predict", json={"customer_id": 5, "tenure": 3, "contract": "Two year"})
    body = one.json()
    assert one.status_code == 200 and set(body) >= {"request_id", "model", "latency_ms", "predictions"}
    assert set(body["predictions"][0]["probabilities"]) == {"No", "Yes"}
    assert body["model"]["name"] == "telco_churn" and body["model"]["arm"] in ("a", "b")
    many = httpx.post(f"{server}/predict", json=[{"tenure": t} for t in range(5)])
    assert len(many.json()["predictions"]) == 5
    unseen = httpx.post(f"{server}/predict", json={"contract": "Weekly"}).json()
    assert unseen["warnings"][0] == "contract: unseen category 'Weekly' (mapped to the sentinel)"
    assert unseen["warnings"][1].startswith("missing features (imputed as in training): female,")


def test_ab_split_ratio_and_stickiness(server) -> None:
    # one client per thread: a shared httpx.Client's pool once raced (EBADF) under 8 threads
    clients: list[httpx.Client] = []
    local = threading.local()

    def arm(key: int) -> str:
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=server)
            clients.append(local.client)
        return local.client.post("/predict", json={"customer_id": key, "tenure": 5}).json()["model"]["arm"]

    try:
        with ThreadPoolExecutor(8) as pool:
            arms = list(pool.map(arm, range(2_000)))  # a hash of the key: deterministic shares
        share_b = Counter(arms)["b"] / len(arms)
        assert abs(share_b - 0.3) < 0.02, share_b
        for key in (3, 17, 4242):
            assert len({arm(key) for _ in range(10)}) == 1
    finally:
        for client in clients:
            client.close()
    versions = {"a": "1", "b": "2"}
    reply = httpx.post(f"{server}/predict", json={"customer_id": 17, "tenure": 5}).json()
    assert reply["model"]["version"] == versions[reply["model"]["arm"]]


def test_startup_line_and_access_log(trained, server) -> None:
    httpx.post(f"{server}/predict", json={"tenure": 3})
    lines = (trained["base"] / "server.log").read_text().splitlines()
    port = server.rsplit(":", 1)[1]
    expected = f"listening on http://127.0.0.1:{port} (bundle telco_churn@production: telco_churn version 1)"
    assert expected in lines
    assert any('"POST /predict HTTP/1.1" 200' in line for line in lines)  # access_log=true


def test_admin_requires_the_bearer_token(server) -> None:
    assert httpx.post(f"{server}/admin/reload").status_code == 401
    wrong = httpx.post(f"{server}/admin/reload", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.json()["error"] == "unauthorized"


def test_metrics_and_openapi(server) -> None:
    httpx.post(f"{server}/predict", json={"tenure": "x"})
    text = httpx.get(f"{server}/metrics").text
    assert 'tabpipe_requests_total{arm="a",model="telco_churn",status="200",version="1"}' in text
    assert 'tabpipe_errors_total{kind="validation"}' in text
    assert 'tabpipe_request_latency_seconds_bucket{le="0.005",model="telco_churn",version="1"}' in text
    schema = httpx.get(f"{server}/openapi.json").json()["components"]["schemas"]["Record"]
    assert "training range" in schema["properties"]["tenure"]["description"]
    assert httpx.get(f"{server}/docs").status_code == 200


def test_prediction_log_lines_rotation_and_shadow(trained, server) -> None:
    with httpx.Client(base_url=server) as client:
        for i in range(300):
            client.post("/predict", json=[{"customer_id": i, "tenure": 5}] * 5)
    log_dir = trained["base"] / "log"
    assert (log_dir / "predictions.jsonl.1").is_file()  # rotated by size
    lines = [json.loads(line) for line in (log_dir / "predictions.jsonl").read_text().splitlines()]
    served = [line for line in lines if not line.get("shadow")]
    shadow = [line for line in lines if line.get("shadow")]
    assert served and shadow
    assert {"ts", "request_id", "version", "inputs", "outputs", "latency_ms"} <= set(served[0])
    assert {s["request_id"] for s in shadow} <= {s["request_id"] for s in served} | {
        s["request_id"] for s in shadow
    }
    assert shadow[0]["version"] == "2"


def test_reload_picks_up_a_moved_alias_without_dropping_requests(trained, server) -> None:
    statuses, versions = [], []
    stop = threading.Event()

    def load() -> None:
        with httpx.Client(base_url=server) as client:
            while not stop.is_set():
                reply = client.post("/predict", json={"customer_id": 3, "tenure": 5})
                statuses.append(reply.status_code)
                versions.append(reply.json()["model"]["version"] if reply.status_code == 200 else None)

    sticky_arm = httpx.post(f"{server}/predict", json={"customer_id": 3, "tenure": 5}).json()["model"]["arm"]
    workers = [threading.Thread(target=load) for _ in range(4)]
    for worker in workers:
        worker.start()
    trained["registry"].promote("telco_churn", 2, "production", who="test")
    reply = httpx.post(f"{server}/admin/reload", headers={"Authorization": f"Bearer {TOKEN}"})
    assert reply.status_code == 200 and reply.json()["reloaded"]["a"]["version"] == "2"
    answered = len(statuses)
    deadline = time.monotonic() + 60
    while len(statuses) < answered + 200 and time.monotonic() < deadline:  # answers after the reload
        time.sleep(0.01)
    stop.set()
    for worker in workers:
        worker.join()
    assert statuses and set(statuses) == {200}
    if sticky_arm == "a":
        assert versions[0] == "1" and versions[-1] == "2"
    trained["registry"].promote("telco_churn", 1, "production", who="test")
    httpx.post(f"{server}/admin/reload", headers={"Authorization": f"Bearer {TOKEN}"})


def test_timeout_returns_504_and_keeps_serving(trained) -> None:
    cfg = serve_config("telco_churn:1", trained["base"] / "registry", "timeout_ms=0.001")
    with serving_in_thread(create_app(cfg)) as url:
        reply = httpx.post(f"{url}/predict", json=[{"tenure": 1}] * 2000)
        assert reply.status_code == 504
        assert reply.json() == {"error": "timeout", "detail": "inference took longer than timeout_ms=0.001"}
        assert httpx.get(f"{url}/health").status_code == 200


def test_policies_can_make_unseen_and_missing_errors(trained) -> None:
    policies = ["on_unseen_category=error", "on_missing=error", "on_out_of_range=error"]
    cfg = serve_config("telco_churn:1", trained["base"] / "registry", *policies)
    full = raw_records(
        pd.read_csv(ROOT / "src/tabpipe/datasets/telco_churn.csv").drop(columns=["churn"]).head(1)
    )
    with serving_in_thread(create_app(cfg)) as url:
        assert httpx.post(f"{url}/predict", json=full).status_code == 200
        unseen = httpx.post(f"{url}/predict", json={**full[0], "contract": "Weekly"})
        assert unseen.status_code == 422
        assert unseen.json()["detail"] == [
            {"field": "contract", "rule": "unseen category 'Weekly' (mapped to the sentinel)"}
        ]
        missing = httpx.post(f"{url}/predict", json={**full[0], "tenure": None}).json()
        assert missing["detail"][0]["field"] == "tenure"
        far = httpx.post(f"{url}/predict", json={**full[0], "tenure": 1000}).json()
        assert far["detail"][0]["rule"].startswith("1000.0 outside the training range")


def test_bad_bundle_ref_is_one_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    from helpers import cli_env

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tabpipe.cli.main",
            "serve",
            "bundle=nope@production",
            f"registry_root={tmp_path}",
        ],
        capture_output=True,
        text=True,
        env=cli_env(),
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"error: nope@production: no model 'nope' in {tmp_path} (models: none)"
    ]


@pytest.mark.parametrize("where", ["directory", "p.jsonl", "logs/p.jsonl"])
def test_a_prediction_log_path_that_cannot_hold_a_log_is_one_config_line(trained, tmp_path, where) -> None:
    from serving_helpers import serve_config
    from tabpipe.errors import ConfigError
    from tabpipe.serving.app import create_app

    blocker = tmp_path / "blocker"
    if where == "directory":
        blocker.mkdir()
        path, message = blocker, f"prediction_log.path={str(blocker)!r}: is a directory; give a file path"
    else:
        blocker.write_text("a regular file\n")
        path = blocker / where  # below a regular file
        message = f"prediction_log.path={str(path)!r}: cannot create its folder (a parent is not a directory)"
    cfg = serve_config("telco_churn:1", trained["base"] / "registry", f"prediction_log.path={path}")
    with pytest.raises(ConfigError) as caught:
        create_app(cfg)
    assert str(caught.value).startswith(message) and caught.value.exit_code == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blocker"]  # no key file left beside it


def test_ab_key_that_is_not_a_request_field_is_a_config_error(trained, tmp_path: Path) -> None:
    from serving_helpers import serve_config
    from tabpipe.errors import ConfigError
    from tabpipe.serving.app import create_app

    overrides = ["ab.bundle=telco_churn:2", "ab.weight=0.5"]
    registry = trained["base"] / "registry"
    with pytest.raises(
        ConfigError,
        match=r"^ab\.key='nope': not a field of the bundle's requests \(id columns and inputs: customer_id, ",
    ):
        create_app(serve_config("telco_churn:1", registry, *overrides, "ab.key=nope"))
    app = create_app(serve_config("telco_churn:1", registry, *overrides, "ab.key=customer_id"))
    assert set(app.state.serving.arms) == {"a", "b"}


def test_a_busy_port_or_a_bad_host_is_one_line_exit_2(trained, tmp_path: Path) -> None:
    import socket
    import subprocess
    import sys

    from helpers import cli_env
    from tabpipe.errors import ConfigError

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "tabpipe.cli.main",
                "serve",
                "bundle=telco_churn:1",
                f"registry_root={trained['base'] / 'registry'}",
                f"port={port}",
            ],
            capture_output=True,
            text=True,
            env=cli_env(),
            timeout=120,
        )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"error: host=127.0.0.1 port={port}: cannot listen there (Address already in use)"
    ]
    from tabpipe.cli.serve import bind_socket

    with pytest.raises(ConfigError, match=r"^host=999\.1\.1\.1 port=0: cannot listen there \(.+\)$"):
        bind_socket("999.1.1.1", 0)


def test_served_connections_send_without_nagle_delay() -> None:
    """`tabpipe serve` binds its own socket: asyncio (as uvicorn runs it) sets TCP_NODELAY on
    the connections it accepts only from a socket created for TCP. Without it the answer's
    body waits behind its headers for the client's delayed ACK: 40 ms per request with a
    plain keep-alive ``http.client`` connection."""
    import asyncio
    import socket

    from tabpipe.cli.serve import bind_socket

    async def accepted_nodelay() -> int:
        accepted: asyncio.Future = asyncio.get_running_loop().create_future()

        class Probe(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                sock = transport.get_extra_info("socket")
                accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()

        sock = bind_socket("127.0.0.1", 0)
        server = await asyncio.get_running_loop().create_server(Probe, sock=sock)  # as uvicorn does
        try:
            _, writer = await asyncio.open_connection(*sock.getsockname())
            value = await asyncio.wait_for(accepted, 10)
            writer.close()
        finally:
            server.close()
        return value

    assert asyncio.run(accepted_nodelay()) != 0
