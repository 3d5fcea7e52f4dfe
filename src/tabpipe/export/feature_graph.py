"""Compile a fitted :class:`~tabpipe.features.preprocessing.TabularPreprocessor` into ONNX.

The graph takes one input per raw column (see :mod:`tabpipe.export.inputs`) and returns
``features``: the float32 matrix the model consumes, in the ColumnTransformer's order. It
is the single apply-time implementation of the transforms: training (val/test and the
non-cross-fitted train columns), evaluation and serving all run it.
"""

from __future__ import annotations

import math

import numpy as np
import onnx
import pandas as pd

from tabpipe.export.graph_builder import GraphBuilder
from tabpipe.features.datetime_features import PERIODS
from tabpipe.features.preprocessing import MISSING_CATEGORY, TabularPreprocessor

FEATURES = "features"
_UNSEEN = "\x00tabpipe-unseen\x00"  # a token no real category equals


def _concat(g: GraphBuilder, names: list[str]) -> str:
    return names[0] if len(names) == 1 else g.op("Concat", names, axis=1)


def _impute_block(g: GraphBuilder, x: str, imputer, width: int) -> str:
    """SimpleImputer (+ its missing indicator) on a float [N, width] block."""
    isnan = g.op("IsNaN", [x])
    stats = np.asarray(imputer.statistics_, dtype=np.float32).reshape(1, width)
    filled = g.op("Where", [isnan, g.const(stats), x])
    indicator = getattr(imputer, "indicator_", None)
    if indicator is None or len(indicator.features_) == 0:
        return filled
    flags = g.op("Gather", [isnan, g.const(np.asarray(indicator.features_, dtype=np.int64))], axis=1)
    return g.op("Concat", [filled, g.op("Cast", [flags], to=onnx.TensorProto.FLOAT)], axis=1)


def _scale(g: GraphBuilder, x: str, scaler) -> str:
    if scaler is None:
        return x
    center = getattr(scaler, "center_", None)
    if center is None:
        center = scaler.mean_ if scaler.mean_ is not None else np.zeros_like(scaler.scale_)
    shifted = g.op("Sub", [x, g.const(np.asarray(center, dtype=np.float32)[None, :])])
    return g.op("Div", [shifted, g.const(np.asarray(scaler.scale_, dtype=np.float32)[None, :])])


def _float_block(g: GraphBuilder, columns: list[str], fitted) -> str:
    """Numeric (imputer [+ scaler] pipeline) or boolean (imputer) columns."""
    x = _concat(g, [g.add_input(c, "float") for c in columns])
    steps = getattr(fitted, "named_steps", {"impute": fitted})
    out = _impute_block(g, x, steps["impute"], len(columns))
    return _scale(g, out, steps.get("scale"))


def _lookup_table(column: str, pipeline) -> tuple[list[str], np.ndarray, int]:
    """A column's train categories, its lookup table (every train category, then the unseen
    sentinel, -> its encoded row) and the row a missing value takes."""
    categories = [str(c) for c in pipeline.named_steps["encode"].categories_[0]]
    probe = pd.DataFrame({column: np.array([*categories, _UNSEEN], dtype=object)})
    table = np.asarray(pipeline.transform(probe), dtype=np.float32)
    missing_row = categories.index(MISSING_CATEGORY) if MISSING_CATEGORY in categories else len(categories)
    return categories, table, missing_row


def _categorical_block(g: GraphBuilder, columns: list[tuple[str, object]]) -> str:
    """All categorical columns in a handful of nodes, whatever their number.

    One LabelEncoder maps every string to its id in the union of the columns' categories;
    a ``[C, V + 1]`` table turns (column, id) into that column's row of a block-diagonal
    stack of the columns' lookup tables (ids the column never saw -> its unseen row, ``""``
    -> its missing row); one gather fetches the rows and their sum is the encoding (each
    output value has exactly one non-zero term, so the sum is exact)."""
    lookups = [_lookup_table(column, pipeline) for column, pipeline in columns]
    vocabulary = sorted({category for categories, _, _ in lookups for category in categories} | {""})
    ids = {text: i for i, text in enumerate(vocabulary)}
    unseen_id = len(vocabulary)  # the LabelEncoder's default: in no column's categories
    tables = [table for _, table, _ in lookups]
    stacked = np.zeros((sum(t.shape[0] for t in tables), sum(t.shape[1] for t in tables)), np.float32)
    row_of = np.empty((len(lookups), len(vocabulary) + 1), dtype=np.int64)
    row, col = 0, 0
    for c, (categories, table, missing_row) in enumerate(lookups):
        stacked[row : row + table.shape[0], col : col + table.shape[1]] = table
        row_of[c, :] = row + len(categories)  # the unseen row
        row_of[c, [ids[category] for category in categories]] = row + np.arange(len(categories))
        row_of[c, ids[""]] = row + missing_row
        row, col = row + table.shape[0], col + table.shape[1]
    strings = _concat(g, [g.add_input(column, "string") for column, _ in columns])  # [N, C]
    text_ids = g.op(
        "LabelEncoder",
        [strings],
        domain="ai.onnx.ml",
        keys_strings=vocabulary,
        values_int64s=list(range(len(vocabulary))),
        default_int64=unseen_id,
    )
    width = len(vocabulary) + 1
    flat = g.op("Add", [text_ids, g.const((np.arange(len(lookups), dtype=np.int64) * width)[None, :])])
    rows = g.op("Gather", [g.const(row_of.reshape(-1)), flat], axis=0)  # [N, C] rows of the stack
    encoded = g.op("Gather", [g.const(stacked), rows], axis=0)  # [N, C, width]
    return g.op("ReduceSum", [encoded, g.const(np.array([1], dtype=np.int64))], keepdims=0)


