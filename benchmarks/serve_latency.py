"""Online latency of `tabpipe serve` against a bare FastAPI endpoint, in one run.

All are real uvicorn servers on 127.0.0.1 (one worker each), started as subprocesses:

* the floor: the least a FastAPI JSON endpoint does, ``await request.json()`` and return a
  dict (the targets are ratios to it);
* the raw-library model server (``onnx``): the same ONNX graph behind a bare FastAPI endpoint
  with nothing but onnxruntime and numpy (the JSON body's values into one tensor per graph
  input, ``session.run``, the outputs as a dict): no validation, no input policies, no
  metrics, no log. It is what serving the model costs without tabpipe.

Single-row ``/predict`` requests go over keep-alive connections, the servers' requests
alternating one by one so that the machine's background load moves them alike, with two
clients:

* ``raw``: one ``http.client`` connection per server and a pre-encoded body, so the client
  adds as little as it can to either side (this is the figure the targets apply to);
* ``httpx``: an ``httpx.Client`` per server, as an application would call it (it adds a few
  hundred microseconds to both sides, which compresses the ratio).

Each client is measured ``--runs`` times (``--requests`` requests per server per run); the
per-run P50 / P95 / P99 and their ratios are printed, and the medians over runs are the
figures. Targets (raw client): P50 <= 1.3x the floor's, P99 <= 2x. Then concurrency 16
(threads, one raw connection each): requests per second, four alternating rounds (target
>= 0.8x the floor's). Each phase also reports the servers' own CPU time per request (user +
system, read from the processes), which the machine's other load moves far less than the
latencies: the difference is what tabpipe adds per request.

The model is `model=xgb` (100 trees) on the bundled churn data, trained first (``--workdir``
keeps the trained registry between invocations).

    python benchmarks/serve_latency.py [--requests 2000] [--runs 5] [--json out.json]

Each figure is also given as ``ratio_to_onnx``: tabpipe against the raw-library model server.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

FLOOR_APP = """
from fastapi import FastAPI, Request

app = FastAPI()


@app.post("/predict")
async def predict(request: Request) -> dict:
    await request.json()
    return {"ok": True}
"""
# the raw library's model server: onnxruntime + numpy only (MODEL is filled in)
ONNX_APP = """
import numpy as np
import onnxruntime as ort
from fastapi import FastAPI, Request

options = ort.SessionOptions()
options.intra_op_num_threads = 1
session = ort.InferenceSession(MODEL, options, providers=["CPUExecutionProvider"])
inputs = [(i.name, np.float32 if i.type == "tensor(float)" else object) for i in session.get_inputs()]
outputs = [o.name for o in session.get_outputs()]
app = FastAPI()


@app.post("/predict")
async def predict(request: Request) -> dict:
    body = await request.json()
    feeds = {}
    for name, dtype in inputs:
        value = body.get(name)
        if dtype is object:
            value = "" if value is None else str(value)
        elif value is None:
            value = np.nan
        feeds[name] = np.array([[value]], dtype=dtype)
    label, probabilities = session.run(outputs, feeds)
    return {"label": str(label[0]), "probabilities": probabilities[0].tolist()}
"""
HEADERS = {"Content-Type": "application/json"}
SERVERS = ("tabpipe", "floor", "onnx")


def wait_ready(url: str, path: str) -> None:
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if httpx.get(url + path, timeout=1).status_code in (200, 405):
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def raw_poster(port: int, body: bytes) -> tuple[Callable[[], int], Callable[[], None]]:
    """A keep-alive ``http.client`` connection posting ``body``; returns (post, close)."""
    connection = http.client.HTTPConnection("127.0.0.1", port)

    def post() -> int:
        connection.request("POST", "/predict", body, HEADERS)
        reply = connection.getresponse()
        reply.read()
        return reply.status

    return post, connection.close


def httpx_poster(port: int, body: bytes) -> tuple[Callable[[], int], Callable[[], None]]:
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}")
    return (lambda: client.post("/predict", content=body, headers=HEADERS).status_code), client.close


POSTERS = {"raw": raw_poster, "httpx": httpx_poster}


def latencies(client: str, ports: list[int], body: bytes, n: int) -> np.ndarray:
    """[server, request] client latency in ms, the servers' requests alternating."""
    posters = [POSTERS[client](port, body) for port in ports]
    out = np.empty((len(ports), n))
    clock = time.perf_counter
    try:
        for post, _ in posters:
            for _ in range(100):
                post()
        for i in range(n):
            for k, (post, _) in enumerate(posters):
                start = clock()
                status = post()
                out[k, i] = clock() - start
                assert status == 200, status
    finally:
        for _, close in posters:
            close()
    return out * 1000


def throughput(port: int, body: bytes, n: int, concurrency: int = 16) -> float:
    per_thread = n // concurrency

    def worker(_: int) -> None:
        post, close = raw_poster(port, body)
        try:
            for _ in range(per_thread):
                post()
        finally:
            close()

    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(worker, range(concurrency)))
    return per_thread * concurrency / (time.perf_counter() - start)


class ServerCPU:
    """The servers' CPU time (user + system) since the last reading, per request served."""

    def __init__(self, servers: list[subprocess.Popen]) -> None:
        self.processes = [psutil.Process(server.pid) for server in servers]
        self.last = self._readings()

    def _readings(self) -> list[float]:
        return [sum(p.cpu_times()[:2]) for p in self.processes]

    def per_request(self, requests: int) -> dict[str, float]:
        now = self._readings()
        tabpipe, floor, onnx = ((b - a) / requests * 1e6 for a, b in zip(self.last, now, strict=True))
        self.last = now
        return {
            "tabpipe": round(tabpipe, 1),
            "floor": round(floor, 1),
            "onnx": round(onnx, 1),
            "ratio": round(tabpipe / floor, 2),
            "ratio_to_onnx": round(tabpipe / onnx, 2),
        }


