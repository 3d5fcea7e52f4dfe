"""Load the configured source and validate it before anything is fitted.

Every broken rule is reported as one line naming the column and the rule; all of them
are collected, then raised together as a :class:`DataValidationError` (exit code 2).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from tabpipe.config import option_value
from tabpipe.data.coercion import coerce_columns
from tabpipe.data.column_schema import ColumnSchema, describe_column, infer_type, pinned_specs
from tabpipe.data.raw_values import drift_line, infinite_counts, nested_kind, text_among_numbers
from tabpipe.data.sources import LoadedSource, load_source
from tabpipe.errors import DataValidationError
from tabpipe.tasks import Task, get_task

log = logging.getLogger(__name__)
ROW_ID = "row_id"


@dataclass
class ValidationReport:
    n_rows: int
    n_columns: int
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"n_rows": self.n_rows, "n_columns": self.n_columns, "warnings": self.warnings}


@dataclass
class Dataset:
    """A validated dataset: coerced features, the target and the identifiers."""

    features: pd.DataFrame
    target: pd.Series
    ids: pd.DataFrame
    task: str
    classes: list[str] | None
    schema: dict[str, ColumnSchema]
    source: LoadedSource
    report: ValidationReport
    time: pd.Series | None = None
    # task=ranking: the query id of every row (``data.group_column``)
    groups: pd.Series | None = None

    @property
    def n_rows(self) -> int:
        return len(self.features)


def _check_columns_exist(frame: pd.DataFrame, data_cfg: Any, pinned: dict) -> list[str]:
    wanted = {"data.target": [data_cfg.target]}
    for key in ("id_columns", "drop_columns", "group_columns", "categorical_columns"):
        wanted[f"data.{key}"] = list(data_cfg.get(key) or [])
    for key in ("time_column", "group_column"):
        if data_cfg.get(key):
            wanted[f"data.{key}"] = [data_cfg[key]]
    wanted["data.schema"] = list(pinned)
    return [
        f"column {name!r} (from {key}): missing from the dataset"
        for key, names in wanted.items()
        for name in names
        if name not in frame.columns
    ]


def _pinned_problems(features: pd.DataFrame, pinned: dict[str, ColumnSchema]) -> list[str]:
    problems = []
    for name, spec in pinned.items():
        if name not in features.columns:
            continue
        column = features[name]
        if not spec.nullable and column.isna().any():
            problems.append(
                f"column {name!r}: {int(column.isna().sum())} missing values; pinned nullable=false"
            )
        if spec.min is not None and (column < spec.min).any():
            problems.append(f"column {name!r}: value {float(column.min())!r} below the pinned min {spec.min}")
        if spec.max is not None and (column > spec.max).any():
            problems.append(f"column {name!r}: value {float(column.max())!r} above the pinned max {spec.max}")
        if spec.categories is not None:
            unknown = sorted(set(column.dropna()) - set(spec.categories))
            if unknown:
                problems.append(f"column {name!r}: value {unknown[0]!r} not in the pinned category set")
    return problems


def _warnings(features: pd.DataFrame, schema: dict, target: pd.Series, data_cfg: Any) -> list[str]:
    notes = []
    encoded_target = pd.Series(pd.factorize(target.astype(str))[0], index=target.index, dtype=float)
    if pd.api.types.is_numeric_dtype(target):
        encoded_target = target.astype(float)
    for name, spec in schema.items():
        column = features[name]
        if column.nunique(dropna=True) <= 1:
            notes.append(f"column {name!r}: constant; it carries no information")
            continue
        if column.astype(str).equals(target.astype(str)):
            notes.append(f"column {name!r}: identical to the target; likely leakage")
        elif spec.type in ("numeric", "boolean"):
            corr = column.astype(float).corr(encoded_target)
            if corr is not None and np.isfinite(corr) and abs(corr) >= data_cfg.leakage_correlation:
                notes.append(f"column {name!r}: correlation {corr:+.3f} with the target; likely leakage")
        if spec.type == "categorical" and column.nunique() > data_cfg.high_cardinality:
            notes.append(
                f"column {name!r}: high-cardinality categorical ({column.nunique()} values > "
                f"data.high_cardinality={data_cfg.high_cardinality})"
            )
    return notes


@dataclass
class _Layout:
    """What the config makes of the frame's columns: the features, the ids, the query id."""

    feature_names: list[str]
    ids: pd.DataFrame
    group_column: str | None


