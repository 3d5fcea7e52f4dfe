"""``tabpipe monitor bundle=<ref> current=<csv|parquet|jsonl> [window=24h]``: drift monitoring.

Examples::

    tabpipe monitor bundle=telco_churn@production current=scored.parquet
    tabpipe monitor bundle=telco_churn@production current=logs/predictions.jsonl window=24h
    tabpipe monitor bundle=telco_churn@production current=logs/predictions.jsonl window=10000 \\
        schedule=true cadence_days=7 on_alert='dvc repro'

Compares every feature and the predictions with the bundle's reference profile (PSI and
KL on the reference bins, KS / chi-square p-values with a Benjamini-Hochberg correction, the
missing-rate change) and writes drift.json, report.md and plots/ to output_dir (default
monitoring/<model>/<timestamp>/). Options are the keys of conf/monitor.yaml.

Figures are printed with 4 significant digits; drift.json keeps them in full.
Exit codes: 0 no alert, 6 drift alert (a feature, the predictions or the schema),
2 bad configuration or input (an empty window, an unreadable file).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from tabpipe.cli.groups import run_app_command

if TYPE_CHECKING:
    from tabpipe.config.app_schema import MonitorConfig


def _summary(result: Any) -> list[str]:
    """The printed summary; figures with 4 significant digits (drift.json has them in full)."""
    from tabpipe.monitoring import figure

    doc = result.document
    counts = ", ".join(f"{n} {k}" for k, n in doc.counts.items() if n)
    lines = [
        f"{doc.bundle.name}:{doc.bundle.version} vs {doc.current.source} "
        f"({doc.current.rows} rows): {doc.status} ({counts or 'nothing compared'})"
    ]
    for entry in doc.features:
        if entry.severity in ("alert", "warn"):
            lines.append(f"  {entry.severity:<5} {entry.name}: {'; '.join(entry.reasons)}")
    if doc.current.redacted:
        fields = ", ".join(f"{name} ({mode})" for name, mode in doc.current.redacted.items())
        lines.append(f"  redacted by the server, not compared: {fields}")
    serving = doc.current.serving
    if serving:
        latency = serving.latency_ms
        lines.append(
            f"  serving: {serving.requests} requests, error rate {figure(serving.error_rate)}, "
            f"latency ms P50 {figure(latency.p50)} P95 {figure(latency.p95)} P99 {figure(latency.p99)}"
        )
    outcome = doc.trigger
    if outcome and outcome.action != "none":
        code = f", exit code {outcome.returncode}" if outcome.action == "ran" else ""
        detail = f": {outcome.detail}" if outcome.detail else ""
        lines.append(f"  trigger ({', '.join(outcome.reasons)}): {outcome.action}{code}{detail}")
    lines.append(f"report: {result.directory / 'report.md'}")
    return lines


def _monitor(cfg: MonitorConfig) -> None:
    from tabpipe.monitoring import DRIFT_ALERT_EXIT_CODE
    from tabpipe.monitoring.run import run_monitor

    result = run_monitor(cfg)
    print("\n".join(_summary(result)))
    if result.alert:
        sys.exit(DRIFT_ALERT_EXIT_CODE)


def main(argv: list[str]) -> None:
    run_app_command(__doc__ or "", "monitor", argv, _monitor)
