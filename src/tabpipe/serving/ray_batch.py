"""``engine=ray``: the same scoring (:func:`tabpipe.serving.batch.score_frame`) on Ray Data.

``map_batches`` runs a callable class, so each Ray worker opens one ONNX Runtime session
and keeps it. The output is a directory of Parquet files, written under a temporary name
and renamed when complete. Rejected rows (``on_bad_row=reject``) are written by the workers
as CSV parts with their id columns and reason, then gathered into the reject file; with
``on_bad_row=fail`` the first bad row stops the job. Ray's row order is not positional, so
rejects carry ids rather than row numbers. Without a cluster address, ``ray.init`` starts a
local one.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa

from tabpipe.errors import ConfigError, DataValidationError
from tabpipe.export.bundle import load_bundle
from tabpipe.export.registry import Registry
from tabpipe.serving.batch import (
    ROW_NUMBER,
    BatchSummary,
    check_outputs,
    csv_convert_options,
    default_rejects,
    input_files,
    score_frame,
)
from tabpipe.serving.loaded_model import load_model

if TYPE_CHECKING:
    import ray.data


class _Scorer:
    """One ONNX session per Ray actor, reused for every batch it receives."""

    def __init__(self, bundle_path: str, reject_dir: str, on_bad_row: str) -> None:
        self.model = load_model(bundle_path, ".", ["CPUExecutionProvider"])
        self.ids = list(self.model.bundle.schema.id_columns)
        self.reject_dir = Path(reject_dir)
        self.on_bad_row = on_bad_row

    def __call__(self, batch: pa.Table) -> pd.DataFrame:
        # Arrow's own conversion, as the local engine's, so coercion sees the same dtypes
        # (Ray's pandas batches hold Arrow-backed dtypes such as date32[pyarrow])
        scored, rejected = score_frame(self.model, batch.to_pandas(), 0, self.ids)
        if len(rejected):
            if self.on_bad_row == "fail":
                raise DataValidationError([f"a row of the input: {rejected.iloc[0]['reason']}"])
            part = rejected.drop(columns=[ROW_NUMBER])  # batch-relative, not positional
            part.to_csv(self.reject_dir / f"part-{uuid.uuid4().hex}.csv", index=False)
        return scored


def _input_files(source: Path, output: Path, reject_path: Path | None) -> tuple[list[Path], set[str], Path]:
    """(the input files, their one suffix, the reject file), the outputs checked."""
    files = input_files(source)
    kinds = {f.suffix for f in files}
    if len(kinds) != 1:
        raise ConfigError(f"input={str(source)!r}: a mix of .csv and .parquet files; use one format")
    target = reject_path or default_rejects(output)
    check_outputs(source, files, {"output": output, "reject_path": target})
    return files, kinds, target


def _read(files: list[Path], kinds: set[str], input_types: dict[str, str]) -> ray.data.Dataset:
    import ray

    paths = [str(f.resolve()) for f in files]
    if kinds == {".parquet"}:
        return ray.data.read_parquet(paths)
    # the local engine's CSV options: every feature as text, blank = missing
    return ray.data.read_csv(paths, convert_options=csv_convert_options(input_types))


def _scratch_dirs(output: Path) -> tuple[Path, Path]:
    """(the staging directory of the output, the workers' reject parts directory), empty."""
    staging = output.with_name(f".{output.name}.{os.getpid()}.tmp")
    rejects_dir = output.with_name(f".{output.name}.rejects.{os.getpid()}")
    for path in (staging, rejects_dir):
        shutil.rmtree(path, ignore_errors=True)
    rejects_dir.mkdir(parents=True)
    return staging, rejects_dir


def _replace(staging: Path, output: Path) -> None:
    if output.is_dir():
        shutil.rmtree(output)
    elif output.exists():
        output.unlink()
    os.replace(staging, output)


def _gather_rejects(rejects_dir: Path, target: Path, summary: BatchSummary) -> None:
    parts = sorted(rejects_dir.glob("part-*.csv"))
    if parts:
        rejects = pd.concat([pd.read_csv(p) for p in parts], ignore_index=True)
        rejects.to_csv(target, index=False)
        summary.rejects, summary.rows_rejected = str(target), len(rejects)


def score_with_ray(
    ref: str,
    registry_root: str,
    source: Path,
    output: Path,
    chunk_rows: int,
    on_bad_row: str,
    reject_path: Path | None,
) -> BatchSummary:
    import ray

    bundle = load_bundle(Registry(registry_root).resolve(ref))
    files, kinds, target = _input_files(source, output, reject_path)
    started = time.perf_counter()
    ray.init(ignore_reinit_error=True, include_dashboard=False, log_to_driver=False)
    # leave a CPU to Ray Data's read and write tasks, or the scoring actors starve them
    actors = max(1, int(ray.cluster_resources().get("CPU", 1)) - 1)
    dataset = _read(files, kinds, bundle.schema.input_types)
    staging, rejects_dir = _scratch_dirs(output)
    summary = BatchSummary(output=str(output))
    try:
        scored = dataset.map_batches(
            _Scorer,
            fn_constructor_args=(str(bundle.path.resolve()), str(rejects_dir), on_bad_row),
            batch_format="pyarrow",
            batch_size=chunk_rows,
            concurrency=actors,
            num_cpus=1,
        )
        scored.write_parquet(str(staging))
        _replace(staging, output)
        summary.rows_scored = int(ray.data.read_parquet(str(output)).count())
        _gather_rejects(rejects_dir, target, summary)
        summary.rows_in = summary.rows_scored + summary.rows_rejected
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(rejects_dir, ignore_errors=True)
    summary.seconds = time.perf_counter() - started
    return summary
