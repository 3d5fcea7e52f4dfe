"""Segment analysis: the primary metric per value of each group column and per time period,
with row counts; a segment is flagged when its bootstrap confidence interval lies entirely
on the worse side of the overall value. Segments under ``min_rows`` (ranking: or under
``min_queries`` ranked queries) are reported, never flagged.

The bootstrap is :func:`tabpipe.evaluation.bootstrap.percentile_bootstrap` (seeded
``scipy.stats.bootstrap``, as ``tabpipe compare``'s): a resample of a small segment may hold
one class only, where AUC is undefined; those resamples are skipped (the interval is None
when most of them are).

Ranking (task=ranking) segments the rows the same way and ranks, within each query, the
query's items in the segment (a query whose items span several segments contributes its
items in each); ``queries`` counts the ranked queries of a segment. Its bootstrap resamples
those queries, not rows: ``ndcg@k`` / ``map@k`` are means over queries, and resampling
rows would duplicate items inside a query.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

from tabpipe.config import option_value
from tabpipe.config.schema import SegmentsConfig
from tabpipe.evaluation.document import Segment, SegmentsDocument
from tabpipe.evaluation.metrics import LOWER_IS_BETTER, Scored, metric_value
from tabpipe.evaluation.ranking_metrics import per_query
from tabpipe.tasks import get_task

MISSING = "(missing)"
PERIOD_CODES = {"month": "M", "week": "W"}


def _finite(value: float) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def bootstrap_interval(
    task: str, metric: str, rows: Scored, n_resamples: int, confidence: float, seed: int
) -> tuple[float | None, float | None]:
    """Percentile interval of ``metric`` over ``n_resamples`` seeded resamples of the rows
    (ranking: of the queries, the metric being a mean over queries); resamples where the
    metric is undefined are skipped (None when most of them are)."""
    from sklearn import config_context

    from tabpipe.evaluation.bootstrap import percentile_bootstrap

    if get_task(task).resampled_unit == "query":
        values = per_query(metric, rows.y, rows.scores, rows.queries)
        interval = percentile_bootstrap(
            lambda idx: values[idx].mean(axis=1), len(values), n_resamples, confidence, seed
        )
    else:
        # the rows were validated once; scikit-learn's per-call checks would dominate the loop
        with config_context(skip_parameter_validation=True, assume_finite=True):
            interval = percentile_bootstrap(
                lambda idx: np.array([metric_value(task, metric, rows.subset(r)) for r in idx]),
                len(rows.y),
                n_resamples,
                confidence,
                seed,
            )
    if interval.defined < n_resamples / 2:
        return None, None
    return interval.low, interval.high


def segment_keys(frame: pd.DataFrame, group_columns: list[str], time_column: str | None, period: str):
    """(segment column name, the segment label of every row) for each segmentation."""
    for column in group_columns:
        values = frame[column]
        labels = values.astype(str).where(values.notna(), MISSING)
        yield column, labels.to_numpy(dtype=object)
    if time_column and period != "none":
        stamps = pd.to_datetime(frame[time_column])
        if getattr(stamps.dt, "tz", None) is not None:
            stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
        with warnings.catch_warnings():  # to_period drops the timezone: done explicitly above
            warnings.simplefilter("ignore", UserWarning)
            periods = stamps.dt.to_period(PERIOD_CODES[period]).astype(str)
        yield f"{time_column} ({period})", periods.where(stamps.notna(), MISSING).to_numpy(dtype=object)


def _test_segment(
    segment: Segment, task: str, metric: str, subset: Scored, overall: float, cfg: SegmentsConfig, seed: int
) -> None:
    """Fill the segment's bootstrap interval, flag and note (in place), or the reason it is not
    tested: the metric undefined on it, under ``min_rows``, or under ``min_queries``."""
    if segment.value is None:
        segment.note = f"{metric} undefined on this segment"
    elif segment.rows < cfg.min_rows:
        segment.note = f"under eval.segments.min_rows={cfg.min_rows}; not tested"
    elif segment.queries is not None and segment.queries < cfg.min_queries:
        segment.note = f"under eval.segments.min_queries={cfg.min_queries}; not tested"
    else:
        low, high = bootstrap_interval(
            task, metric, subset, int(cfg.n_bootstrap), float(cfg.confidence), seed
        )
        segment.ci_low, segment.ci_high = low, high
        if low is None or high is None:
            segment.note = "bootstrap interval undefined (too few resamples with both classes)"
        else:
            segment.flagged = bool(low > overall) if metric in LOWER_IS_BETTER else bool(high < overall)
            if segment.flagged:
                segment.note = f"significantly worse than overall {metric}"


def _other_segment(column: str, counts: pd.Series, cfg: SegmentsConfig) -> Segment:
    """The ``(other)`` entry summing the segments beyond the ``max_segments`` largest."""
    return Segment(
        column,
        "(other)",
        int(counts.iloc[int(cfg.max_segments) :].sum()),
        None,
        None,
        None,
        False,
        f"{len(counts) - int(cfg.max_segments)} smaller segments beyond "
        f"eval.segments.max_segments={cfg.max_segments}",
    )


def _column_segments(
    task: str,
    metric: str,
    rows: Scored,
    column: str,
    labels: np.ndarray,
    overall: float,
    cfg: SegmentsConfig,
    seed: int,
) -> list[Segment]:
    """The segments of one column (its ``max_segments`` largest values, then ``(other)``)."""
    by_query = get_task(task).resampled_unit == "query"
    found: list[Segment] = []
    counts = pd.Series(labels).value_counts(sort=True)
    for value, count in counts.head(int(cfg.max_segments)).items():
        subset = rows.subset(np.flatnonzero(labels == value))
        point = _finite(metric_value(task, metric, subset))
        segment = Segment(column, str(value), int(count), point, None, None, False)
        if by_query:
            segment.queries = len(subset.queries)
        _test_segment(segment, task, metric, subset, overall, cfg, seed)
        found.append(segment)
    if len(counts) > cfg.max_segments:
        found.append(_other_segment(column, counts, cfg))
    return found


def analyse_segments(
    task: str,
    metric: str,
    rows: Scored,
    frame: pd.DataFrame,
    group_columns: list[str],
    time_column: str | None,
    segments_cfg: SegmentsConfig,
    seed: int,
) -> SegmentsDocument:
    """The segments document (``segments.json``): overall value and one entry per segment."""
    overall = metric_value(task, metric, rows)
    by_query = get_task(task).resampled_unit == "query"
    found: list[Segment] = []
    period = option_value(segments_cfg.time_period)
    for column, labels in segment_keys(frame, list(group_columns), time_column, period):
        found += _column_segments(task, metric, rows, column, labels, overall, segments_cfg, seed)
    return SegmentsDocument(
        metric=metric,
        lower_is_better=metric in LOWER_IS_BETTER,
        overall=_finite(overall),
        rows=len(rows.y),
        resampled_unit=get_task(task).resampled_unit,
        confidence=float(segments_cfg.confidence),
        n_bootstrap=int(segments_cfg.n_bootstrap),
        min_rows=int(segments_cfg.min_rows),
        min_queries=int(segments_cfg.min_queries) if by_query else None,
        seed=int(seed),
        segments=found,
        flagged=[f"{s.column}={s.segment}" for s in found if s.flagged],
    )
