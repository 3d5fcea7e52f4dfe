"""Test helpers: compose configs with Hydra's compose API, run the CLI in a subprocess."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from tabpipe.config.store import register_configs

ROOT = Path(__file__).resolve().parents[1]
# the repository as a project: its own conf/ (train.yaml) in front of the packaged defaults
CONF = ROOT / "conf"
PACKAGED_CONF = ROOT / "src" / "tabpipe" / "conf"
TESTS = Path(__file__).resolve().parent

# The tests' trainings draw no PNG plots unless they ask (``eval.plots=true``): the figures were
# ~75% of the CPU time of a 40-round xgb run (about 2 s of 2.5 s). The plots are tested where
# they are asserted (tests/unit, test_evaluation_runs, the ranking bundle, the DVC pipeline).
QUICK = ["eval.plots=false"]


def compose_config(overrides: Sequence[str], output_dir: Path | None = None) -> DictConfig:
    register_configs()
    extra = []
    if output_dir is not None:  # runs and the registry stay inside the test's tmp dir
        registry = Path(output_dir).parent / "registry"
        extra = [f"paths.output_dir={output_dir}", f"registry.root={registry}"]
    with initialize_config_dir(str(CONF), version_base="1.3"):
        return compose("train", overrides=[*overrides, *extra])


def cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONWARNINGS"] = "ignore"
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")  # one default registry per xdist worker
    default = Path(tempfile.gettempdir()) / f"tabpipe-test-registry{'-' + worker if worker else ''}"
    env.setdefault("TABPIPE_REGISTRY", str(default))
    # this checkout's sources first, whichever checkout the venv was installed from
    paths = [str(ROOT / "src"), str(TESTS), env.get("PYTHONPATH")]
    env["PYTHONPATH"] = os.pathsep.join(filter(None, paths))
    return env


def run_cli(
    args: Sequence[str], *, python_flags: Sequence[str] = (), timeout: int = 900, cwd: Path = ROOT
) -> subprocess.CompletedProcess:
    """``python train.py ARGS`` as a user would run it."""
    return subprocess.run(
        [sys.executable, *python_flags, str(ROOT / "train.py"), *args],
        cwd=cwd,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


ML_LIBRARIES = (
    "torch",
    "lightning",
    "pytorch_lightning",
    "xgboost",
    "lightgbm",
    "sklearn",
    "pandas",
    "onnx",
    "onnxruntime",
)


def imported_modules(importtime_stderr: str) -> set[str]:
    """Top-level module names from ``python -X importtime`` output."""
    names = re.findall(r"^import time:\s+\d+\s+\|\s+\d+\s+\|\s+(\S+)", importtime_stderr, re.M)
    return {name.split(".")[0] for name in names}


def wait_for_skip(state_dir: Path, timeout_s: float = 60) -> str:
    """Python source that waits until ``state_dir/triggers.jsonl`` records a ``skipped``
    trigger (a retrain command that outlives a concurrent monitor's attempt)."""
    history = str(state_dir / "triggers.jsonl")
    return (
        "import time\nfrom pathlib import Path\n"
        f"history, deadline = Path({history!r}), time.time() + {timeout_s}\n"
        "def skipped():\n    return history.exists() and 'skipped' in history.read_text()\n"
        "while time.time() < deadline and not skipped():\n    time.sleep(0.02)\n"
    )