@dataclass
class _Coerced:
    """The features coerced to their types, and what coercion found on the way."""

    features: pd.DataFrame
    types: dict[str, str]
    drift: dict[str, str]  # text among numbers: a warning, a problem under strict_types
    infinite: dict[str, int]
    on_infinite: str
    problems: list[str]


def ingest(data_cfg: Any, source: LoadedSource | None = None) -> Dataset:
    """Load ``data_cfg``'s source (or take the already loaded ``source``: a DVC stage's
    snapshot of it), validate it and return a :class:`Dataset`.

    read -> lay out the columns (raises on structural problems) -> coerce them to their
    types -> validate the values (raises on every broken rule at once) -> the dataset."""
    source = source if source is not None else load_source(data_cfg)
    frame, task, pinned = source.frame, get_task(option_value(data_cfg.task)), pinned_specs(data_cfg)
    layout = _lay_out(frame, data_cfg, task, pinned, source.uri)
    coerced = _coerce(frame, layout.feature_names, data_cfg, pinned)
    time = _validate_values(coerced, layout.feature_names, data_cfg, pinned)
    target, classes, groups, ids = _labels(frame, data_cfg, task, layout)
    features = coerced.features
    schema = {
        name: describe_column(name, coerced.types[name], features[name]) for name in layout.feature_names
    }
    report = _report(frame, coerced, schema, target, data_cfg)
    return Dataset(features, target, ids, task.name, classes, schema, source, report, time, groups)


def _lay_out(frame: pd.DataFrame, data_cfg: Any, task: Task, pinned: dict, uri: str) -> _Layout:
    """The columns named by the config, the target's rules, unique ids, the feature columns;
    raises :class:`DataValidationError` with every problem found."""
    if frame.empty or len(frame.columns) == 0:
        raise DataValidationError([f"dataset {uri}: empty (0 rows); nothing to train on"])
    problems = _check_columns_exist(frame, data_cfg, pinned)
    if problems:
        raise DataValidationError(problems)
    group_column = data_cfg.get("group_column")
    problems += task.target_problems(frame, data_cfg.target, group_column, data_cfg.get("positive_class"))
    if group_column and not task.needs_groups:
        problems.append(
            f"data.group_column={group_column!r}: a query id makes the task a ranking; "
            f"set data.task=ranking (got {task.name})"
        )
    id_columns = list(data_cfg.id_columns)
    problems += _duplicate_ids(frame, id_columns)
    ids = (
        frame[id_columns].reset_index(drop=True)
        if id_columns
        else pd.DataFrame({ROW_ID: np.arange(len(frame))})
    )
    excluded = {
        data_cfg.target,
        *id_columns,
        *data_cfg.drop_columns,
        *([group_column] if group_column else []),
    }
    feature_names = [c for c in frame.columns if c not in excluded]
    if not feature_names:
        problems.append("dataset: no feature columns left after removing target, ids and drops")
    problems += _nested_problems(frame, feature_names)
    if problems:
        raise DataValidationError(problems)
    return _Layout(feature_names, ids, group_column)


def _duplicate_ids(frame: pd.DataFrame, id_columns: list[str]) -> list[str]:
    if not id_columns:
        return []
    duplicated = frame.duplicated(subset=id_columns, keep="first")
    if not duplicated.any():
        return []
    first = frame.loc[duplicated, id_columns].iloc[0].tolist()
    return [
        f"column(s) {', '.join(map(repr, id_columns))}: {int(duplicated.sum())} duplicate "
        f"ids (first: {first[0] if len(first) == 1 else first}); ids must be unique"
    ]


def _nested_problems(frame: pd.DataFrame, feature_names: list[str]) -> list[str]:
    return [
        f"column {name!r}: nested values ({kind}) are not supported; flatten them into "
        f"scalar columns or drop it (data.drop_columns=[{name}])"
        for name in feature_names
        for kind in [nested_kind(frame[name])]
        if kind
    ]


