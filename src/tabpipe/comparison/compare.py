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

from tabpipe.comparison.candidates import Candidate, check_recorded_predictions, load_candidate, rebuild_rows
from tabpipe.comparison.document import (
    BootstrapSummary,
    ComparisonDocument,
    FoldTTest,
    PairedMetrics,
    RowsSummary,
)
from tabpipe.comparison.resampled_metrics import metric_difference
from tabpipe.comparison.significance import fold_ttest, mcnemar, paired_bootstrap_ci
from tabpipe.comparison.verdict import verdict_record
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
    if a.metadata.dataset.sha256 != b.metadata.dataset.sha256:
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


def compare(
    ref_a: str,
    ref_b: str,
    registry_root: str | None = None,
    metric: str | None = None,
    n_resamples: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> ComparisonDocument:
    from tabpipe.evaluation.metrics import CALIBRATION_BINS, LOWER_IS_BETTER, compute_metrics, primary_metric
    from tabpipe.evaluation.metrics import scored as scored_rows
    from tabpipe.tasks import get_task

    if not 0 < confidence < 1 or n_resamples < 100:
        raise ConfigError(
            f"--confidence={confidence}, --resamples={n_resamples}: need 0 < confidence < 1, 100+"
        )
    a = rebuild_rows(load_candidate(ref_a, registry_root))
    b = rebuild_rows(load_candidate(ref_b, registry_root))
    _check_comparable(a, b)
    held_a, held_b = score_held_out(a), score_held_out(b)
    pa, pb = held_a.positions, held_b.positions
    common = np.intersect1d(pa, pb)
    if not len(common):
        raise ConfigError(
            f"compare: no row is held out by both {a.label} and {b.label}; nothing to score fairly"
        )
    (sa, la), (sb, lb) = held_a.at(common), held_b.at(common)
    dataset, eval_cfg = a.dataset, a.config.eval
    task, ranking_k = dataset.task, eval_cfg.get("ranking_k")
    y = get_task(task).encode_target(dataset.target, dataset.classes)[common]
    groups = dataset.groups.to_numpy()[common] if get_task(task).needs_groups else None
    bins = int(eval_cfg.get("calibration_bins") or CALIBRATION_BINS)
    primary = metric or primary_metric(task, eval_cfg.primary_metric, ranking_k)
    with warnings.catch_warnings():
        # the graphs' float32 probabilities sum to 1 only within float32 rounding
        warnings.filterwarnings("ignore", "The y_prob values do not sum to one")
        metrics_a = compute_metrics(task, y, sa, la, bins, groups, ranking_k)
        metrics_b = compute_metrics(task, y, sb, lb, bins, groups, ranking_k)
        if primary not in metrics_a:
            raise ConfigError(f"--metric={primary!r}: not a {task} metric; use one of {sorted(metrics_a)}")
        rows_a, rows_b = (scored_rows(task, y, s, labels, bins, groups) for s, labels in ((sa, la), (sb, lb)))
        difference, n_units, unit = metric_difference(primary, task, rows_a, rows_b)
        ci = paired_bootstrap_ci(difference, n_units, n_resamples, confidence, seed)
    lower = primary in LOWER_IS_BETTER
    better = None
    if ci.excludes_zero():
        better = "b" if (ci.low > 0) != lower else "a"
    result = ComparisonDocument(
        a=a.describe(),
        b=b.describe(),
        task=dataset.task,
        rows=RowsSummary(
            count=len(common),
            which=_rows_description(a, b, common, pa, pb),
            resampled_unit=unit,
            resampled_units=n_units,
        ),
        metric=primary,
        higher_is_better=not lower,
        metrics=PairedMetrics(a=metrics_a, b=metrics_b),
        bootstrap=BootstrapSummary(**ci.as_dict()),
        significant=better is not None,
        better=better,
        # classification: McNemar on the labels the graphs output
        mcnemar=mcnemar(la == y, lb == y) if la is not None and lb is not None else None,
        fold_ttest=_fold_test(a, b, primary),
    )
    result.verdict = verdict_record(result)
    return result


def improvement_ci(result: ComparisonDocument) -> tuple[float, float, float]:
    """(estimate, low, high) of B's improvement over A, positive = B is better."""
    return result.improvement_ci()
