"""The table a plain multirun (``python train.py -m model=xgb,lgbm seed=0,1,2``) ends with.

A Hydra callback (``conf/hydra/default.yaml``): at ``on_multirun_end`` it reads every job
directory of the sweep (``.hydra/overrides.yaml``, ``metrics.json``, ``evaluation.json``)
and prints one row per job with the overrides that differ between jobs and the test value of
the primary metric; jobs that differ only in ``seed`` also get the mean ± std (sample std)
over their seeds. It reads files rather than collecting results in ``on_job_end``, because
that runs inside the worker processes of a parallel launcher (joblib). An Optuna sweep
reports its trials itself (validation metric, best trial), so only Hydra's basic sweeper
gets the table. The table is printed on stdout, not logged: in the launching process the
root logger still holds the last job's log file.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from tabpipe.documents.metrics import read_metrics
from tabpipe.evaluation.document import EvaluationDocument

BASIC_SWEEPER = "hydra._internal.core_plugins.basic_sweeper.BasicSweeper"


@dataclass
class JobRow:
    number: int
    overrides: list[str]
    metric: str | None  # e.g. test/auc; None: the job wrote no evaluation
    value: float | None


def read_jobs(sweep_dir: Path) -> list[JobRow]:
    """One row per job directory (``<sweep_dir>/<job number>/``) in job order."""
    rows = []
    for job_dir in sorted(
        (d for d in Path(sweep_dir).iterdir() if d.name.isdigit()), key=lambda d: int(d.name)
    ):
        overrides_file = job_dir / ".hydra" / "overrides.yaml"
        if not overrides_file.is_file():
            continue
        overrides = [str(o) for o in yaml.safe_load(overrides_file.read_text()) or []]
        metric, value = None, None
        evaluation, metrics = job_dir / "evaluation.json", job_dir / "metrics.json"
        if evaluation.is_file() and metrics.is_file():
            metric = f"test/{EvaluationDocument.read(evaluation).primary_metric}"
            value = read_metrics(metrics).get(metric)
        rows.append(JobRow(int(job_dir.name), overrides, metric, value))
    return rows


def _key(override: str) -> str:
    return override.split("=", 1)[0]


def format_summary(rows: list[JobRow]) -> list[str]:
    """The table's lines: the common overrides once, then one row per job, then the mean ± std
    of every group of jobs that differ only in ``seed``."""
    if not rows:
        return []
    common = [o for o in rows[0].overrides if all(o in row.overrides for row in rows)]
    varying = [[o for o in row.overrides if o not in common] for row in rows]
    metrics = sorted({row.metric for row in rows if row.metric})
    header = metrics[0] if len(metrics) == 1 else "primary test metric"
    width = max([len("overrides"), *(len(" ".join(v)) for v in varying)])
    lines = [f"multirun summary: {len(rows)} jobs" + (f"; common: {' '.join(common)}" if common else "")]
    lines.append(f"  {'job':>3}  {'overrides':<{width}}  {header}")
    for row, own in zip(rows, varying, strict=True):
        value = "failed (no metrics)" if row.value is None else f"{row.value:.4f}"
        if row.value is not None and len(metrics) > 1:
            value += f" ({row.metric})"
        lines.append(f"  {row.number:>3}  {' '.join(own):<{width}}  {value}")
    lines.extend(_seed_spreads(rows, varying))
    return lines


def _seed_spreads(rows: list[JobRow], varying: list[list[str]]) -> list[str]:
    groups: dict[tuple[str, ...], list[JobRow]] = {}
    for row, own in zip(rows, varying, strict=True):
        if any(_key(o) == "seed" for o in own):
            groups.setdefault(tuple(o for o in own if _key(o) != "seed"), []).append(row)
    lines = []
    for rest, members in groups.items():
        values = [row.value for row in members if row.value is not None]
        if len(values) < 2 or len({row.metric for row in members if row.value is not None}) != 1:
            continue
        label = f" {' '.join(rest)}" if rest else ""
        lines.append(
            f"  mean ± std over {len(values)} seeds{label}: {members[0].metric} "
            f"{statistics.mean(values):.4f} ± {statistics.stdev(values):.4f}"
        )
    return lines


class MultirunSummary(Callback):
    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        if config.hydra.sweeper.get("_target_") != BASIC_SWEEPER:
            return
        sweep_dir = Path(config.hydra.sweep.dir)
        if sweep_dir.is_dir():
            print("\n".join(format_summary(read_jobs(sweep_dir))), flush=True)
