"""``kill -9`` of a real ``python train.py`` at each stage it announces and inside its
registration: nothing half written is left where a reader looks, nothing is registered, and
the next run cleans the debris and registers version 1 (the campaign of issue 15: kills in
train, export and the registry). The run kills itself at the named point
($TABPIPE_FAULT_AT, tabpipe.faults): the same SIGKILL, at an exact place, no race."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from helpers import ROOT, cli_env, compose_config
from tabpipe.export.registry import Registry
from tabpipe.export.registry_fsck import fsck
from tabpipe.faults import FAULT_ENV

# fault points: each stage once it has announced itself, then inside the registration
POINTS = (
    "train.ingest",
    "train.fit",
    "train.evaluate",
    "train.parity",  # the graph passed its gate: bundle and registration follow
    "registry.copying",  # mid-copy of the bundle into the registry's staging
    "registry.assembled",  # staging complete, not yet renamed into place
)


def _run_killed_at(point: str, args: list[str]) -> None:
    """``python train.py ARGS``, SIGKILLed at ``point``."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "train.py"), *args],
        cwd=ROOT,
        env=cli_env() | {FAULT_ENV: point},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == -signal.SIGKILL, f"the run ended before {point}: {done.stderr[-2000:]}"


def _readable(run_dir: Path) -> None:
    """Every finished-looking file of a killed run reads back whole."""
    for path in run_dir.rglob("*"):
        if path.name.startswith(".") and ".tmp" in path.name:
            continue  # debris: never at a final path, removed by the next run
        if path.suffix == ".json":
            json.loads(path.read_text())
        elif path.suffix == ".parquet":
            pd.read_parquet(path)


@pytest.mark.slow
def test_a_run_killed_at_any_stage_leaves_nothing_half_written_or_registered(tmp_path: Path) -> None:
    registry = tmp_path / "registry"
    common = [
        "model=xgb",
        "model.n_estimators=20",
        "logger=csv",
        "eval.plots=false",
        f"registry.root={registry}",
    ]
    for point in POINTS:
        _run_killed_at(point, [*common, f"hydra.run.dir={tmp_path / 'runs' / point}"])
        _readable(tmp_path / "runs" / point)
        if point.startswith("train."):  # the run records itself complete just before registering
            assert not (tmp_path / "runs" / point / "metadata.json").exists(), point
        assert Registry(registry).versions("telco_churn") == [], point

    # the next run, in-process (the kills above are the process-level part): same overrides,
    # a sibling of the killed runs' directories
    from tabpipe.training.train import run_training

    run_training(compose_config([*common, f"paths.output_dir={tmp_path / 'runs' / 'after'}"]))
    assert Registry(registry).versions("telco_churn") == [1]
    findings, _ = fsck(Registry(registry))
    assert findings == []  # every version verifies, no debris left
    left = [p for p in (tmp_path / "runs").rglob(".*") if ".tmp" in p.name]
    assert left == []  # the next run removed the killed runs' temporary files
