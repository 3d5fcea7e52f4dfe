"""``kill -9`` of a real ``python train.py`` at each stage it announces: nothing half written
is left where a reader looks, nothing is registered, and the next run cleans the debris and
registers version 1 (the campaign of issue 15: kills in train, export and the registry)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from helpers import ROOT, cli_env, run_cli
from tabpipe.export.registry import Registry
from tabpipe.export.registry_fsck import fsck

# a line each stage prints when it starts (the run's console output)
STAGES = {
    "ingest": "loading and validating data",
    "fit": "fitting features on",
    "evaluate": "evaluating on the test split",
    "export": "parity:",  # the graph passed its gate: bundle and registration follow
}


def _run_until(line: str, args: list[str]) -> int:
    """Start ``python train.py ARGS``, SIGKILL it when it prints ``line``; its return code."""
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "train.py"), *args],
        cwd=ROOT,
        env=cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        for printed in process.stdout:
            if line in printed:
                process.send_signal(signal.SIGKILL)
                break
    finally:
        if process.poll() is None:
            process.kill()
        code = process.wait(timeout=60)
    assert code == -signal.SIGKILL, f"the run ended before printing {line!r}"
    return code


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
    common = ["model=xgb", "model.n_estimators=200", "logger=csv", f"registry.root={registry}"]
    for stage, line in STAGES.items():
        _run_until(line, [*common, f"hydra.run.dir={tmp_path / 'runs' / stage}"])
        _readable(tmp_path / "runs" / stage)
        assert not (tmp_path / "runs" / stage / "metadata.json").exists(), stage
        # killed after its parity line, a run may just have finished registering (~0.1 s):
        # then its version is whole; otherwise there is none
        before = Registry(registry).versions("telco_churn")
        assert before == [] or (stage == "export" and before == [1]), (stage, before)

    done = run_cli([*common, f"hydra.run.dir={tmp_path / 'runs' / 'after'}"])
    assert done.returncode == 0, done.stderr[-2000:]
    versions = Registry(registry).versions("telco_churn")
    assert versions[-1] == max(versions) and len(versions) == len(before) + 1
    findings, _ = fsck(Registry(registry))
    assert findings == []  # every version verifies, no debris left
    left = [p for p in (tmp_path / "runs").rglob(".*") if ".tmp" in p.name]
    assert left == []  # the next run removed the killed runs' temporary files
