"""`tabpipe monitor` end to end: a trained bundle, real CSV files and a real server's
prediction log; the CLI as a user runs it (exit codes, one-line errors)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest

from helpers import ROOT, cli_env, compose_config
from serving_helpers import running_server

pytestmark = pytest.mark.slow
CHURN = ROOT / "src/tabpipe/datasets/telco_churn.csv"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    """A registered churn model (telco_churn:1) trained with 5 profile bins."""
    from tabpipe.training.train import run_training

    base = tmp_path_factory.mktemp("monitor")
    run_training(
        compose_config(["model=xgb", "model.n_estimators=40", "export.profile_bins=5"], base / "run")
    )
    return {"base": base, "registry": base / "registry", "ref": "telco_churn:1"}


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    return pd.read_csv(CHURN).drop(columns=["churn"])


def monitor(bundle: dict, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "tabpipe.cli.main",
            "monitor",
            f"bundle={bundle['ref']}",
            f"registry_root={bundle['registry']}",
            f"state_dir={tmp_path / 'state'}",
            *args,
        ],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=300,
    )


def monitor_in_process(bundle: dict, tmp_path: Path, *args: str):
    """The same run without a new interpreter (the CLI's exit codes are tested above)."""
    from tabpipe.cli.groups import compose_app_config
    from tabpipe.monitoring.run import run_monitor

    common = [
        f"bundle={bundle['ref']}",
        f"registry_root={bundle['registry']}",
        f"state_dir={tmp_path / 'state'}",
    ]
    return run_monitor(compose_app_config("monitor", [*common, *args]))


def planted_shift(raw: pd.DataFrame, rows: int, seed: int) -> pd.DataFrame:
    """A mean shift in `tenure`, a new dominant category in `contract`, 30% of
    `monthly_charges` missing."""
    rng = np.random.default_rng(seed)
    shifted = raw.sample(rows, random_state=seed).reset_index(drop=True)
    shifted["tenure"] = shifted["tenure"] + 30
    shifted.loc[rng.random(rows) < 0.7, "contract"] = "Three year"
    shifted.loc[rng.random(rows) < 0.3, "monthly_charges"] = np.nan
    return shifted


def test_profile_honours_the_configured_bins(bundle) -> None:
    from tabpipe.export.bundle import load_bundle
    from tabpipe.export.registry import Registry

    profile = load_bundle(Registry(bundle["registry"]).resolve(bundle["ref"])).read_json(
        "reference_profile.json"
    )
    tenure = profile["features"]["tenure"]
    assert profile["bins"] == 5 and len(tenure["edges"]) == 4 and len(tenure["shares"]) == 5
    assert {"missing_rate", "mean", "std", "ks_sample"} <= set(tenure)
    assert len(profile["prediction"]["probability_edges"]) == 6
    contract = profile["features"]["contract"]
    assert contract["kind"] == "categorical" and abs(sum(contract["frequencies"].values()) - 1) < 1e-9


def test_fresh_sample_from_the_training_distribution_does_not_alert(bundle, raw, tmp_path: Path) -> None:
    current = tmp_path / "fresh.csv"
    raw.sample(2500, random_state=11).to_csv(current, index=False)
    result = monitor_in_process(bundle, tmp_path, f"current={current}", f"output_dir={tmp_path / 'out'}")
    assert not result.alert
    document = json.loads((tmp_path / "out" / "drift.json").read_text())
    assert document["status"] == "ok" and document["counts"]["alert"] == 0
    assert max(f["psi"] for f in document["features"]) < 0.1
    assert document["current"]["predictions"] == "scored"  # scored with the bundle's graph


def test_planted_shift_alerts_ranks_the_shifted_features_first_and_reports(bundle, raw, tmp_path) -> None:
    current = tmp_path / "shifted.parquet"
    planted_shift(raw, 2500, seed=5).to_parquet(current, index=False)
    out = tmp_path / "out"
    done = monitor(bundle, tmp_path, f"current={current}", f"output_dir={out}")
    assert done.returncode == 6, done.stderr[-2000:]
    document = json.loads((out / "drift.json").read_text())
    features = [f for f in document["features"] if f["kind"] != "prediction"]
    assert {f["name"] for f in features[:2]} == {"tenure", "contract"}
    assert all(f["severity"] == "alert" for f in features[:2])
    contract = features[[f["name"] for f in features].index("contract")]
    assert contract["unlisted_categories"]["Three year"] > 1500 and contract["test"] == "chi2"
    assert contract["p_adjusted"] < 1e-6
    charges = next(f for f in features if f["name"] == "monthly_charges")
    assert charges["severity"] == "alert" and charges["psi"] < 0.1  # the missing rate, not PSI
    assert charges["missing_current"] == pytest.approx(0.3, abs=0.03)
    report = (out / "report.md").read_text()
    assert "| `contract` | categorical | alert |" in report and "plots/tenure.png" in report
    assert (out / "plots" / "tenure.png").stat().st_size > 1000
    assert "alert tenure: PSI" in done.stdout or "alert contract" in done.stdout


def test_minimum_sample_size_is_insufficient_data_not_an_alert(bundle, raw, tmp_path: Path) -> None:
    current = tmp_path / "few.csv"
    planted_shift(raw, 60, seed=3).to_csv(current, index=False)
    done = monitor(bundle, tmp_path, f"current={current}", f"output_dir={tmp_path / 'out'}")
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]
    document = json.loads((tmp_path / "out" / "drift.json").read_text())
    assert {f["severity"] for f in document["features"]} == {"insufficient_data"}
    enough = monitor(
        bundle, tmp_path, f"current={current}", "min_samples=50", f"output_dir={tmp_path / 'o2'}"
    )
    assert enough.returncode == 6


