"""`tabpipe monitor` end to end: a trained bundle, real CSV files and a real server's
prediction log; the CLI as a user runs it (exit codes, one-line errors)."""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import subprocess
import sys
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest

from helpers import ROOT, cli_env, wait_for_skip
from serving_helpers import running_server

pytestmark = pytest.mark.slow
CHURN = ROOT / "src/tabpipe/datasets/telco_churn.csv"


@pytest.fixture(scope="module")
def bundle(binary_bundle):
    """The session's registered churn model (telco_churn:1), trained with 5 profile bins."""
    return {"registry": binary_bundle.registry, "ref": binary_bundle.ref}


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

    profile = load_bundle(Registry(bundle["registry"]).resolve(bundle["ref"])).profile
    tenure = profile.features["tenure"]
    assert profile.bins == 5 and len(tenure.edges) == 4 and len(tenure.shares) == 5
    assert tenure.mean is not None and tenure.std is not None and tenure.ks_sample
    assert len(profile.prediction.probability_edges) == 6
    contract = profile.features["contract"]
    assert contract.kind == "categorical" and abs(sum(contract.frequencies.values()) - 1) < 1e-9


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
    # the command runs until the other monitor has found the lock held (at most 60 s)
    script.write_text(f"open({str(marker)!r}, 'a').write('run\\n')\n" + wait_for_skip(tmp_path / "state"))
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


def _strict_json(line: str) -> dict:
    """``json.loads`` that refuses NaN / Infinity, which are not JSON."""

    def refuse(token: str) -> None:
        raise ValueError(f"not JSON: {token}")

    return json.loads(line, parse_constant=refuse)


def _assert_private_redacted_and_strict(log: Path, key: bytes, ids: set[int]) -> list[dict]:
    files = sorted(log.parent.glob(f"{log.name}*"))
    assert len(files) >= 2, files  # rotated at least once
    assert {f.stat().st_mode & 0o777 for f in files} == {0o600}
    lines = [_strict_json(line) for f in files for line in f.read_text().splitlines()]
    answered = [line for line in lines if "inputs" in line]
    redacted = {"customer_id": "hash", "contract": "hash", "payment_method": "drop"}
    assert answered and all(line["redacted"] == redacted for line in answered)
    records = [record for line in answered for record in line["inputs"]]
    assert not any("payment_method" in record for record in records)
    first = records[0]
    # a keyed hash: HMAC-SHA256 with the deployment's key, not a bare hash of the id
    assert first["customer_id"] not in {str(i) for i in range(10_000)}
    hashed_ids = {r["customer_id"] for r in records}
    keyed = {hmac.new(key, str(i).encode(), hashlib.sha256).hexdigest()[:32] for i in ids}
    bare = {hashlib.sha256(str(i).encode()).hexdigest()[:32] for i in ids}
    assert len(first["customer_id"]) == 32 and not keyed & bare
    assert hashed_ids == keyed  # every id sent, and only those, as its keyed hash
    assert all(len(r["contract"]) == 32 for r in records if r.get("contract") is not None)
    return lines


