"""``report.md``: a plain Markdown report, readable offline (plots are relative PNG links)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from tabpipe.evaluation.document import EvaluationDocument, SegmentsDocument
from tabpipe.evaluation.metrics import LOWER_IS_BETTER


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 1e5 else f"{value:.4g}"
    return str(value)


def _table(header: list[str], rows: Iterable[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_fmt(cell) for cell in row) + " |" for row in rows]
    return [*lines, ""]


def _metrics_section(inputs: Any, names: Iterable[str], summary: EvaluationDocument) -> list[str]:
    metrics = summary.metrics
    scored = [r for r in inputs.references if r.scores is not None]
    header = ["metric", "model", *[f"{r.name}" for r in scored], *[f"Δ vs {r.name}" for r in scored]]
    rows = []
    for name in names:
        key = f"{inputs.prefix}/{name}"
        if key not in metrics:
            continue
        model = metrics[key]
        others = [metrics.get(f"{r.name}/{key}") for r in scored]
        deltas = [None if o is None else model - o for o in others]
        arrow = " ↓" if name in LOWER_IS_BETTER else ""
        label = f"**{name}**{arrow}" if name == inputs.primary else f"{name}{arrow}"
        rows.append([label, model, *others, *deltas])
    lines = [
        "## Metrics",
        "",
        f"{summary.rows} rows. Primary metric: **{inputs.primary}**. ↓ marks metrics where lower "
        "is better; Δ = model - reference.",
        "",
    ]
    lines += _table(header, rows)
    for ref in inputs.references:
        state = ref.note or "scored on the same rows"
        lines.append(f"- **{ref.name}**: {ref.description} — {state}")
    return [*lines, ""]


def _gates_section(summary: EvaluationDocument) -> list[str]:
    lines = ["## Gates", ""]
    if not summary.gates:
        return [*lines, "No reference to gate against.", ""]
    rows = []
    for gate in summary.gates:
        verdict = "pass" if gate.passed else "**FAIL**"
        enforced = "enforced" if gate.enforced else "reported only"
        rows.append(
            [gate.reference, gate.metric, gate.model, gate.value, gate.min_improvement, verdict, enforced]
        )
    lines += _table(
        ["reference", "metric", "model", "reference value", "min improvement", "result", "mode"], rows
    )
    lines += [f"- {g.message}" for g in summary.gates if not g.passed]
    return [*lines, ""]


def _threshold_section(inputs: Any, summary: EvaluationDocument) -> list[str]:
    analysis = summary.threshold
    if not analysis:
        return []
    used, at = analysis.in_use, analysis.at_threshold
    cost = used.cost
    return [
        "## Decision threshold",
        "",
        f"A row is labelled positive when P(positive) ≥ **{used.value:.6g}** (strategy "
        f"`{used.strategy}`, chosen on the {used.chosen_on} split; the exported graph's "
        "`label` output applies it).",
        "",
        *_table(
            ["", "threshold"],
            [
                ["F1-optimal on val", used.f1_optimal],
                ["cost-optimal on val", used.cost_optimal],
                [f"F1-optimal on {inputs.prefix} (information only)", analysis.f1_optimal],
                [f"cost-optimal on {inputs.prefix} (information only)", analysis.cost_optimal],
            ],
        ),
        f"Cost matrix: TP {cost.tp}, FP {cost.fp}, FN {cost.fn}, TN {cost.tn}. At the threshold "
        f"in use on {inputs.prefix}: precision {at.precision:.4f}, recall {at.recall:.4f}, "
        f"F1 {at.f1:.4f}, total cost {at.cost:.4g}.",
        "",
    ]


def _segments_section(segments: SegmentsDocument | None) -> list[str]:
    if segments is None:
        return []
    by_query = segments.resampled_unit == "query"
    resampled, too_small = f"{segments.n_bootstrap} resamples", f"{segments.min_rows} rows"
    if by_query:
        resampled += " of the ranked queries"
        too_small += f" or {segments.min_queries} ranked queries"
    lines = [
        "## Segments",
        "",
        f"{segments.metric} per segment (overall {_fmt(segments.overall)}); flagged when the "
        f"{segments.confidence:.0%} bootstrap interval ({resampled}) lies entirely on the worse side "
        f"of the overall value; segments under {too_small} are not tested."
        + (" Each query ranks its items in the segment." if by_query else ""),
        "",
    ]
    flagged = segments.flagged
    lines += [f"**Flagged:** {', '.join(flagged)}" if flagged else "No segment is significantly worse.", ""]
    rows = [
        [
            s.column,
            s.segment,
            s.rows,
            *([s.queries] if by_query else []),
            s.value,
            s.ci_low,
            s.ci_high,
            "⚠ yes" if s.flagged else "",
            s.note,
        ]
        for s in segments.segments
    ]
    counts = ["rows", "queries"] if by_query else ["rows"]
    return lines + _table(
        ["column", "segment", *counts, segments.metric, "CI low", "CI high", "flagged", "note"], rows
    )


def _ranking_section(summary: EvaluationDocument) -> list[str]:
    ranking = summary.ranking
    if not ranking:
        return []
    return [
        "## Ranking",
        "",
        f"{ranking.ranked_queries} of {ranking.queries} queries ranked: the metrics are means over "
        "the queries with at least two items of different relevance (a query whose items are all equally "
        "relevant has no order to get right).",
        "",
        "Not drawn for ranking: the confusion matrix, ROC, precision-recall, calibration and threshold "
        "curves (a ranker outputs scores comparable only within a query, with no classes, probabilities "
        "or decision threshold). Drawn instead: NDCG@k and MAP@k against k, and the primary metric per "
        "query.",
        "",
    ]


def render(
    inputs: Any, metric_names: Iterable[str], summary: EvaluationDocument, segments: SegmentsDocument | None
) -> str:
    lines = [
        f"# {inputs.title}",
        "",
        f"Task: {inputs.task}" + (f"; classes: {', '.join(inputs.classes)}" if inputs.classes else ""),
        "",
    ]
    lines += [f"> {note}" for note in inputs.notes] + ([""] if inputs.notes else [])
    lines += _metrics_section(inputs, metric_names, summary)
    lines += _gates_section(summary)
    lines += _threshold_section(inputs, summary)
    lines += _ranking_section(summary)
    lines += _segments_section(segments)
    if summary.plots:
        lines += ["## Plots", ""]
        for title, path in summary.plots.items():
            lines += [f"### {title}", "", f"![{title}]({path})", ""]
        lines += ["The data behind every plot is next to it in `plots/*.csv` (DVC plot format).", ""]
    return "\n".join(lines)
