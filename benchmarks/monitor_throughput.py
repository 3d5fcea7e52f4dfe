"""Drift-monitoring throughput: `tabpipe monitor` on 1M rows x 20 features, one run.

A `linear` bundle is trained on 20k rows of a synthetic binary task (15 numeric features,
5 categorical ones of 12 levels); `tabpipe monitor` (a subprocess, `score=false`) then compares
1M fresh rows from the same distribution, read from Parquet, with its reference profile.

* profile binning rows/s: the rows over the time `tabpipe monitor` spends binning all 20
  features on the reference bins and computing PSI + KL (``timings_s.binning_cpu_s`` of its
  drift.json: CPU seconds of one thread, so a busy shared machine does not move it; the
  wall-clock figure is printed too) -- target >= 1M rows/s per core;
* against, in the same run, the same PSI computed with plain numpy on the same coerced
  columns: ``np.histogram`` on the reference edges for numbers, ``np.unique`` counts for
  categories (one thread as well); both PSIs must agree.

    python benchmarks/monitor_throughput.py [--rows 1000000] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
NUMERIC, CATEGORICAL, LEVELS = 15, 5, 12


def synthetic(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    columns: dict[str, np.ndarray] = {}
    for i in range(NUMERIC):
        values = rng.normal(i, 1 + i / 5, rows)
        values[rng.random(rows) < 0.02] = np.nan
        columns[f"x{i:02d}"] = values
    weights = np.arange(LEVELS, 0, -1) / np.arange(LEVELS, 0, -1).sum()
    for i in range(CATEGORICAL):
        columns[f"c{i}"] = np.array([f"level_{k}" for k in range(LEVELS)], dtype=object)[
            rng.choice(LEVELS, rows, p=weights)
        ]
    frame = pd.DataFrame(columns)
    logit = np.nan_to_num(frame["x00"]) - np.nan_to_num(frame["x01"]) / 2 + (frame["c0"] == "level_0")
    frame["y"] = np.where(rng.random(rows) < 1 / (1 + np.exp(-(logit - 0.5))), "yes", "no")
    return frame


def plain_numpy_psi(
    coerced: pd.DataFrame, profile: dict, epsilon: float
) -> tuple[dict[str, float], float, float]:
    """The same PSI with plain numpy: histogram / unique counts, smoothed shares, the sum."""

    def psi(reference: np.ndarray, counts: np.ndarray) -> float:
        r = np.maximum(reference / reference.sum(), epsilon)
        c = np.maximum(counts / counts.sum(), epsilon)
        r, c = r / r.sum(), c / c.sum()
        return float(np.sum((c - r) * np.log(c / r)))

    started, cpu = time.perf_counter(), time.process_time()
    scores = {}
    for name, entry in profile["features"].items():
        if entry["kind"] == "categorical":
            values = coerced[name].to_numpy(dtype=object)
            present = values[pd.notna(values)].astype(str)
            levels, counts = np.unique(present, return_counts=True)
            found = dict(zip(levels.tolist(), counts.tolist(), strict=True))
            listed = [k for k in entry["frequencies"] if k != "__other__"]
            current = [found.pop(k, 0) for k in listed] + [sum(found.values())]
            reference = [entry["frequencies"][k] for k in listed] + [entry["frequencies"].get("__other__", 0)]
        else:
            values = coerced[name].to_numpy(dtype=np.float64)
            bins = np.concatenate([[-np.inf], entry["edges"], [np.inf]])
            current = np.histogram(values[~np.isnan(values)], bins=bins)[0]
            reference = entry["shares"]
        scores[name] = psi(np.asarray(reference, dtype=np.float64), np.asarray(current, dtype=np.float64))
    return scores, time.perf_counter() - started, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    from helpers import cli_env, compose_config
    from tabpipe.data.coercion import coerce_columns
    from tabpipe.training.train import run_training

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        train = base / "train.parquet"
        synthetic(20_000, seed=0).to_parquet(train, index=False)
        run_training(
            compose_config(
                [
                    "data=parquet",
                    f"data.path={train}",
                    "data.target=y",
                    "data.task=binary",
                    "data.positive_class=yes",
                    "model=linear",
                    "registry.name=synthetic",
                ],
                base / "run",
            )
        )
        current = base / "current.parquet"
        synthetic(args.rows, seed=1).drop(columns=["y"]).to_parquet(
            current, index=False, row_group_size=100_000
        )
        started = time.perf_counter()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "tabpipe.cli.main",
                "monitor",
                "bundle=synthetic:1",
                f"registry_root={base / 'registry'}",
                f"current={current}",
                f"output_dir={base / 'report'}",
                f"state_dir={base / 'state'}",
                "score=false",
            ],
            capture_output=True,
            text=True,
            env=cli_env() | {"OMP_NUM_THREADS": "1"},
        )
        wall = time.perf_counter() - started
        if done.returncode not in (0, 6):
            raise SystemExit(done.stderr[-2000:])
        document = json.loads((base / "report" / "drift.json").read_text())
        profile = json.loads((base / "registry" / "synthetic" / "1" / "reference_profile.json").read_text())
        types = {
            name: "categorical" if e["kind"] == "categorical" else "numeric"
            for name, e in profile["features"].items()
        }
        coerced = coerce_columns(pd.read_parquet(current), types)
        plain, plain_seconds, plain_cpu = plain_numpy_psi(coerced, profile, document["thresholds"]["epsilon"])

    ours = {f["name"]: f["psi"] for f in document["features"]}
    binning, binning_cpu = document["timings_s"]["binning_s"], document["timings_s"]["binning_cpu_s"]
    figures = {
        "rows": args.rows,
        "features": len(profile["features"]),
        "status": document["status"],
        "tabpipe_binning_s": binning,
        "tabpipe_binning_rows_per_cpu_s": round(args.rows / binning_cpu),
        "tabpipe_binning_rows_per_wall_s": round(args.rows / binning),
        "plain_numpy_psi_s": round(plain_seconds, 4),
        "plain_numpy_rows_per_cpu_s": round(args.rows / plain_cpu),
        "plain_numpy_rows_per_wall_s": round(args.rows / plain_seconds),
        "speedup_vs_plain_numpy_cpu": round(plain_cpu / binning_cpu, 2),
        "max_abs_psi_difference": max(abs(ours[name] - plain[name]) for name in plain),
        "tabpipe_monitor_timings_s": document["timings_s"],
        "tabpipe_monitor_wall_s": round(wall, 2),
        "targets": {"tabpipe_binning_rows_per_cpu_s": ">= 1,000,000 (one core)"},
    }
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