def _coerce(frame: pd.DataFrame, feature_names: list[str], data_cfg: Any, pinned: dict) -> _Coerced:
    """Each feature column coerced to its type (pinned, forced categorical, else inferred);
    infinities kept (``data.on_infinite=error``: validation refuses them) or made missing.
    A value that cannot be coerced raises at once, with the strict-type problems."""
    forced = set(data_cfg.categorical_columns)
    time_column = data_cfg.get("time_column")
    types = {
        name: pinned[name].type
        if name in pinned
        else infer_type(frame[name], name in forced, name == time_column)
        for name in feature_names
    }
    strict = bool(data_cfg.get("strict_types"))
    drift = {
        name: drift_line(name, found, strict)
        for name in feature_names
        if name not in pinned and name not in forced and types[name] == "categorical"
        for found in [text_among_numbers(frame[name])]
        if found
    }
    problems = list(drift.values()) if strict else []
    try:
        features = coerce_columns(frame, types).reset_index(drop=True)
    except DataValidationError as exc:
        raise DataValidationError([*problems, *exc.problems]) from None
    infinite = infinite_counts(features, [n for n in feature_names if types[n] == "numeric"])
    on_infinite = option_value(data_cfg.get("on_infinite") or "error")
    if on_infinite != "error":
        for name in infinite:
            features[name] = features[name].replace([np.inf, -np.inf], np.nan)
    return _Coerced(features, types, drift, infinite, on_infinite, problems)


def _validate_values(
    coerced: _Coerced, feature_names: list[str], data_cfg: Any, pinned: dict
) -> pd.Series | None:
    """The rules on the coerced values (infinities, all-missing columns, the pinned specs,
    the timestamps); raises with every problem at once. Returns the time column, if any."""
    features, problems = coerced.features, list(coerced.problems)
    if coerced.on_infinite == "error":
        problems += [
            f"column {name!r}: {count} infinite values (inf/-inf); fix the source, or set "
            "data.on_infinite=missing to impute them like blanks"
            for name, count in coerced.infinite.items()
        ]
    problems += [
        f"column {name!r}: all values are missing; drop it (data.drop_columns) or fix the source"
        for name in feature_names
        if features[name].isna().all()
    ]
    problems += _pinned_problems(features, pinned)
    time = features[data_cfg.time_column] if data_cfg.get("time_column") else None
    if time is not None and time.isna().any():
        problems.append(
            f"column {data_cfg.time_column!r} (time_column): {int(time.isna().sum())} "
            "missing timestamps; temporal order needs every row dated"
        )
    if problems:
        raise DataValidationError(problems)
    return time


def _labels(
    frame: pd.DataFrame, data_cfg: Any, task: Task, layout: _Layout
) -> tuple[pd.Series, list[str] | None, pd.Series | None, pd.DataFrame]:
    """(target, classes, query ids, ids): the target as the task prepares it; a query id
    (task=ranking) is passed through to the ids (predictions and scores carry it)."""
    target = frame[data_cfg.target].reset_index(drop=True)
    target, classes = task.prepare_target(target, data_cfg.get("positive_class"))
    if not task.needs_groups:
        return target, classes, None, layout.ids
    groups = frame[layout.group_column].reset_index(drop=True)
    return target, classes, groups, layout.ids.assign(**{layout.group_column: groups})


def _report(
    frame: pd.DataFrame, coerced: _Coerced, schema: dict, target: pd.Series, data_cfg: Any
) -> ValidationReport:
    """The validation report: its warnings (type drift, infinities made missing, constant
    columns, likely leakage, high cardinality), each also logged."""
    report = ValidationReport(len(frame), len(frame.columns))
    report.warnings = [
        *([] if data_cfg.get("strict_types") else coerced.drift.values()),
        *(
            f"column {name!r}: {count} infinite values treated as missing (data.on_infinite=missing)"
            for name, count in coerced.infinite.items()
            if coerced.on_infinite == "missing"
        ),
        *_warnings(coerced.features, schema, target, data_cfg),
    ]
    for note in report.warnings:
        log.warning(note)
    return report
