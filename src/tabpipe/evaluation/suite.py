"""The one entry point of the evaluation suite, called by training (on the test split) and
by ``tabpipe eval`` (on any dataset with the bundle's schema).

It computes the task's metrics for the model and its references (the baseline, the
production version) on the same rows, the gates, the threshold analysis, the plots, the
feature importance and the segments, and writes into ``out_dir``: ``plots/``,
``segments.json``, ``evaluation.json`` and ``report.md``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from tabpipe.config.schema import EvalConfig
from tabpipe.documents.metadata import BaselineRanker
from tabpipe.evaluation import plots, ranking_plots, report
from tabpipe.evaluation.document import (
    AtThreshold,
    EvaluationDocument,
    RankingSummary,
    ReferenceRecord,
    SegmentsDocument,
    ThresholdAnalysis,
)
from tabpipe.evaluation.gates import GateResult, gate_results
from tabpipe.evaluation.importance import Scorer, permutation_importances
from tabpipe.evaluation.metrics import (
    RANKING_K,
    Scored,
    compute_metrics,
    metric_names,
    prefixed,
    scored,
)
from tabpipe.evaluation.ranking_metrics import check_ks
from tabpipe.evaluation.segments import analyse_segments
from tabpipe.evaluation.thresholds import ThresholdChoice, optimal_thresholds, threshold_table
from tabpipe.io import write_text_atomic
from tabpipe.tasks import get_task

log = logging.getLogger(__name__)


@dataclass
class Reference:
    """Another model scored on the same rows: ``baseline`` or ``production``."""

    name: str
    description: str
    scores: np.ndarray | None = None
    labels: np.ndarray | None = None
    # why it could not be scored (then scores is None)
    note: str | None = None


def describe_ranker(state: BaselineRanker) -> str:
    """The ranking baseline in words, from its recorded state (the ``baseline_ranker`` of
    training and of a bundle's evaluation record: ``feature``, ``sign``)."""
    direction = "negated" if state.sign < 0 else "as is"
    return f"the best single feature ({state.feature}, {direction}) on the train queries"


@dataclass
class EvaluationInputs:
    task: str
    classes: list[str] | None
    y_true: np.ndarray  # class indices, or floats for regression
    scores: np.ndarray  # probabilities [N, K], or predictions [N]
    labels: np.ndarray | None  # class indices the model outputs (binary: after its threshold)
    frame: pd.DataFrame  # the same rows: raw input columns, group and time columns
    primary: str
    seed: int
    prefix: str = "test"
    title: str = "Evaluation"
    group_columns: list[str] = field(default_factory=list)
    time_column: str | None = None
    # task=ranking: the query id of every row, and the cut-offs of ndcg@k / map@k
    groups: np.ndarray | None = None
    ranking_k: list[int] | None = None
    threshold: ThresholdChoice | None = None
    references: list[Reference] = field(default_factory=list)
    # the graph on raw columns (permutation importance) and the columns it reads
    scorer: Scorer | None = None
    input_columns: list[str] = field(default_factory=list)
    native_importance: pd.DataFrame | None = None
    # metrics the caller already holds (k-fold means); they win over the pooled values
    known_metrics: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # the model is the baseline itself (model=baseline): no baseline gate
    model_is_baseline: bool = False


@dataclass
class EvaluationResult:
    metrics: dict[str, float]
    gates: list[GateResult]
    segments: SegmentsDocument | None
    images: dict[str, str]
    report: Path
    document: EvaluationDocument  # what evaluation.json holds
    # the feature importance tables (``native``, ``permutation``) shown in the plots; the
    # bundle records them (tabpipe.load_bundle(...).explain())
    importance: dict[str, pd.DataFrame] = field(default_factory=dict)


def _metrics(inputs: EvaluationInputs, rows: Scored, bins: int) -> dict[str, float]:
    """The metrics of the rows and of each reference; ``known_metrics`` win (k-fold: the fold
    means), and a set they already hold in full is not computed again."""
    names = metric_names(inputs.task, inputs.ranking_k)

    def compute(scores: np.ndarray, labels: np.ndarray | None, prefix: str) -> dict[str, float]:
        if all(f"{prefix}/{name}" in inputs.known_metrics for name in names):
            return {}
        values = compute_metrics(inputs.task, rows.y, scores, labels, bins, rows.groups, inputs.ranking_k)
        return prefixed(values, prefix)

    metrics = compute(rows.scores, rows.labels, inputs.prefix)
    for ref in inputs.references:
        if ref.scores is not None:
            metrics |= compute(ref.scores, ref.labels, f"{ref.name}/{inputs.prefix}")
    return metrics | inputs.known_metrics


def _threshold_analysis(inputs: EvaluationInputs, rows: Scored, writer: plots.PlotWriter | None):
    """The evaluated rows' metrics across thresholds; the optima on these rows are for
    information only (the threshold in use was chosen on the validation split)."""
    if not get_task(inputs.task).decision_threshold or inputs.threshold is None or len(np.unique(rows.y)) < 2:
        return None
    table = threshold_table(rows.y, rows.p, inputs.threshold.cost)
    f1_here, cost_here = optimal_thresholds(table)
    if writer is not None:
        marks = {
            f"in use ({inputs.threshold.strategy})": inputs.threshold.value,
            "F1-optimal on val": inputs.threshold.f1_optimal,
            "cost-optimal on val": inputs.threshold.cost_optimal,
        }
        plots.threshold_curves(writer, table, marks)
    reached = table[table["threshold"] >= inputs.threshold.value]  # decreasing thresholds
    at = reached.iloc[-1] if len(reached) else table.iloc[0]
    return ThresholdAnalysis(
        prefix=inputs.prefix,
        in_use=inputs.threshold,
        at_threshold=AtThreshold(**{k: float(at[k]) for k in ("precision", "recall", "f1", "cost")}),
        f1_optimal=f1_here,
        cost_optimal=cost_here,
    )


def _confusion(inputs: EvaluationInputs, rows: Scored, writer: plots.PlotWriter, bins: int) -> None:
    plots.confusion(writer, list(inputs.classes or []), rows.y, rows.labels)


def _binary_curves(inputs: EvaluationInputs, rows: Scored, writer: plots.PlotWriter, bins: int) -> None:
    if len(np.unique(rows.y)) == 2:
        plots.binary_curves(writer, rows.y, rows.p, bins)


def _regression(inputs: EvaluationInputs, rows: Scored, writer: plots.PlotWriter, bins: int) -> None:
    plots.regression(writer, rows.y, rows.scores)


def _ranking_at_k(inputs: EvaluationInputs, rows: Scored, writer: plots.PlotWriter, bins: int) -> None:
    scored_refs = {r.name: r.scores for r in inputs.references if r.scores is not None}
    ranking_plots.at_k(writer, rows, scored_refs, _largest_cutoff(inputs))


def _query_distribution(inputs: EvaluationInputs, rows: Scored, writer: plots.PlotWriter, bins: int) -> None:
    ranking_plots.query_distribution(writer, rows, inputs.primary)


# the plots a task may name (Task.plots)
PLOTS = {
    "confusion": _confusion,
    "binary_curves": _binary_curves,
    "regression": _regression,
    "ranking_at_k": _ranking_at_k,
    "query_distribution": _query_distribution,
}


def _plots(inputs: EvaluationInputs, rows: Scored, writer: plots.PlotWriter, bins: int) -> None:
    for name in get_task(inputs.task).plots:
        PLOTS[name](inputs, rows, writer, bins)


def _largest_cutoff(inputs: EvaluationInputs) -> int:
    return check_ks(RANKING_K if inputs.ranking_k is None else inputs.ranking_k)[-1]


def ranking_summary(rows: Scored) -> RankingSummary:
    """How many of the rows' queries were ranked (the others have nothing to rank)."""
    return RankingSummary(queries=len(np.unique(rows.groups)), ranked_queries=len(rows.queries))


def _importance(
    inputs: EvaluationInputs, eval_cfg: EvalConfig, writer: plots.PlotWriter | None
) -> dict[str, pd.DataFrame]:
    """The native importance table (free: the model's own), and with plots the permutation
    one (it scores the graph ``n_repeats`` times per column); each plotted with plots."""
    tables = {}
    if inputs.native_importance is not None:
        if writer is not None:
            plots.importance(writer, "native", inputs.native_importance, "feature", "importance")
        tables["native"] = inputs.native_importance
    if writer is None:
        return tables
    if inputs.scorer is not None and eval_cfg.importance.permutation and inputs.input_columns:
        table = permutation_importances(
            inputs.scorer,
            inputs.task,
            inputs.primary,
            inputs.frame[inputs.input_columns],
            inputs.y_true,
            eval_cfg.importance,
            inputs.seed,
            inputs.groups,
        )
        plots.importance(writer, "permutation", table, "column", "importance_mean")
        tables["permutation"] = table
    return tables


def _gates(inputs: EvaluationInputs, eval_cfg: EvalConfig, metrics: dict[str, float]) -> list[GateResult]:
    """The baseline and production gates (a baseline model gets a note instead of its gate)."""
    production = next((r.description for r in inputs.references if r.name == "production"), None)
    gates = gate_results(
        metrics, inputs.primary, inputs.prefix, eval_cfg, production, inputs.model_is_baseline
    )
    if inputs.model_is_baseline:
        inputs.notes.append("The model is the baseline: there is no baseline gate (it cannot beat itself).")
    return gates


def _segments(
    inputs: EvaluationInputs,
    eval_cfg: EvalConfig,
    rows: Scored,
    writer: plots.PlotWriter | None,
    out_dir: Path,
) -> SegmentsDocument | None:
    """``segments.json`` (and its plots), a warning per flagged segment; None without
    group columns or a time column, or when disabled."""
    if not (eval_cfg.segments.enabled and (inputs.group_columns or inputs.time_column)):
        return None
    segments = analyse_segments(
        inputs.task,
        inputs.primary,
        rows,
        inputs.frame,
        list(inputs.group_columns),
        inputs.time_column,
        eval_cfg.segments,
        inputs.seed,
    )
    segments.write(out_dir / "segments.json")
    for flagged in segments.flagged:
        log.warning("segment %s: %s significantly worse than overall", flagged, inputs.primary)
    if writer is not None:
        plots.segments(writer, segments)
    return segments


def _document(
    inputs: EvaluationInputs,
    rows: Scored,
    metrics: dict[str, float],
    gates: list[GateResult],
    thresholds: ThresholdAnalysis | None,
    writer: plots.PlotWriter | None,
) -> EvaluationDocument:
    """What ``evaluation.json`` holds."""
    return EvaluationDocument(
        task=inputs.task,
        rows=len(rows.y),
        primary_metric=inputs.primary,
        metrics=metrics,
        gates=gates,
        threshold=thresholds,
        ranking=ranking_summary(rows) if get_task(inputs.task).needs_groups else None,
        references=[
            ReferenceRecord(name=r.name, description=r.description, note=r.note) for r in inputs.references
        ],
        plots=dict(writer.images) if writer else {},
        notes=inputs.notes,
    )


def evaluate_predictions(inputs: EvaluationInputs, eval_cfg: EvalConfig, out_dir: Path) -> EvaluationResult:
    """Evaluate scored rows and write the suite's files into ``out_dir``."""
    out_dir = Path(out_dir)
    bins = int(eval_cfg.calibration_bins)
    rows = scored(inputs.task, inputs.y_true, inputs.scores, inputs.labels, bins, inputs.groups)
    metrics = _metrics(inputs, rows, bins)
    gates = _gates(inputs, eval_cfg, metrics)
    writer = plots.PlotWriter(out_dir, eval_cfg.max_plot_points, inputs.seed) if eval_cfg.plots else None
    if writer is not None:
        _plots(inputs, rows, writer, bins)
    thresholds = _threshold_analysis(inputs, rows, writer)
    importance = _importance(inputs, eval_cfg, writer)
    segments = _segments(inputs, eval_cfg, rows, writer, out_dir)
    summary = _document(inputs, rows, metrics, gates, thresholds, writer)
    summary.write(out_dir / "evaluation.json")
    text = report.render(inputs, metric_names(inputs.task, inputs.ranking_k), summary, segments)
    path = write_text_atomic(out_dir / "report.md", text)
    images = dict(writer.images) if writer else {}
    return EvaluationResult(metrics, gates, segments, images, path, summary, importance)
