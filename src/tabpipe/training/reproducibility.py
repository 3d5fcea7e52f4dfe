"""Seeds, devices and the facts about a run that make it reproducible."""

from __future__ import annotations

import ctypes
import functools
import platform
import random
import subprocess
from importlib import metadata
from pathlib import Path

import numpy as np

from tabpipe.errors import DeviceUnavailableError

TRACKED_PACKAGES = (
    "tabpipe",
    "torch",
    "lightning",
    "xgboost",
    "lightgbm",
    "scikit-learn",
    "onnx",
    "onnxruntime",
    "hydra-core",
    "omegaconf",
    "optuna",
    "numpy",
    "pandas",
)


def seed_everything(seed: int) -> None:
    """Seed Python and numpy (torch is seeded by Lightning when a network trains)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)


def cuda_device_count() -> int:
    """CUDA devices visible to the driver, asked through libcuda (imports no ML library)."""
    for name in ("libcuda.so.1", "libcuda.so", "nvcuda.dll"):
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        count = ctypes.c_int(0)
        if lib.cuInit(0) != 0 or lib.cuDeviceGetCount(ctypes.byref(count)) != 0:
            return 0
        return count.value
    return 0


def require_accelerator(accelerator: str) -> None:
    if accelerator == "gpu" and cuda_device_count() == 0:
        raise DeviceUnavailableError(
            "trainer.accelerator=gpu: no CUDA device on this machine; use trainer=cpu"
        )


def package_versions() -> dict[str, str | None]:
    return dict(_package_versions())


@functools.cache  # what is installed does not change under a running process
def _package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in TRACKED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def git_state(directory: Path) -> dict[str, object]:
    """Commit and dirty flag of the repository holding ``directory`` (None outside git)."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", *args],
                cwd=directory,
                capture_output=True,
                text=True,
                timeout=10,
                check=True,
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip()

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": bool(status) if commit else None}


def platform_info() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor(),
    }
