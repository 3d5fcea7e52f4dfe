"""What a run writes into the project is git-ignored; the sources stay tracked."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from helpers import ROOT

GENERATED = [
    "monitoring/telco_churn/20261203T101010000000/drift.json",  # tabpipe monitor's default output
    "monitoring/telco_churn/trigger_state.json",
    "logs/train/sweeps/xgb_optuna/optuna.journal",  # a sweep: study, trials, results
    "logs/train/sweeps/xgb_optuna/optimization_results.yaml",
    "logs/train/sweeps/xgb_optuna/3/metrics.json",
    "conf/experiment/xgb_optuna_best.yaml",  # the best-params experiment a sweep writes
    "logs/train/multiruns/2026-12-03_10-10-10_000000/0/metrics.json",
]
SOURCES = [
    "src/tabpipe/monitoring/run.py",
    "src/tabpipe/conf/experiment/churn_xgb.yaml",
    "src/tabpipe/conf/hydra/default.yaml",
    "conf/train.yaml",
]


def _ignored(paths: list[str]) -> set[str]:
    done = subprocess.run(
        ["git", "check-ignore", "--no-index", *paths], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode in (0, 1), done.stderr  # 1: none of them is ignored
    return set(done.stdout.split())


@pytest.mark.skipif(
    shutil.which("git") is None or not (ROOT / ".git").exists(), reason="needs a git checkout"
)
def test_run_outputs_are_ignored_and_sources_are_not() -> None:
    assert _ignored(GENERATED) == set(GENERATED)
    assert _ignored(SOURCES) == set()
