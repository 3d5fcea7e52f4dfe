"""The monitor's outputs: ``drift.json`` (machine-readable), ``report.md`` (a per-feature
table sorted by PSI, the serving figures, the trigger) and ``plots/<feature>.png``
(reference against current shares for the most drifted features: those at warn or
alert, ``top_plots`` at most). matplotlib is imported
only here, with the Agg backend, and only when there is something to plot."""

from __future__ import annotations

import re
from pathlib import Path

from tabpipe.io import write_atomic, write_text_atomic
from tabpipe.monitoring import figure
from tabpipe.monitoring.compare import FeatureDrift
from tabpipe.monitoring.document import DriftDocument, SchemaSummary, ServingFigures, TriggerOutcome

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def plot_name(feature: str) -> str:
    return f"{_UNSAFE.sub('_', feature)}.png"


def _fmt(value: float | None) -> str:
    """A table cell: the monitor's 4 significant digits, empty for none."""
    return "" if value is None else figure(value)


def _redacted(fields: dict[str, str]) -> str:
    return ", ".join(f"`{name}` ({mode})" for name, mode in fields.items())


def plot_feature(result: FeatureDrift, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    positions = np.arange(len(result.bins))
    fig, ax = plt.subplots(figsize=(max(6.0, 0.45 * len(result.bins) + 2), 3.8))
    fig.subplots_adjust(bottom=0.3, top=0.9, left=0.1, right=0.97)
    try:
        ax.bar(positions - 0.2, result.reference_shares, width=0.4, label="reference (train)")
        ax.bar(positions + 0.2, result.current_shares, width=0.4, label="current")
        ax.set_xticks(positions, result.bins, rotation=45, ha="right", fontsize=7)
        ax.set_ylabel("share of present values")
        psi = "" if result.psi is None else f"  PSI {figure(result.psi)}"
        ax.set_title(f"{result.name}: {result.severity}{psi}")
        ax.legend(fontsize=8)
        write_atomic(path, lambda tmp: fig.savefig(tmp, dpi=90))
    finally:
        plt.close(fig)
    return path


def write_plots(results: list[FeatureDrift], directory: Path, top: int) -> list[str]:
    """Histograms of the ``top`` most drifted results (warn or alert) that have shares."""
    drifted = [r for r in results if r.severity in ("warn", "alert")]
    drawable = [r for r in drifted if r.current_shares and r.psi is not None][:top]
    return [str(plot_feature(r, directory / "plots" / plot_name(r.name)).name) for r in drawable]


def _header(document: DriftDocument) -> list[str]:
    current = document.current
    window = f", window {current.window}" if current.window else ""
    redacted = (
        [f"- redacted by the server, not compared: {_redacted(current.redacted)}"] if current.redacted else []
    )
    counts = ", ".join(f"{k}: {v}" for k, v in document.counts.items())
    return [
        f"# Drift report: {document.bundle.name}:{document.bundle.version}",
        "",
        f"- current: `{current.source}` ({current.rows} rows{window})",
        *redacted,
        f"- generated: {document.generated_at}",
        f"- status: **{document.status}** ({counts})",
        "",
    ]


def _schema_section(schema: SchemaSummary) -> list[str]:
    if not schema.alert:
        return []
    lines = ["## Schema drift (alert)", ""]
    lines += [f"- `{name}`: missing from the current data" for name in schema.missing]
    lines += [f"- `{name}`: {why}" for name, why in schema.type_changed.items()]
    return [*lines, ""]


def _feature_table(features: list[FeatureDrift]) -> list[str]:
    lines = [
        "## Features and predictions, by PSI",
        "",
        "| feature | kind | severity | PSI | KL | test | p (adj.) | missing ref → cur | rows | why |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in features:
        missing = f"{_fmt(r.missing_reference)} → {_fmt(r.missing_current)}"
        lines.append(
            f"| `{r.name}` | {r.kind} | {r.severity} | {_fmt(r.psi)} | {_fmt(r.kl)} | "
            f"{r.test or ''} | {_fmt(r.p_adjusted)} | {missing} | {r.rows} | {'; '.join(r.reasons)} |"
        )
    return lines


def _serving_section(serving: ServingFigures | None) -> list[str]:
    if not serving:
        return []
    latency = serving.latency_ms
    return [
        "",
        "## Serving (prediction log)",
        "",
        f"- requests: {serving.requests} ({serving.answered} answered, {serving.errors} errors; "
        f"error rate {_fmt(serving.error_rate)})",
        f"- latency ms: P50 {_fmt(latency.p50)}, P95 {_fmt(latency.p95)}, P99 {_fmt(latency.p99)}",
        f"- from {serving.first} to {serving.last}",
    ]


def _trigger_section(trigger: TriggerOutcome | None) -> list[str]:
    if not trigger:
        return []
    lines = ["", "## Retraining trigger", "", f"- {trigger.action}: {', '.join(trigger.reasons)}"]
    if trigger.command:
        lines.append(f"- command: `{trigger.command}` (exit code {trigger.returncode})")
    if trigger.detail:
        lines.append(f"- {trigger.detail}")
    return lines


def markdown(document: DriftDocument, plots: list[str]) -> str:
    lines = [
        *_header(document),
        *_schema_section(document.schema_drift),
        *_feature_table(document.features),
        *_serving_section(document.current.serving),
        *_trigger_section(document.trigger),
    ]
    if plots:
        lines += ["", "## Histograms (most drifted first)", ""]
        lines += [f"![{name}](plots/{name})" for name in plots]
    return "\n".join(lines) + "\n"


def write_report(document: DriftDocument, results: list[FeatureDrift], directory: Path, top: int) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    plots = write_plots(results, directory, top)
    document.plots = [f"plots/{name}" for name in plots]
    document.write(directory / "drift.json")
    write_text_atomic(directory / "report.md", markdown(document, plots))
    return directory / "drift.json"
