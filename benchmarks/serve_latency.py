"""Online latency of `tabpipe serve` against a bare FastAPI endpoint, in one run.

Both are real uvicorn servers on 127.0.0.1 (one worker each), started as subprocesses; the
floor endpoint takes the same JSON body and does nothing. The client sends single-row
``/predict`` requests over keep-alive connections:

* concurrency 1: P50 / P95 / P99 latency (targets: P50 <= 1.3x the floor's, P99 <= 2x), the
  two servers' requests alternating so that background load moves both alike;
* concurrency 16 (threads): requests per second (target >= 0.8x the floor's).

The model is `model=xgb` (100 trees) on the bundled churn data, trained first.

    python benchmarks/serve_latency.py [--requests 3000] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

FLOOR_APP = """
from fastapi import FastAPI
app = FastAPI()

@app.post("/predict")
async def predict(body: dict) -> dict:
    return {}
"""


def wait_ready(url: str, path: str) -> None:
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if httpx.get(url + path, timeout=1).status_code in (200, 405):
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def latencies(urls: list[str], body: dict, n: int) -> list[np.ndarray]:
    """Per-request client latency (ms) of each server, requests alternating between them so
    that the machine's load moves both sides alike."""
    out = np.empty((len(urls), n))
    clients = [httpx.Client(base_url=url) for url in urls]
    try:
        for client in clients:
            for _ in range(50):
                client.post("/predict", json=body)
        for i in range(n):
            for k, client in enumerate(clients):
                start = time.perf_counter()
                reply = client.post("/predict", json=body)
                out[k, i] = time.perf_counter() - start
                assert reply.status_code == 200, reply.text
    finally:
        for client in clients:
            client.close()
    return list(out * 1000)


def throughput(url: str, body: dict, n: int, concurrency: int = 16) -> float:
    per_thread = n // concurrency

    def worker(_: int) -> None:
        with httpx.Client(base_url=url) as client:
            for _ in range(per_thread):
                client.post("/predict", json=body)

    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(worker, range(concurrency)))
    return per_thread * concurrency / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    from helpers import compose_config
    from serving_helpers import free_port
    from tabpipe.training.train import run_training

    with tempfile.TemporaryDirectory() as tmp:
        run_training(
            compose_config(
                ["model=xgb", "model.n_estimators=100", "model.early_stopping_rounds=1000"], Path(tmp) / "run"
            )
        )
        row = pd.read_csv(ROOT / "src/tabpipe/datasets/telco_churn.csv").drop(columns=["churn"]).iloc[0]
        body = {
            k: (None if isinstance(v, float) and math.isnan(v) else v.item() if hasattr(v, "item") else v)
            for k, v in row.items()
        }
        (Path(tmp) / "floor.py").write_text(FLOOR_APP)
        ports = free_port(), free_port()
        servers = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tabpipe.cli.main",
                    "serve",
                    "bundle=telco_churn:1",
                    f"registry_root={Path(tmp) / 'registry'}",
                    f"port={ports[0]}",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            ),
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "floor:app",
                    "--port",
                    str(ports[1]),
                    "--log-level",
                    "warning",
                ],
                cwd=tmp,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            ),
        ]
        try:
            urls = [f"http://127.0.0.1:{p}" for p in ports]
            wait_ready(urls[0], "/ready")
            wait_ready(urls[1], "/predict")
            tabpipe_ms, floor_ms = latencies(urls, body, args.requests)
            # four alternating rounds each, for the same reason as above
            rounds = [[throughput(url, body, args.requests // 4) for url in urls] for _ in range(4)]
            tabpipe_rps, floor_rps = (float(np.mean([r[k] for r in rounds])) for k in (0, 1))
        finally:
            for server in servers:
                server.terminate()
                server.wait()
    pct = {q: (float(np.percentile(tabpipe_ms, q)), float(np.percentile(floor_ms, q))) for q in (50, 95, 99)}
    figures = {
        "latency_ms": {
            f"p{q}": {"tabpipe": round(a, 3), "floor": round(b, 3), "ratio": round(a / b, 2)}
            for q, (a, b) in pct.items()
        },
        "throughput_rps_c16": {
            "tabpipe": round(tabpipe_rps),
            "floor": round(floor_rps),
            "ratio": round(tabpipe_rps / floor_rps, 2),
        },
        "targets": {"p50": "<= 1.3", "p99": "<= 2.0", "throughput": ">= 0.8"},
    }
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
