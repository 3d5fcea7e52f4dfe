"""The current data: a CSV or Parquet file, or the serving prediction log (JSONL).

The prediction log (``tabpipe serve prediction_log.path=...``) is read with its rotated
backups (``.N`` ... ``.1``, oldest first). ``window`` selects part of it: ``24h``, ``30m``,
``7d``, ``90s`` (the records whose ``ts`` is that recent) or a number ``N`` (the last N input
records). From the same lines come the serving figures: latency P50/P95/P99 of the answered
requests and the error rate (error lines / all requests). Shadow lines are left out of both
the inputs and the figures; lines that do not parse are counted, not silently dropped. Lines
are read with :func:`~tabpipe.monitoring.log_lines.decode_line` (non-finite numbers restored),
and the fields the server redacted (each line's ``redacted``) are reported, not compared: a
hashed or dropped feature is neither drift nor a missing column.

For a file, ``window=N`` keeps its last N rows; a duration needs the log's timestamps.
Prediction columns in a file (``label`` and ``proba_<class>``, ``prediction`` or ``score``, as
``tabpipe predict`` writes them) are used for the prediction drift.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from tabpipe.documents.prediction_log import LoggedOutput, PredictionLogLine
from tabpipe.errors import ConfigError, printable_line
from tabpipe.monitoring.document import Latency, ServingFigures
from tabpipe.monitoring.log_lines import decode_line

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


@dataclass
class CurrentData:
    frame: pd.DataFrame
    predictions: pd.DataFrame | None
    source: str
    window: str | None = None
    serving: ServingFigures | None = None
    # prediction log: the fields the server redacted (hash or drop) in any line read
    redacted: dict[str, str] = field(default_factory=dict)


def parse_window(window: str | int | None) -> int | timedelta | None:
    """``None`` (everything), a row count, or a duration (``24h``)."""
    if window is None or str(window).strip() in ("", "null", "all"):
        return None
    text = str(window).strip().lower()
    if text.isdigit() and int(text) > 0:
        return int(text)
    match = _DURATION.match(text)
    if not match:
        raise ConfigError(f"window={window!r}: use a number of records (10000) or a duration (30m, 24h, 7d)")
    return timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})


def prediction_columns(frame: pd.DataFrame, features: set[str]) -> list[str]:
    return [
        c
        for c in frame.columns
        if c not in features and (c in ("label", "prediction", "score") or str(c).startswith("proba_"))
    ]


def read_current(
    path: Path, window: str | int | None, features: set[str], version: str | None
) -> CurrentData:
    """Read ``path`` (``.csv``, ``.parquet``, ``.jsonl``/``.log``) limited to ``window``.

    ``version``: the monitored bundle's registry version; prediction-log outputs of other
    versions (an A/B arm) are left out of the prediction drift.
    """
    limit = parse_window(window)
    if not path.is_file():
        raise ConfigError(f"current={str(path)!r}: no such file")
    if path.suffix in (".jsonl", ".log", ".json"):
        data = read_prediction_log(path, limit, version)
    elif path.suffix in (".csv", ".parquet"):
        _check_row_window(window, limit)
        data = _table_data(read_table(path), limit, features, str(path))
    else:
        raise ConfigError(f"current={str(path)!r}: expected a .csv, .parquet or .jsonl (prediction log) file")
    data.window = None if window is None else str(window)
    if len(data.frame) == 0:
        where = f" in window={window}" if window is not None else ""
        unreadable = data.serving.unreadable_lines if data.serving else 0
        lines = f" ({unreadable} unreadable line{'s' if unreadable > 1 else ''})" if unreadable else ""
        raise ConfigError(f"current={str(path)!r}: no rows{where}{lines}; nothing to compare")
    return data


def _check_row_window(window: str | int | None, limit: int | timedelta | None) -> None:
    """A table's window is a row count (or everything): a duration needs the log's timestamps."""
    if isinstance(limit, timedelta):
        raise ConfigError(f"window={window}: a duration needs a prediction log (.jsonl); use a row count")


def _table_data(
    frame: pd.DataFrame, limit: int | timedelta | None, features: set[str], source: str
) -> CurrentData:
    """A table's last ``limit`` rows (all when None), its prediction columns apart."""
    if isinstance(limit, int):
        frame = frame.iloc[-limit:]
    predicted = prediction_columns(frame, features)
    return CurrentData(frame, frame[predicted] if predicted else None, source)


def frame_current(
    frame: pd.DataFrame, window: str | int | None, features: set[str], source: str = "DataFrame"
) -> CurrentData:
    """Rows the caller holds (the Python API's frame) as the current data, as a CSV file with
    the same rows would be read (``window``: its last N rows)."""
    if not isinstance(frame, pd.DataFrame):
        raise ConfigError(f"df: expected a pandas DataFrame, got {type(frame).__name__}")
    limit = parse_window(window)
    _check_row_window(window, limit)
    data = _table_data(frame.reset_index(drop=True), limit, features, source)
    data.window = None if window is None else str(window)
    if len(data.frame) == 0:
        raise ConfigError(f"current: the {source} has no rows; nothing to compare")
    return data