def test_schema_drift_names_the_columns_and_empty_input_is_one_line(bundle, raw, tmp_path: Path) -> None:
    current = tmp_path / "schema.csv"
    broken = raw.sample(500, random_state=2).drop(columns=["contract"])
    broken["tenure"] = broken["tenure"].map(lambda v: f"{v} months")
    broken.to_csv(current, index=False)
    done = monitor(bundle, tmp_path, f"current={current}", f"output_dir={tmp_path / 'out'}")
    assert done.returncode == 6 and "Traceback" not in done.stderr
    schema = json.loads((tmp_path / "out" / "drift.json").read_text())["schema"]
    assert schema["missing"] == ["contract"] and list(schema["type_changed"]) == ["tenure"]
    assert "expected numeric; 500 of 500 values unreadable, e.g. '" in schema["type_changed"]["tenure"]
    assert "alert contract: missing from the current data" in done.stdout
    empty = tmp_path / "empty.csv"
    raw.head(0).to_csv(empty, index=False)
    done = monitor(bundle, tmp_path, f"current={empty}")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [f"error: current={str(empty)!r}: no rows; nothing to compare"]


def test_on_alert_runs_exactly_once_under_two_concurrent_monitors(bundle, raw, tmp_path: Path) -> None:
    current = tmp_path / "shifted.csv"
    planted_shift(raw, 1000, seed=9).to_csv(current, index=False)
    marker = tmp_path / "retrained.txt"
    script = tmp_path / "retrain.py"
    script.write_text(f"import time\nopen({str(marker)!r}, 'a').write('run\\n')\ntime.sleep(3)\n")
    command = f"on_alert='{sys.executable} {script}'"
    base = [sys.executable, "-m", "tabpipe.cli.main", "monitor", f"bundle={bundle['ref']}"]
    common = [f"registry_root={bundle['registry']}", f"state_dir={tmp_path / 'state'}", f"current={current}"]
    processes = [
        subprocess.Popen(
            [*base, *common, command, f"output_dir={tmp_path / f'out{i}'}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=cli_env(),
        )
        for i in range(2)
    ]
    results = [p.communicate(timeout=300) for p in processes]
    assert [p.returncode for p in processes] == [6, 6], results
    assert marker.read_text() == "run\n"
    history = [json.loads(line) for line in (tmp_path / "state" / "triggers.jsonl").read_text().splitlines()]
    assert sorted(e["action"] for e in history) == ["ran", "skipped"]
    ran = next(e for e in history if e["action"] == "ran")
    assert ran["returncode"] == 0 and ran["reasons"] == ["alert"] and ran["version"] == "1"
    outcomes = [json.loads((tmp_path / f"out{i}" / "drift.json").read_text())["trigger"] for i in range(2)]
    assert sorted(o["action"] for o in outcomes) == ["ran", "skipped"]


def test_cadence_triggers_without_drift_then_waits_for_the_next_period(bundle, raw, tmp_path: Path) -> None:
    current = tmp_path / "fresh.csv"
    raw.sample(1000, random_state=4).to_csv(current, index=False)
    marker = tmp_path / "retrained.txt"
    script = tmp_path / "retrain.py"
    script.write_text(f"open({str(marker)!r}, 'a').write('run\\n')\n")
    args = [
        f"current={current}",
        "schedule=true",
        "cadence_days=0.00001",  # ~0.9 s after the bundle's training date
        "cooldown_hours=0",
        f"on_alert='{sys.executable} {script}'",
    ]
    first = monitor(bundle, tmp_path, *args, f"output_dir={tmp_path / 'a'}")
    assert first.returncode == 0, first.stderr[-2000:]
    outcome = json.loads((tmp_path / "a" / "drift.json").read_text())["trigger"]
    assert outcome["action"] == "ran" and outcome["reasons"] == ["cadence"] and outcome["cadence"]["due"]
    assert "trigger (cadence): ran, exit code 0" in first.stdout
    weekly = monitor(
        bundle, tmp_path, *args[:2], "cadence_days=7", args[3], args[4], f"output_dir={tmp_path / 'b'}"
    )
    assert weekly.returncode == 0
    outcome = json.loads((tmp_path / "b" / "drift.json").read_text())["trigger"]
    assert outcome["action"] == "none" and not outcome["cadence"]["due"]
    assert marker.read_text() == "run\n"


def _records(rows: pd.DataFrame) -> list[dict]:
    return [
        {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
        for r in rows.to_dict(orient="records")
    ]


def test_prediction_log_of_a_real_server_and_the_drift_gauges(bundle, raw, tmp_path: Path) -> None:
    log = tmp_path / "log" / "predictions.jsonl"
    args = [
        f"bundle={bundle['ref']}",
        f"registry_root={bundle['registry']}",
        f"prediction_log.path={log}",
        "drift.min_samples=50",
    ]
    sample = raw.sample(240, random_state=8)
    with running_server(args, tmp_path / "server.log") as url, httpx.Client(base_url=url) as client:
        for start in range(0, len(sample), 2):
            body = _records(sample.iloc[start : start + 2])
            assert client.post("/predict", json=body).status_code == 200
        for _ in range(6):  # refused requests are logged as errors
            assert client.post("/predict", json={"tenure": "seven"}).status_code == 422
        metrics = client.get("/metrics").text
    gauges = {
        line.split('"')[1]: float(line.split()[-1])
        for line in metrics.splitlines()
        if line.startswith("tabpipe_feature_psi{")
    }
    assert "tabpipe_drift_window_rows 240.0" in metrics
    assert len(gauges) == 10 and all(0 <= v < 0.25 for v in gauges.values())
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    latencies = [line["latency_ms"] for line in lines if "inputs" in line]
    done = monitor(bundle, tmp_path, f"current={log}", "window=24h", f"output_dir={tmp_path / 'out'}")
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]
    document = json.loads((tmp_path / "out" / "drift.json").read_text())
    serving = document["current"]["serving"]
    assert document["current"]["rows"] == 240 and document["current"]["predictions"] == "log"
    assert serving["requests"] == 126 and serving["errors"] == 6
    assert serving["error_rate"] == pytest.approx(6 / 126)
    assert [serving["latency_ms"][k] for k in ("p50", "p95", "p99")] == pytest.approx(
        np.percentile(latencies, [50, 95, 99]).tolist()
    )
    assert f"P50 {serving['latency_ms']['p50']}" in done.stdout
    last = monitor_in_process(
        bundle, tmp_path, f"current={log}", "window=100", f"output_dir={tmp_path / 'l'}"
    )
    assert last.document["current"]["rows"] == 100
