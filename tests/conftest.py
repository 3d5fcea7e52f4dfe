"""Fixtures shared by the tests."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from helpers import compose_config


@pytest.fixture
def train(tmp_path: Path) -> Callable:
    """Run the training pipeline in-process on composed overrides; returns the result."""
    from tabpipe.training.train import run_training

    counter = iter(range(1000))

    def _train(overrides: Sequence[str]):
        return run_training(compose_config(overrides, tmp_path / f"run{next(counter)}"))

    return _train