def read_table(path: Path) -> pd.DataFrame:
    """A CSV or Parquet file with text columns as pandas categoricals: Arrow's dictionary
    encoding counts categories without a Python object per value. Blank CSV fields are
    missing, as in training."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    kind = "Parquet" if path.suffix == ".parquet" else "CSV"
    try:
        if path.suffix == ".parquet":
            table = pq.read_table(path)
        else:
            table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(strings_can_be_null=True))
    except pa.ArrowException as exc:  # empty, truncated, not CSV/Parquet, not UTF-8
        reason = printable_line(exc)
        raise ConfigError(f"current={str(path)!r}: not a readable {kind} file: {reason}") from exc
    return table.to_pandas(strings_to_categorical=True)


def log_files(path: Path) -> list[Path]:
    """The log and its ``RotatingFileHandler`` backups, oldest first."""
    backups = sorted(
        (p for p in path.parent.glob(f"{path.name}.*") if p.suffix[1:].isdigit()),
        key=lambda p: -int(p.suffix[1:]),
    )
    return [*backups, path]


def _lines(path: Path) -> tuple[list[PredictionLogLine], int]:
    """The log's lines and the count of lines that are not usable (not UTF-8, not a JSON
    object, fields of the wrong kind for :class:`PredictionLogLine`): counted, as a line cut
    short by a crash is."""
    entries, unreadable = [], 0
    for file in log_files(path):
        with file.open("rb") as handle:
            for raw in handle:
                if not raw.strip():
                    continue
                try:
                    entry = PredictionLogLine.model_validate(decode_line(raw.decode("utf-8")))
                except (ValueError, TypeError):  # ValidationError, UnicodeDecodeError, JSONDecodeError
                    unreadable += 1
                    continue
                entries.append(entry)
    return entries, unreadable


def _select(entries: list[PredictionLogLine], limit: int | timedelta | None) -> list[PredictionLogLine]:
    if limit is None or not entries:
        return entries
    if isinstance(limit, timedelta):
        cutoff = datetime.now(timezone.utc) - limit
        return [e for e in entries if e.ts is not None and e.ts >= cutoff]
    rows, start = 0, len(entries)
    for i in range(len(entries) - 1, -1, -1):
        if entries[i].answered:
            rows += len(entries[i].inputs or [])
            start = i
            if rows >= limit:
                break
    return entries[start:]


def read_prediction_log(path: Path, limit: int | timedelta | None, version: str | None) -> CurrentData:
    entries, unreadable = _lines(path)
    chosen = _select(entries, limit)
    answered = [e for e in chosen if e.answered]
    errors = [e for e in chosen if e.error is not None]
    records = [record for e in answered for record in e.inputs or []]
    frame = pd.DataFrame.from_records(records) if records else pd.DataFrame()
    if isinstance(limit, int) and len(frame) > limit:
        frame = frame.iloc[-limit:].reset_index(drop=True)
    ours = [e for e in answered if version is None or str(e.version) == str(version)]
    outputs = [row for e in ours for row in e.outputs or []]
    redacted: dict[str, str] = {}
    for entry in answered:
        redacted.update(entry.redacted or {})
    return CurrentData(
        frame,
        _prediction_frame(outputs),
        str(path),
        serving=_serving(answered, errors, unreadable),
        redacted=dict(sorted(redacted.items())),
    )


def _prediction_frame(outputs: list[LoggedOutput]) -> pd.DataFrame | None:
    if not outputs:
        return None
    if "prediction" in outputs[0].model_fields_set:  # regression
        return pd.DataFrame({"prediction": [o.prediction for o in outputs]}, dtype=np.float64)
    if "score" in outputs[0].model_fields_set:  # ranking
        return pd.DataFrame({"score": [o.score for o in outputs]}, dtype=np.float64)
    frame = pd.DataFrame({"label": [o.label for o in outputs]})
    probabilities = pd.DataFrame.from_records([o.probabilities or {} for o in outputs])
    return pd.concat([frame, probabilities.add_prefix("proba_")], axis=1)


def _serving(
    answered: list[PredictionLogLine], errors: list[PredictionLogLine], unreadable: int
) -> ServingFigures:
    latencies = np.array([e.latency_ms for e in answered if e.latency_ms is not None], dtype=np.float64)
    total = len(answered) + len(errors)
    stamps = [e.ts for e in (*answered, *errors) if e.ts is not None]
    by_kind: dict[str, int] = {}
    for e in errors:
        by_kind[str(e.error)] = by_kind.get(str(e.error), 0) + 1
    p50, p95, p99 = np.percentile(latencies, [50, 95, 99]).tolist() if len(latencies) else [None] * 3
    return ServingFigures(
        requests=total,
        answered=len(answered),
        errors=len(errors),
        error_rate=len(errors) / total if total else None,
        errors_by_kind=by_kind,
        latency_ms=Latency(p50=p50, p95=p95, p99=p99),
        first=min(stamps).isoformat() if stamps else None,
        last=max(stamps).isoformat() if stamps else None,
        unreadable_lines=unreadable,
    )