def _int(g: GraphBuilder, value: int) -> str:
    return g.const(np.array(value, dtype=np.int64))


def _civil_from_days(g: GraphBuilder, days: str) -> tuple[str, str]:
    """(day of month, month) from days since 1970-01-01 (H. Hinnant's algorithm)."""
    z = g.op("Add", [days, _int(g, 719468)])
    era = g.op("Div", [z, _int(g, 146097)])
    doe = g.op("Sub", [z, g.op("Mul", [era, _int(g, 146097)])])
    yoe_num = g.op("Sub", [doe, g.op("Div", [doe, _int(g, 1460)])])
    yoe_num = g.op("Add", [yoe_num, g.op("Div", [doe, _int(g, 36524)])])
    yoe_num = g.op("Sub", [yoe_num, g.op("Div", [doe, _int(g, 146096)])])
    yoe = g.op("Div", [yoe_num, _int(g, 365)])
    year_days = g.op("Add", [g.op("Mul", [yoe, _int(g, 365)]), g.op("Div", [yoe, _int(g, 4)])])
    year_days = g.op("Sub", [year_days, g.op("Div", [yoe, _int(g, 100)])])
    doy = g.op("Sub", [doe, year_days])
    mp = g.op("Div", [g.op("Add", [g.op("Mul", [doy, _int(g, 5)]), _int(g, 2)]), _int(g, 153)])
    month_start = g.op("Div", [g.op("Add", [g.op("Mul", [mp, _int(g, 153)]), _int(g, 2)]), _int(g, 5)])
    day = g.op("Add", [g.op("Sub", [doy, month_start]), _int(g, 1)])
    month = g.op(
        "Where",
        [g.op("Less", [mp, _int(g, 10)]), g.op("Add", [mp, _int(g, 3)]), g.op("Sub", [mp, _int(g, 9)])],
    )
    return day, month


def _datetime_columns(g: GraphBuilder, column: str, calendar) -> tuple[list[str], str]:
    t = g.add_input(column, "double")
    isnan = g.op("IsNaN", [t])
    t0 = g.op("Where", [isnan, g.const(np.array(0.0)), t])
    days_f = g.op("Floor", [g.op("Div", [t0, g.const(np.array(86400.0))])])
    seconds = g.op("Sub", [t0, g.op("Mul", [days_f, g.const(np.array(86400.0))])])
    days = g.op("Cast", [days_f], to=onnx.TensorProto.INT64)
    parts: dict[str, str] = {
        "hour": g.op("Floor", [g.op("Div", [seconds, g.const(np.array(3600.0))])]),
        "dayofweek": g.op("Mod", [g.op("Add", [days, _int(g, 3)]), _int(g, 7)]),
    }
    if {"day", "month"} & set(calendar.parts):
        parts["day"], parts["month"] = _civil_from_days(g, days)
    outputs = []
    for part in calendar.parts:
        value = g.op("Cast", [parts[part]], to=onnx.TensorProto.FLOAT)
        outputs.append(value)
        if calendar.cyclical:
            angle = g.op("Mul", [value, g.const(np.array(2 * math.pi / PERIODS[part], dtype=np.float32))])
            outputs += [g.op("Sin", [angle]), g.op("Cos", [angle])]
    if calendar.holidays_country:
        table = calendar.holiday_days_ if len(calendar.holiday_days_) else np.array([-(10**9)])
        hits = g.op("Equal", [days, g.const(np.asarray(table, dtype=np.int64)[None, :])])
        flag = g.op("ReduceMax", [g.op("Cast", [hits], to=onnx.TensorProto.INT64)], axes=[1], keepdims=1)
        outputs.append(g.op("Cast", [flag], to=onnx.TensorProto.FLOAT))
    return outputs, isnan


def _datetime_block(g: GraphBuilder, columns: list[str], pipeline) -> str:
    calendar = pipeline.named_steps["calendar"]
    medians = np.asarray(pipeline.named_steps["impute"].statistics_, dtype=np.float32)
    blocks, start = [], 0
    for column in columns:
        values, isnan = _datetime_columns(g, column, calendar)
        width = len(values)
        fill = g.const(medians[start : start + width][None, :])
        mask = g.op("Expand", [isnan, g.const(np.array([1, width], dtype=np.int64))])
        blocks.append(g.op("Where", [mask, fill, _concat(g, values)]))
        start += width
    return _concat(g, blocks)


def build_feature_graph(preprocessor: TabularPreprocessor) -> onnx.ModelProto:
    """The preprocessing graph: raw column inputs -> ``features`` float [N, F]."""
    g = GraphBuilder("pre_")
    transformer = preprocessor.transformer_
    blocks: list[str] = []
    categorical: list[tuple[str, object]] = []  # contiguous in the output: one block
    for name, fitted, columns in transformer.transformers_:
        if name == "remainder" or fitted == "drop" or not len(columns):
            continue
        if name.startswith("categorical_"):
            categorical.append((columns[0], fitted))
            continue
        if categorical:
            blocks.append(_categorical_block(g, categorical))
            categorical = []
        if name in ("numeric", "boolean"):
            blocks.append(_float_block(g, list(columns), fitted))
        elif name == "datetime":
            blocks.append(_datetime_block(g, list(columns), fitted))
    if categorical:
        blocks.append(_categorical_block(g, categorical))
    order = {name: i for i, name in enumerate(preprocessor.schema)}  # inputs in column order
    g.inputs.sort(key=lambda value: order[value.name])
    width = len(preprocessor.feature_names_)
    g.add_output(_concat(g, blocks), FEATURES, "float", [None, width])
    return g.model("tabpipe_features")