def test_prediction_log_of_a_real_server_private_redacted_strict_and_monitored(
    bundle, raw, tmp_path: Path
) -> None:
    """A real server writes the log (mode 0600, rotated, ids hashed with a keyed hash, one
    feature hashed and one dropped, NaN / Infinity as null + non_finite); `tabpipe monitor`
    reads it: drift on the remaining features, the serving figures rounded."""
    log = tmp_path / "log" / "predictions.jsonl"
    args = [
        f"bundle={bundle['ref']}",
        f"registry_root={bundle['registry']}",
        f"prediction_log.path={log}",
        "prediction_log.max_bytes=60000",
        "prediction_log.redact.hash=[contract]",
        "prediction_log.redact.drop=[payment_method]",
        "drift.min_samples=50",
    ]
    sample = raw.sample(240, random_state=8)
    with running_server(args, tmp_path / "server.log") as url, httpx.Client(base_url=url) as client:
        for start in range(0, len(sample), 2):
            body = _records(sample.iloc[start : start + 2])
            assert client.post("/predict", json=body).status_code == 200
        for _ in range(6):  # refused requests are logged as errors
            assert client.post("/predict", json={"tenure": "seven"}).status_code == 422
        # JSON extensions Python's parser accepts: refused (the contract says finite numbers),
        # and the log stays strict JSON
        probe = '{"customer_id": 0, "tenure": NaN, "monthly_charges": Infinity}'
        reply = client.post("/predict", content=probe, headers={"content-type": "application/json"})
        assert reply.status_code == 422, reply.text
        metrics = client.get("/metrics").text
    gauges = {
        line.split('"')[1]: float(line.split()[-1])
        for line in metrics.splitlines()
        if line.startswith("tabpipe_feature_psi{")
    }
    assert "tabpipe_drift_window_rows 240.0" in metrics
    assert len(gauges) == 10 and all(0 <= v < 0.25 for v in gauges.values())
    key_file = log.parent / f".{log.name}.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    lines = _assert_private_redacted_and_strict(
        log, key_file.read_bytes().strip(), set(sample["customer_id"].tolist())
    )
    assert not [line for line in lines if "non_finite" in line]
    latencies = [line["latency_ms"] for line in lines if "inputs" in line]
    done = monitor(bundle, tmp_path, f"current={log}", "window=24h", f"output_dir={tmp_path / 'out'}")
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]
    document = _strict_json((tmp_path / "out" / "drift.json").read_text())
    serving = document["current"]["serving"]
    assert document["current"]["rows"] == 240 and document["current"]["predictions"] == "log"
    assert document["current"]["redacted"] == {
        "contract": "hash",
        "customer_id": "hash",
        "payment_method": "drop",
    }
    compared = {f["name"] for f in document["features"]}
    assert {"tenure", "monthly_charges", "prediction.label"} <= compared
    assert not compared & {"contract", "payment_method", "customer_id"}
    assert not document["schema"]["alert"] and document["schema"]["extra"] == []
    assert serving["requests"] == 127 and serving["errors"] == 7 and serving["unreadable_lines"] == 0
    assert serving["error_rate"] == pytest.approx(7 / 127)
    assert [serving["latency_ms"][k] for k in ("p50", "p95", "p99")] == pytest.approx(
        np.percentile(latencies, [50, 95, 99]).tolist()
    )
    printed = {k: f"{v:.4g}" for k, v in serving["latency_ms"].items()}
    assert (
        f"error rate {7 / 127:.4g}, latency ms P50 {printed['p50']} P95 {printed['p95']} "
        f"P99 {printed['p99']}" in done.stdout
    )
    assert "redacted by the server, not compared: contract (hash), customer_id (hash)" in done.stdout
    last = monitor_in_process(
        bundle, tmp_path, f"current={log}", "window=100", f"output_dir={tmp_path / 'l'}"
    )
    assert last.document.current.rows == 100


def test_monitor_prints_four_significant_digits(tmp_path: Path) -> None:
    """The summary's figures: 4 significant digits, not float reprs."""
    from tabpipe.cli.monitor import _summary
    from tabpipe.monitoring.document import DriftDocument
    from tabpipe.monitoring.run import MonitorResult

    document = DriftDocument.model_validate(
        {
            "generated_at": "2026-12-03T10:00:00+00:00",
            "bundle": {"ref": "m@production", "name": "m", "version": "1", "path": "registry/m/1"},
            "current": {
                "source": "log.jsonl",
                "rows": 10,
                "serving": {
                    "requests": 3,
                    "error_rate": 1 / 3,
                    "latency_ms": {"p50": 0.1234567, "p95": 0.28354999999999947, "p99": 1234.5678},
                },
            },
            "schema": {},
            "status": "ok",
            "counts": {"ok": 1},
        }
    )
    lines = _summary(MonitorResult(document, tmp_path, alert=False))
    assert "  serving: 3 requests, error rate 0.3333, latency ms P50 0.1235 P95 0.2835 P99 1235" in lines


def test_drift_reasons_and_report_use_the_same_rounding() -> None:
    from tabpipe.monitoring.compare import FeatureDrift, Thresholds, judge

    result = FeatureDrift("x", "numeric", 500, 350, psi=0.123456789)
    result.missing_reference, result.missing_current = 0.0, 0.3
    result.missing_change = 0.3
    judge([result], Thresholds())
    assert result.reasons == ["missing rate 0 -> 0.3", "PSI 0.1235"]


