"""Helpers for the sweep tests: run sweeps as subprocesses, open their studies, read W&B
offline run files."""

from __future__ import annotations

import os
import shutil
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml

from helpers import CONF, ROOT, TESTS, cli_env

SWEEP_APP = TESTS / "sweep_app" / "app.py"

# small and quick: 40 rounds
XGB_BASE = [
    "-m",
    "hparams_search=xgb_optuna",
    "model.n_estimators=40",
    "hydra.sweeper.sampler.n_startup_trials=3",
]
# median pruning after 2 complete trials and 3 rounds
XGB_SWEEP = [*XGB_BASE, "hydra.sweeper.pruner.n_startup_trials=2", "hydra.sweeper.pruner.n_warmup_steps=3"]
XGB_NO_PRUNING = [*XGB_BASE, "hydra/sweeper/pruner=nop"]


def sweep_env(conf_dir: Path | None = None) -> dict[str, str]:
    env = cli_env()
    # one thread per trial: the CI machine has 2 shared cores
    env |= {"OMP_NUM_THREADS": "1", "WANDB_MODE": "offline", "HYDRA_FULL_ERROR": "0"}
    if conf_dir is not None:  # a private project: its conf/ and everything the sweep writes
        env["TABPIPE_PROJECT"] = str(conf_dir.parent)
    return env


def copy_conf(tmp_path: Path) -> Path:
    """A private project (a copy of the repository's conf/), so best-params experiments are
    written there, not in the repo."""
    target = tmp_path / "conf"
    shutil.copytree(CONF, target, ignore=shutil.ignore_patterns("*_best.yaml"))
    (target / "hparams_search").mkdir(exist_ok=True)  # for the project's own search files
    return target


def train_command(args: Sequence[str]) -> list[str]:
    return [sys.executable, str(ROOT / "train.py"), *args]


def run(command: Sequence[str], env: dict[str, str], timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run(
        list(command), cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def run_train(args: Sequence[str], conf_dir: Path | None = None) -> subprocess.CompletedProcess:
    return run(train_command(args), sweep_env(conf_dir))


def run_app(args: Sequence[str]) -> subprocess.CompletedProcess:
    return run(app_command(args), sweep_env())


def sigkill_when_exists(command: Sequence[str], env: dict[str, str], path: Path, timeout: int = 600) -> None:
    """Start ``command`` in its own session and SIGKILL it (and its workers) once ``path``
    exists; fails if it ended before."""
    proc = subprocess.Popen(
        list(command),
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.time() + timeout
        while not path.exists() and proc.poll() is None and time.time() < deadline:
            time.sleep(0.05)
        assert proc.poll() is None, f"the sweep ended before {path} appeared"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def app_command(args: Sequence[str]) -> list[str]:
    return [sys.executable, str(SWEEP_APP), *args]


def load_study(sweep_dir: Path, name: str) -> Any:
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    storage = JournalStorage(JournalFileBackend(str(sweep_dir / "optuna.journal")))
    return optuna.load_study(study_name=name, storage=storage)


def results(sweep_dir: Path) -> dict[str, Any]:
    return yaml.safe_load((sweep_dir / "optimization_results.yaml").read_text())


def states(study: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for trial in study.trials:
        counts[trial.state.name] = counts.get(trial.state.name, 0) + 1
    return counts


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def wandb_run_records(path: Path) -> Iterator[Any]:
    """The records of a W&B offline ``run-<id>.wandb`` file.

    W&B has no reader for them in its Python package any more; the format is a 7-byte header
    followed by LevelDB-log blocks of 32 KiB whose records (7-byte header: crc, length,
    type FULL=1/FIRST=2/MIDDLE=3/LAST=4) carry ``wandb_internal_pb2.Record`` messages.
    """
    from wandb.proto import wandb_internal_pb2

    data, block, pos, pending = path.read_bytes(), 32768, 7, b""
    assert data[:4] == b":W&B", path
    while pos + 7 <= len(data):
        left = block - pos % block
        _, length, kind = struct.unpack("<IHB", data[pos : pos + 7])
        if left < 7 or kind == 0:  # block trailer / padding
            pos += left
            continue
        pending += data[pos + 7 : pos + 7 + length]
        pos += 7 + length
        if kind in (1, 4):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pending)
            pending = b""
            yield record


def wandb_runs(root: Path) -> list[Any]:
    """The run record of every offline W&B run under ``root``."""
    runs = []
    for path in sorted(root.rglob("run-*.wandb")):
        for record in wandb_run_records(path):
            if record.WhichOneof("record_type") == "run":
                runs.append(record.run)
                break
    return runs
