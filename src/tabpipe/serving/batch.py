"""Batch scoring: stream a CSV/Parquet file (or a directory of them) through the bundle's
graph in chunks, so memory stays bounded whatever the input size.

The output (Parquet or CSV, by suffix) holds the id columns, then ``label`` and
``proba_<class>`` (or ``prediction``, or the ranking ``score``). It is written to a
temporary file and renamed when complete. A row whose values cannot be read as their
column's type, or that holds a number beyond float32's range (the graph's input type: never
fed as inf), is, per ``on_bad_row``, either fatal (``fail``: one line with its row number,
nothing written) or written with its row number and reason to the reject file (``reject``).
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from tqdm import tqdm

from tabpipe.data.coercion import coerce_rows
from tabpipe.errors import ConfigError, DataValidationError, printable_line
from tabpipe.export.inputs import float32_reasons, tensors_from_coerced
from tabpipe.io import remove_stale_debris
from tabpipe.serving.loaded_model import LoadedModel
from tabpipe.tasks import get_task

ROW_NUMBER = "row_number"


@dataclass
class BatchSummary:
    rows_in: int = 0
    rows_scored: int = 0
    rows_rejected: int = 0
    seconds: float = 0.0
    output: str = ""
    rejects: str | None = None


def input_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in (".parquet", ".csv"))
        if not files:
            raise ConfigError(f"input={str(path)!r}: no .parquet or .csv files in the directory")
        return files
    if not path.is_file():
        raise ConfigError(f"input={str(path)!r}: no such file or directory")
    if path.suffix not in (".parquet", ".csv"):
        raise ConfigError(f"input={str(path)!r}: expected a .parquet or .csv file")
    return [path]


def default_rejects(output: Path) -> Path:
    """``scored.csv`` -> ``scored.rejects.csv`` (the output's stem, next to it)."""
    return output.with_name(f"{output.stem}.rejects.csv")


def check_outputs(source: Path, files: list[Path], outputs: dict[str, Path]) -> None:
    """Refuse, before anything is read or written, an output (``{key: path}``) that would
    overwrite an input, lie inside an input directory (read as input by the next run),
    hold an input (``engine=ray`` replaces its output directory), or cannot be created
    because a parent is a file."""
    inputs = {f.resolve() for f in files}
    folder = source.resolve() if source.is_dir() else None
    for key, path in outputs.items():
        target, shown = path.resolve(), f"{key}={str(path)!r}"
        if target in inputs:
            raise ConfigError(f"{shown}: is an input file; write the output elsewhere")
        if folder is not None and target.is_relative_to(folder):
            raise ConfigError(f"{shown}: lies inside the input directory {str(source)!r}")
        if any(f.is_relative_to(target) for f in inputs):
            raise ConfigError(f"{shown}: holds an input file; write the output elsewhere")
        blocker = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
        if blocker is not None:
            raise ConfigError(f"{shown}: {str(blocker)!r} is a file, not a directory")


def csv_convert_options(column_types: dict[str, str]) -> pacsv.ConvertOptions:
    """Every feature read as text (blank = missing): the shared coercion parses it and names
    a bad value's row. Both engines read CSV with these options, so they coerce alike."""
    types = {name: pa.string() for name in column_types}
    return pacsv.ConvertOptions(column_types=types, strings_can_be_null=True)


def _unreadable(path: Path, exc: Exception) -> DataValidationError:
    """A file Arrow cannot read (not UTF-8, ragged rows, not Parquet): one line naming it,
    since no row of it can be trusted."""
    reason = printable_line(exc)
    return DataValidationError([f"input {str(path)!r}: unreadable {path.suffix[1:]} file: {reason}"])


def _parquet(path: Path) -> pq.ParquetFile:
    try:
        return pq.ParquetFile(path)
    except pa.ArrowInvalid as exc:
        raise _unreadable(path, exc) from exc


def read_chunks(path: Path, model: LoadedModel, chunk_rows: int) -> Iterator[pd.DataFrame]:
    try:
        if path.suffix == ".parquet":
            for batch in _parquet(path).iter_batches(batch_size=chunk_rows):
                yield batch.to_pandas()
            return
        options = csv_convert_options(model.types)
        read_options = pacsv.ReadOptions(block_size=1 << 24)
        for batch in pacsv.open_csv(path, read_options=read_options, convert_options=options):
            yield batch.to_pandas()
    except pa.ArrowInvalid as exc:
        raise _unreadable(path, exc) from exc


def count_rows(files: list[Path]) -> int | None:
    if all(f.suffix == ".parquet" for f in files):
        return sum(_parquet(f).metadata.num_rows for f in files)
    return None


def score_frame(
    model: LoadedModel, frame: pd.DataFrame, first_row: int, id_columns: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Score one chunk: (scored rows, rejected rows with their row number and reason)."""
    missing = [name for name in model.types if name not in frame.columns]
    if missing:
        raise DataValidationError([f"column {name!r}: missing from the input" for name in missing])
    coerced, reasons = coerce_rows(frame, model.types)
    reasons = reasons.where(reasons != "", float32_reasons(frame, coerced, model.types))
    bad = (reasons != "").to_numpy()
    ids = [c for c in id_columns if c in frame.columns]
    rejects = frame.loc[bad, ids].reset_index(drop=True)
    rejects.insert(0, ROW_NUMBER, np.arange(first_row, first_row + len(frame))[bad])
    rejects["reason"] = reasons.to_numpy()[bad]
    good = coerced[~bad]
    scored = frame.loc[~bad, ids].reset_index(drop=True)
    outputs = model.session.run(None, tensors_from_coerced(good, model.types))
    names = [o.name for o in model.session.get_outputs()]
    result = dict(zip(names, outputs, strict=True))
    for name, values in get_task(model.task).output_columns(result, model.classes).items():
        scored[name] = values
    return scored, rejects


def _scored_chunks(
    model: LoadedModel, files: list[Path], chunk_rows: int, id_columns: list[str]
) -> Iterator[tuple[Path, pd.DataFrame, tuple]]:
    """Score chunks on one thread per core (a session runs concurrent single-threaded
    calls), yielding them in input order with at most ``2 x cores`` chunks in memory."""
    workers = os.cpu_count() or 1
    pending: deque = deque()
    first_row = 0
    with ThreadPoolExecutor(workers) as pool:
        for path in files:
            for frame in read_chunks(path, model, chunk_rows):
                pending.append((path, frame, pool.submit(score_frame, model, frame, first_row, id_columns)))
                first_row += len(frame)
                if len(pending) >= 2 * workers:
                    path_, frame_, future = pending.popleft()
                    yield path_, frame_, future.result()
        while pending:
            path_, frame_, future = pending.popleft()
            yield path_, frame_, future.result()


class _Sink:
    """Appends chunks to a temporary file next to ``path``; ``commit`` renames it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        remove_stale_debris(path.parent)  # temporary outputs of killed runs
        self.writer: Any = None

    def write(self, frame: pd.DataFrame) -> None:
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if self.writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.path.suffix == ".csv":
                self.writer = pacsv.CSVWriter(str(self.tmp), table.schema)
            else:
                self.writer = pq.ParquetWriter(str(self.tmp), table.schema)
        self.writer.write_table(table.cast(self.writer.schema) if self.path.suffix != ".csv" else table)

    def commit(self) -> bool:
        if self.writer is None:
            return False
        self.writer.close()
        os.replace(self.tmp, self.path)
        return True

    def discard(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.tmp.unlink(missing_ok=True)


def _check_output(output: Path) -> None:
    if output.suffix not in (".parquet", ".csv"):
        raise ConfigError(f"output={str(output)!r}: expected a .parquet or .csv file")
    if output.is_dir():
        raise ConfigError(f"output={str(output)!r}: is a directory; expected a file path")


def _write_chunk(
    path: Path, scored: pd.DataFrame, rejected: pd.DataFrame, on_bad_row: str, sink: _Sink, rejects: _Sink
) -> None:
    """One scored chunk to the output, its rejected rows to the reject file (or, with
    ``on_bad_row=fail``, the first of them as the run's one-line error)."""
    if len(rejected) and on_bad_row == "fail":
        first = rejected.iloc[0]
        raise DataValidationError([f"row {first[ROW_NUMBER]}: {first['reason']}"])
    if len(rejected):
        rejects.write(rejected.assign(file=str(path)))
    if len(scored):
        sink.write(scored)


def score_files(
    model: LoadedModel,
    files: list[Path],
    output: Path,
    chunk_rows: int,
    on_bad_row: str,
    reject_path: Path | None,
    progress: bool = True,
) -> BatchSummary:
    import time

    _check_output(output)
    id_columns = list(model.bundle.schema.id_columns)
    summary, started = BatchSummary(output=str(output)), time.perf_counter()
    sink = _Sink(output)
    rejects = _Sink(reject_path or default_rejects(output))
    committed = False
    try:
        with tqdm(
            total=count_rows(files),
            unit="rows",
            unit_scale=True,
            desc="scoring",
            disable=not progress or None,
        ) as bar:
            for path, frame, (scored, rejected) in _scored_chunks(model, files, chunk_rows, id_columns):
                _write_chunk(path, scored, rejected, on_bad_row, sink, rejects)
                summary.rows_in += len(frame)
                summary.rows_scored += len(scored)
                summary.rows_rejected += len(rejected)
                bar.update(len(frame))
        if summary.rows_scored == 0 and summary.rows_in == 0:
            raise DataValidationError([f"input: no rows in {', '.join(map(str, files))}"])
        if not sink.commit():
            sink.write(scored)  # every row rejected: still write the (empty) output
            sink.commit()
        if rejects.commit():
            summary.rejects = str(rejects.path)
        committed = True
    finally:
        if not committed:  # an error or an interrupt: leave no partial output behind
            sink.discard()
            rejects.discard()
    summary.seconds = time.perf_counter() - started
    return summary
