"""Batch scoring throughput and memory: `tabpipe predict` against a plain loop, one run.

Inputs: the bundled churn rows resampled to 1M and 10M rows (Parquet, row groups of
100k), scored Parquet -> Parquet by an `xgb` bundle (100 trees).

* rows/s of `tabpipe predict` (coercion, rejects check, ids, atomic write) against a plain
  pyarrow-read + ONNX Runtime + pyarrow-write loop over the same graph and row batches
  (target >= 0.7x);
* peak RSS of `tabpipe predict` at 10M rows against 1M rows (target <= 1.2x).

Each measurement runs in a fresh subprocess.

    python benchmarks/batch_throughput.py [--small 1000000] [--large 10000000] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

PLAIN_LOOP = r"""
import json, resource, sys, time
import numpy as np, onnxruntime as ort, pyarrow as pa, pyarrow.parquet as pq
model, source, target, chunk = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
options = ort.SessionOptions(); options.intra_op_num_threads = 1
session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
inputs = [(i.name, i.type) for i in session.get_inputs()]
names = [o.name for o in session.get_outputs()]
start, rows, writer = time.perf_counter(), 0, None
for batch in pq.ParquetFile(source).iter_batches(batch_size=chunk):
    feeds = {}
    for name, kind in inputs:
        column = batch.column(name)
        if kind == "tensor(string)":
            values = column.fill_null("").to_numpy(zero_copy_only=False).astype(object)
        else:
            values = column.cast(pa.float32()).to_numpy(zero_copy_only=False)
        feeds[name] = values.reshape(-1, 1)
    label, proba = session.run(names, feeds)
    table = pa.table({"label": label, **{f"proba_{i}": proba[:, i] for i in range(proba.shape[1])}})
    writer = writer or pq.ParquetWriter(target, table.schema)
    writer.write_table(table)
    rows += batch.num_rows
writer.close()
print(json.dumps({"rows_per_s": rows / (time.perf_counter() - start),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

TABPIPE = (
    "import json, resource, sys, time; from tabpipe.cli.main import main; t = time.perf_counter(); "
    "main(sys.argv[1:]); print(json.dumps({'seconds': time.perf_counter() - t, "
    "'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))"
)


def make_input(rows: int, path: Path) -> None:
    source = pd.read_csv(ROOT / "src/tabpipe/datasets/telco_churn.csv").drop(columns=["churn"])
    writer = None
    for start in range(0, rows, 100_000):
        chunk = source.sample(min(100_000, rows - start), replace=True, random_state=start)
        chunk = chunk.assign(customer_id=range(start, start + len(chunk)))
        table = pa.Table.from_pandas(chunk, preserve_index=False)
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    writer.close()


def run(code: str, *args: str) -> dict:
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=1_000_000)
    parser.add_argument("--large", type=int, default=10_000_000)
    parser.add_argument("--chunk-rows", type=int, default=100_000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    from helpers import compose_config
    from tabpipe.training.train import run_training

    figures: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        run_training(
            compose_config(
                ["model=xgb", "model.n_estimators=100", "model.early_stopping_rounds=1000"], base / "run"
            )
        )
        model = base / "registry" / "telco_churn" / "1" / "model.onnx"
        for label, rows in (("small", args.small), ("large", args.large)):
            source = base / f"{label}.parquet"
            make_input(rows, source)
            ours = run(
                TABPIPE,
                "predict",
                "bundle=telco_churn:1",
                f"registry_root={base / 'registry'}",
                f"input={source}",
                f"output={base / 'out.parquet'}",
                f"chunk_rows={args.chunk_rows}",
                "progress=false",
            )
            plain = run(
                PLAIN_LOOP, str(model), str(source), str(base / "plain.parquet"), str(args.chunk_rows)
            )
            figures[label] = {
                "rows": rows,
                "tabpipe_rows_per_s": round(rows / ours["seconds"]),
                "plain_rows_per_s": round(plain["rows_per_s"]),
                "ratio": round(rows / ours["seconds"] / plain["rows_per_s"], 2),
                "tabpipe_peak_rss_mb": round(ours["peak_rss_mb"]),
                "plain_peak_rss_mb": round(plain["peak_rss_mb"]),
            }
            print(json.dumps(figures[label]), file=sys.stderr)
            source.unlink()
    figures["rss_ratio_large_vs_small"] = round(
        figures["large"]["tabpipe_peak_rss_mb"] / figures["small"]["tabpipe_peak_rss_mb"], 2
    )
    figures["targets"] = {"ratio": ">= 0.7", "rss_ratio_large_vs_small": "<= 1.2"}
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
