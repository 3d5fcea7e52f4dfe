"""The table a plain multirun ends with: one row per job, and mean ± std over seeds."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import ROOT, cli_env


@pytest.mark.slow
def test_multirun_ends_with_one_row_per_job_and_the_spread_over_seeds(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    quick = ["logger=none", "eval.plots=false", "eval.segments.enabled=false", "registry.name=null"]
    args = ["-m", "model=linear", "features=default,robust", "seed=0,1", *quick, f"hydra.sweep.dir={sweep}"]
    done = subprocess.run(
        [sys.executable, str(ROOT / "train.py"), *args],
        cwd=tmp_path,
        env=cli_env(),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout[done.stdout.index("multirun summary:") :].splitlines()
    assert lines[0].startswith("multirun summary: 4 jobs; common: model=linear")
    assert lines[1].split() == ["job", "overrides", "test/auc"]
    auc = {job: json.loads((sweep / str(job) / "metrics.json").read_text())["test/auc"] for job in range(4)}
    rows = [line.split() for line in lines[2:6]]
    assert rows == [
        ["0", "features=default", "seed=0", f"{auc[0]:.4f}"],
        ["1", "features=default", "seed=1", f"{auc[1]:.4f}"],
        ["2", "features=robust", "seed=0", f"{auc[2]:.4f}"],
        ["3", "features=robust", "seed=1", f"{auc[3]:.4f}"],
    ]
    for features, jobs in (("default", (0, 1)), ("robust", (2, 3))):
        values = [auc[job] for job in jobs]
        spread = f"{statistics.mean(values):.4f} ± {statistics.stdev(values):.4f}"
        assert f"  mean ± std over 2 seeds features={features}: test/auc {spread}" in lines
    assert len(lines) == 8