def test_log_lines_round_trip_non_finite_values_as_strict_json() -> None:
    from tabpipe.monitoring.log_lines import decode_line, encode_line

    entry = {"inputs": [{"a/b": math.nan, "c~d": -math.inf, "n": 1.5}], "outputs": [{"p": {"x": math.inf}}]}
    line = encode_line(entry)
    assert _strict_json(line)["non_finite"] == {
        "/inputs/0/a~1b": "NaN",
        "/inputs/0/c~0d": "-Infinity",
        "/outputs/0/p/x": "Infinity",
    }
    back = decode_line(line)
    assert math.isnan(back["inputs"][0]["a/b"]) and back["inputs"][0]["c~d"] == -math.inf
    assert back["outputs"][0]["p"]["x"] == math.inf and back["inputs"][0]["n"] == 1.5
    assert encode_line({"n": 1.5}) == '{"n": 1.5}'  # the common line has no flag
    with pytest.raises(ValueError, match="names no value"):
        decode_line('{"inputs": [], "non_finite": {"/inputs/3/a": "NaN"}}')


def test_redaction_config_errors_are_one_line(bundle, tmp_path: Path) -> None:
    from omegaconf import OmegaConf

    from tabpipe.cli.groups import compose_app_config
    from tabpipe.errors import ConfigError
    from tabpipe.export.bundle import load_bundle
    from tabpipe.export.registry import Registry
    from tabpipe.serving.redaction import build_redaction

    schema = load_bundle(Registry(bundle["registry"]).resolve(bundle["ref"])).schema
    log = tmp_path / "predictions.jsonl"

    def redaction(*overrides: str):
        cfg = compose_app_config("serve", ["bundle=x", f"prediction_log.path={log}", *overrides])
        return build_redaction(OmegaConf.to_object(cfg).prediction_log, schema)

    with pytest.raises(ConfigError, match=r"^prediction_log.redact.drop: 'emial' is not a field of"):
        redaction("prediction_log.redact.drop=[emial]")
    with pytest.raises(ConfigError, match="'tenure' is listed in both hash and drop"):
        redaction("prediction_log.redact.hash=[tenure]", "prediction_log.redact.drop=[tenure]")
    assert redaction("prediction_log.redact.keep=[customer_id]") is None  # nothing left to redact
    key_file = tmp_path / "shared.key"
    key_file.write_text("secret\n")
    key_file.chmod(0o644)
    with pytest.raises(ConfigError, match=r"key_file=.*readable by others \(mode 0644\); chmod 600"):
        redaction(f"prediction_log.key_file={key_file}")
    key_file.chmod(0o600)
    assert redaction(f"prediction_log.key_file={key_file}").key == b"secret"
    assert redaction("prediction_log.key=from-env").key == b"from-env"


def test_an_error_line_with_inputs_counts_as_an_error_not_as_served_rows(tmp_path: Path) -> None:
    from tabpipe.documents.prediction_log import PredictionLogLine
    from tabpipe.monitoring.current_data import read_prediction_log
    from tabpipe.serving.observability import PredictionLog

    log = PredictionLog(str(tmp_path / "p.jsonl"), 10_000, 1)
    ts = "2026-12-03T00:00:00+00:00"
    log.write(PredictionLogLine(ts=ts, version="1", latency_ms=1.0, inputs=[{"tenure": 1.0}], outputs=[]))
    log.write_error("internal", 500, request_id="r1", inputs=[{"tenure": 2.0}])
    log.close()
    data = read_prediction_log(tmp_path / "p.jsonl", None, "1")
    assert data.frame["tenure"].tolist() == [1.0]
    assert data.serving.errors == 1 and data.serving.answered == 1


def test_a_log_left_world_readable_by_an_older_version_is_made_private(tmp_path: Path) -> None:
    from tabpipe.serving.observability import PredictionLog

    old = [tmp_path / "p.jsonl", tmp_path / "p.jsonl.1"]
    for path in old:
        path.write_text('{"ts": "2026-12-03T00:00:00+00:00", "error": "validation", "status": 422}\n')
        path.chmod(0o644)
    PredictionLog(str(old[0]), 10_000, 1).close()
    assert [path.stat().st_mode & 0o777 for path in old] == [0o600, 0o600]
