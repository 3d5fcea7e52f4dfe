"""Compare two models on the same held-out rows: their metrics, a paired bootstrap CI of the
primary metric's difference (B minus A), McNemar's test for classifiers and, when both are
k-fold runs over the same folds, a paired t-test across the folds.

The rows are those that **both** models held out (neither trained or early-stopped on them):
for two runs of the same data, seed and split that is the whole, identical test split; a
k-fold run holds out every row once (each scored by its own fold's graph).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from tabpipe.comparison.candidates import (
    Candidate,
    check_recorded_predictions,
    given_rows,
    load_candidate,
    rebuild_rows,
)
from tabpipe.comparison.document import (
    ComparisonDocument,
    FoldTTest,
    PairedMetrics,
    RowsSummary,
)
from tabpipe.comparison.resampled_metrics import metric_difference
from tabpipe.comparison.significance import BootstrapCI, fold_ttest, mcnemar, paired_bootstrap_ci
from tabpipe.comparison.verdict import verdict_record
from tabpipe.data.sources import LoadedSource
from tabpipe.errors import ConfigError


@dataclass
class HeldOut:
    """Every held-out row (sorted positions) scored by the graph that held it out: its
    scores and, for classification, the class indices of the graph's ``label`` output."""

    positions: np.ndarray
    scores: np.ndarray
    labels: np.ndarray | None

    def at(self, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        index = np.searchsorted(self.positions, positions)
        return self.scores[index], None if self.labels is None else self.labels[index]


def score_held_out(candidate: Candidate) -> HeldOut:
    from tabpipe.evaluation.graph_scoring import outputs_to_scores
    from tabpipe.export import runtime
    from tabpipe.export.inputs import graph_inputs

    dataset = candidate.dataset
    per_fold = {}
    for fold, rows in sorted(candidate.held_out.items()):
        raw = dataset.source.frame.iloc[rows][list(dataset.schema)].reset_index(drop=True)
        session = runtime.session(candidate.graphs[fold])
        outputs = runtime.run(session, graph_inputs(raw, dataset.schema))
        per_fold[fold] = outputs_to_scores(outputs, dataset.task, dataset.classes)
    folds = sorted(per_fold)
    check_recorded_predictions(candidate, {fold: per_fold[fold][0] for fold in folds})
    positions = np.concatenate([candidate.held_out[fold] for fold in folds])
    order = np.argsort(positions, kind="stable")
    scores = np.concatenate([per_fold[fold][0] for fold in folds])[order]
    labels = None if per_fold[folds[0]][1] is None else np.concatenate([per_fold[f][1] for f in folds])[order]
    return HeldOut(positions[order], scores, labels)


def _check_comparable(a: Candidate, b: Candidate) -> None:
    da, db = a.dataset, b.dataset
    if not a.given and a.metadata.dataset.sha256 != b.metadata.dataset.sha256:
        raise ConfigError(
            f"compare: {a.label} and {b.label} were trained on different data "
            f"({a.metadata.dataset.uri} vs {b.metadata.dataset.uri}); "
            "compare needs the same dataset"
        )
    for what, left, right in (
        ("task", da.task, db.task),
        ("classes", da.classes, db.classes),
        ("target", a.config.data.target, b.config.data.target),
        ("data.group_column", a.config.data.get("group_column"), b.config.data.get("group_column")),
    ):
        if left != right:
            raise ConfigError(
                f"compare: the models differ in {what} ({left!r} vs {right!r}); nothing to compare"
            )


def _rows_description(a: Candidate, b: Candidate, common: np.ndarray, pa: np.ndarray, pb: np.ndarray) -> str:
    if len(pa) == len(pb) == len(common):
        kind = "identical test splits" if len(a.graphs) == len(b.graphs) == 1 else "identical held-out rows"
        return f"{len(common)} rows: {kind} of A and B"
    return f"{len(common)} rows held out by both (A held out {len(pa)}, B {len(pb)}): rows neither trained on"


def _fold_test(a: Candidate, b: Candidate, metric: str) -> FoldTTest:
    if a.kind != "run" or b.kind != "run" or len(a.graphs) < 2 or len(b.graphs) < 2:
        return FoldTTest(available=False, reason="needs two k-fold run directories")
    same_folds = a.held_out.keys() == b.held_out.keys() and all(
        np.array_equal(a.held_out[f], b.held_out[f]) for f in a.held_out
    )
    if not same_folds:
        return FoldTTest(
            available=False, reason="the two runs have different folds (seed, split or data differ)"
        )
    keys = [f"fold_{fold}/test/{metric}" for fold in sorted(a.held_out)]
    if not all(k in a.metrics and k in b.metrics for k in keys):
        return FoldTTest(available=False, reason=f"metrics.json lacks {keys[0]}")
    return FoldTTest(available=True, **fold_ttest([a.metrics[k] for k in keys], [b.metrics[k] for k in keys]))


@dataclass
class _PairedRows:
    """The rows both models held out (sorted positions ``common``; ``pa``/``pb`` every row
    each held out): the encoded target, each model's scores and labels, and how to score them."""

    task: str
    common: np.ndarray
    pa: np.ndarray
    pb: np.ndarray
    y: np.ndarray
    groups: np.ndarray | None
    sa: np.ndarray
    la: np.ndarray | None
    sb: np.ndarray
    lb: np.ndarray | None
    bins: int
    ranking_k: int | None


@dataclass
class _PairedStatistics:
    metrics_a: dict[str, float]
    metrics_b: dict[str, float]
    ci: BootstrapCI
    n_units: int
    unit: str


def _check_resampling(n_resamples: int, confidence: float) -> None:
    if not 0 < confidence < 1 or n_resamples < 100:
        raise ConfigError(
            f"--confidence={confidence}, --resamples={n_resamples}: need 0 < confidence < 1, 100+"
        )


def _paired_rows(a: Candidate, b: Candidate) -> _PairedRows:
    """Both models' scores on the rows both held out (one ConfigError line when there is none)."""
    from tabpipe.evaluation.metrics import CALIBRATION_BINS
    from tabpipe.tasks import get_task

    held_a, held_b = score_held_out(a), score_held_out(b)
    pa, pb = held_a.positions, held_b.positions
    common = np.intersect1d(pa, pb)
    if not len(common):
        raise ConfigError(
            f"compare: no row is held out by both {a.label} and {b.label}; nothing to score fairly"
        )
    (sa, la), (sb, lb) = held_a.at(common), held_b.at(common)
    dataset, eval_cfg = a.dataset, a.config.eval
    task = get_task(dataset.task)
    y = task.encode_target(dataset.target, dataset.classes)[common]
    groups = dataset.groups.to_numpy()[common] if task.needs_groups else None
    bins = int(eval_cfg.get("calibration_bins") or CALIBRATION_BINS)
    return _PairedRows(
        dataset.task, common, pa, pb, y, groups, sa, la, sb, lb, bins, eval_cfg.get("ranking_k")
    )


def _paired_statistics(
    rows: _PairedRows, primary: str, n_resamples: int, confidence: float, seed: int
) -> _PairedStatistics:
    """Both models' metrics and the paired bootstrap CI of the primary metric's difference
    (one ConfigError line when ``primary`` is not a metric of the task)."""
    from tabpipe.evaluation.metrics import compute_metrics
    from tabpipe.evaluation.metrics import scored as scored_rows

    task, y, bins, groups, k = rows.task, rows.y, rows.bins, rows.groups, rows.ranking_k
    with warnings.catch_warnings():
        # the graphs' float32 probabilities sum to 1 only within float32 rounding
        warnings.filterwarnings("ignore", "The y_prob values do not sum to one")
        metrics_a = compute_metrics(task, y, rows.sa, rows.la, bins, groups, k)
        metrics_b = compute_metrics(task, y, rows.sb, rows.lb, bins, groups, k)
        if primary not in metrics_a:
            raise ConfigError(f"--metric={primary!r}: not a {task} metric; use one of {sorted(metrics_a)}")
        rows_a, rows_b = (
            scored_rows(task, y, s, labels, bins, groups)
            for s, labels in ((rows.sa, rows.la), (rows.sb, rows.lb))
        )
        difference, n_units, unit = metric_difference(primary, task, rows_a, rows_b)
        ci = paired_bootstrap_ci(difference, n_units, n_resamples, confidence, seed)
    return _PairedStatistics(metrics_a, metrics_b, ci, n_units, unit)


def _better(ci: BootstrapCI, lower_is_better: bool) -> str | None:
    """``"a"`` or ``"b"`` when the interval of B minus A excludes zero, else None."""
    if ci.excludes_zero():
        return "b" if (ci.low > 0) != lower_is_better else "a"
    return None


def _document(
    a: Candidate, b: Candidate, rows: _PairedRows, primary: str, stats: _PairedStatistics
) -> ComparisonDocument:
    from tabpipe.evaluation.metrics import LOWER_IS_BETTER

    lower = primary in LOWER_IS_BETTER
    better = _better(stats.ci, lower)
    la, lb, y = rows.la, rows.lb, rows.y
    result = ComparisonDocument(
        a=a.describe(),
        b=b.describe(),
        task=a.dataset.task,
        rows=RowsSummary(
            count=len(rows.common),
            which=_rows_description(a, b, rows.common, rows.pa, rows.pb),
            resampled_unit=stats.unit,
            resampled_units=stats.n_units,
        ),
        metric=primary,
        higher_is_better=not lower,
        metrics=PairedMetrics(a=stats.metrics_a, b=stats.metrics_b),
        bootstrap=stats.ci,
        significant=better is not None,
        better=better,
        # classification: McNemar on the labels the graphs output
        mcnemar=mcnemar(la == y, lb == y) if la is not None and lb is not None else None,
        fold_ttest=_fold_test(a, b, primary),
    )
    result.verdict = verdict_record(result)
    return result


def compare(
    ref_a: str,
    ref_b: str,
    registry_root: str | None = None,
    metric: str | None = None,
    n_resamples: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
    source: LoadedSource | None = None,
) -> ComparisonDocument:
    """B against A on the rows both held out: metrics, paired bootstrap CI, McNemar, fold t-test.
    ``source``: rows the caller gives instead (the Python API's frame), every one scored by
    both models; the two need not have been trained on the same data."""
    from tabpipe.evaluation.metrics import primary_metric

    _check_resampling(n_resamples, confidence)
    a, b = load_candidate(ref_a, registry_root), load_candidate(ref_b, registry_root)
    if source is None:
        a, b = rebuild_rows(a), rebuild_rows(b)
    else:
        a, b = given_rows(a, source), given_rows(b, source)
    _check_comparable(a, b)
    rows = _paired_rows(a, b)
    primary = metric or primary_metric(rows.task, a.config.eval.primary_metric, rows.ranking_k)
    stats = _paired_statistics(rows, primary, n_resamples, confidence, seed)
    document = _document(a, b, rows, primary, stats)
    if source is not None:
        count = len(rows.common)
        document.rows.which = f"{count} rows: every row of the given {source.uri}, scored by A and B"
    return document


def improvement_ci(result: ComparisonDocument) -> tuple[float, float, float]:
    """(estimate, low, high) of B's improvement over A, positive = B is better."""
    return result.improvement_ci()