def one_run(ms: np.ndarray) -> dict[str, dict[str, float]]:
    out = {}
    for q in (50, 95, 99):
        tabpipe, floor, onnx = (float(np.percentile(ms[k], q)) for k in range(len(SERVERS)))
        out[f"p{q}"] = {
            "tabpipe": round(tabpipe, 3),
            "floor": round(floor, 3),
            "onnx": round(onnx, 3),
            "ratio": round(tabpipe / floor, 3),
            "ratio_to_onnx": round(tabpipe / onnx, 3),
        }
    return out


def summarise(runs: list[dict]) -> dict:
    """Medians over runs of each figure, and the range of the ratios."""
    out: dict = {}
    for q in runs[0]:
        ratios = [r[q]["ratio"] for r in runs]
        out[q] = {
            **{server: round(statistics.median(r[q][server] for r in runs), 3) for server in SERVERS},
            "ratio": round(statistics.median(ratios), 2),
            "ratio_range": [round(min(ratios), 2), round(max(ratios), 2)],
            "ratio_to_onnx": round(statistics.median(r[q]["ratio_to_onnx"] for r in runs), 2),
        }
    return out


def train(workdir: Path) -> Path:
    registry = workdir / "registry"
    if not (registry / "telco_churn" / "1").is_dir():
        from helpers import compose_config
        from tabpipe.training.train import run_training

        overrides = ["model=xgb", "model.n_estimators=100", "model.early_stopping_rounds=1000"]
        run_training(compose_config(overrides, workdir / "run"))
    return registry


def request_body() -> bytes:
    row = pd.read_csv(ROOT / "src/tabpipe/datasets/telco_churn.csv").drop(columns=["churn"]).iloc[0]
    record = {
        k: (None if isinstance(v, float) and math.isnan(v) else v.item() if hasattr(v, "item") else v)
        for k, v in row.items()
    }
    return json.dumps(record).encode()


def start_servers(workdir: Path, registry: Path, ports: list[int]) -> list[subprocess.Popen]:
    (workdir / "floor.py").write_text(FLOOR_APP)
    model = registry / "telco_churn" / "1" / "model.onnx"
    (workdir / "onnx_floor.py").write_text(f"MODEL = {str(model)!r}\n" + ONNX_APP)
    serve = [sys.executable, "-m", "tabpipe.cli.main", "serve", "bundle=telco_churn:1"]
    uvicorn = [sys.executable, "-m", "uvicorn", "--log-level", "warning"]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    return [
        subprocess.Popen([*serve, f"registry_root={registry}", f"port={ports[0]}"], **quiet),
        subprocess.Popen([*uvicorn, "floor:app", "--port", str(ports[1])], cwd=workdir, **quiet),
        subprocess.Popen([*uvicorn, "onnx_floor:app", "--port", str(ports[2])], cwd=workdir, **quiet),
    ]


def measure(args: argparse.Namespace, workdir: Path) -> dict:
    from serving_helpers import free_port

    registry = train(workdir)
    body = request_body()
    ports = [free_port() for _ in SERVERS]
    servers = start_servers(workdir, registry, ports)
    try:
        wait_ready(f"http://127.0.0.1:{ports[0]}", "/ready")
        for port in ports[1:]:
            wait_ready(f"http://127.0.0.1:{port}", "/predict")
        figures: dict = {"latency_ms": {}, "server_cpu_us_per_request": {}}
        cpu = ServerCPU(servers)
        for client in args.clients:
            runs = [one_run(latencies(client, ports, body, args.requests)) for _ in range(args.runs)]
            for i, run in enumerate(runs):
                print(client, f"run {i + 1}:", json.dumps(run), file=sys.stderr)
            figures["latency_ms"][client] = {"median_of_runs": summarise(runs), "runs": runs}
            figures["server_cpu_us_per_request"][client] = cpu.per_request(args.runs * (args.requests + 100))
        # four alternating rounds, for the same reason as above
        rounds = [[throughput(port, body, args.requests) for port in ports] for _ in range(4)]
        per_round = args.requests // 16 * 16
        figures["server_cpu_us_per_request"]["c16"] = cpu.per_request(4 * per_round)
    finally:
        for server in servers:
            server.terminate()
            server.wait()
    tabpipe_rps, floor_rps, onnx_rps = (float(np.median([r[k] for r in rounds])) for k in range(len(SERVERS)))
    figures["throughput_rps_c16_raw"] = {
        "tabpipe": round(tabpipe_rps),
        "floor": round(floor_rps),
        "onnx": round(onnx_rps),
        "ratio": round(tabpipe_rps / floor_rps, 2),
        "ratio_to_onnx": round(tabpipe_rps / onnx_rps, 2),
    }
    figures["targets"] = {"p50 (raw)": "<= 1.3", "p99 (raw)": "<= 2.0", "throughput": ">= 0.8"}
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="per server, per run")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--clients", nargs="+", default=["raw", "httpx"], choices=sorted(POSTERS))
    parser.add_argument("--workdir", type=Path, help="keep the trained registry here between runs")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
        figures = measure(args, args.workdir.resolve())
    else:
        with tempfile.TemporaryDirectory() as tmp:
            figures = measure(args, Path(tmp))
    summary = {k: v["median_of_runs"] for k, v in figures["latency_ms"].items()}
    print(json.dumps({**figures, "latency_ms": summary}, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
