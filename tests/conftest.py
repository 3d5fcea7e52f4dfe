"""Fixtures shared by every tier (tests/unit, tests/integration, tests/e2e).

The tier marker of a test comes from its folder; every e2e test (a subprocess of tabpipe) is
also ``slow``, so ``pytest -m "not slow"`` is the quick loop.

One small, real model per task is trained once per session (per xdist worker) and shared by
every module that only needs *a* trained bundle: :func:`binary_bundle`, :func:`multiclass_bundle`,
:func:`regression_bundle`, :func:`ranking_bundle`. They are read-only: a test that registers,
promotes or deletes works on :meth:`Trained.registry_copy`.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from helpers import QUICK, compose_config

TIERS = ("unit", "integration", "e2e")

# small but real: each passes the baseline gate, exports, and is registered as <name>:1
RECIPES = {
    # profile_bins=5: the monitoring tests check that the configured bins are honoured
    "binary": ["model=xgb", "model.n_estimators=40", "seed=0", "export.profile_bins=5"],
    # a real multiclass run draws its plots (the confusion matrix of three and more classes)
    "multiclass": [
        *["data=seattle_weather", "split=temporal", "model=xgb", "model.n_estimators=20"],
        "eval.plots=true",
    ],
    "regression": ["data=sklearn", "data.name=diabetes", "data.task=regression", "model=xgb"],
    # test_ranking checks the ranking plots of this run
    "ranking": ["data=telco_cohorts", "model=xgb", "model.n_estimators=40", "seed=0", "eval.plots=true"],
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        tier = item.path.parent.name
        if tier in TIERS:
            item.add_marker(tier)
            if tier == "e2e":
                item.add_marker("slow")


@pytest.fixture
def train(tmp_path: Path) -> Callable:
    """Run the training pipeline in-process on composed overrides (after :data:`QUICK`);
    returns the result."""
    from tabpipe.training.train import run_training

    counter = iter(range(1000))

    def _train(overrides: Sequence[str]):
        return run_training(compose_config([*QUICK, *overrides], tmp_path / f"run{next(counter)}"))

    return _train


@dataclass(frozen=True)
class Trained:
    """A run trained once per session and registered as ``ref`` in ``registry``. Shared:
    never write into it."""

    result: Any  # tabpipe.training.train.TrainingResult
    registry: Path
    name: str

    @property
    def ref(self) -> str:
        return f"{self.name}:1"

    @property
    def bundle(self) -> Path:
        return self.result.bundle

    @property
    def output_dir(self) -> Path:
        return self.result.output_dir

    def registry_copy(self, target: Path) -> Path:
        """A private, writable copy of the registry (for tests that register or promote)."""
        shutil.copytree(self.registry, target, symlinks=True)
        return target


def _train_once(factory: pytest.TempPathFactory, task: str) -> Trained:
    from tabpipe.training.train import run_training

    base = factory.mktemp(f"shared-{task}")
    result = run_training(compose_config([*QUICK, *RECIPES[task]], base / "run"))
    return Trained(result, Path(result.registered["root"]), result.registered["name"])


@pytest.fixture(scope="session")
def binary_bundle(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    """telco_churn (xgb, 40 rounds, 5 profile bins): ``telco_churn:1``."""
    return _train_once(tmp_path_factory, "binary")


@pytest.fixture(scope="session")
def multiclass_bundle(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    """seattle_weather (a datetime column, temporal split, xgb 20 rounds): ``seattle_weather:1``."""
    return _train_once(tmp_path_factory, "multiclass")


@pytest.fixture(scope="session")
def regression_bundle(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    """scikit-learn's diabetes (xgb): ``diabetes:1``."""
    return _train_once(tmp_path_factory, "regression")


@pytest.fixture(scope="session")
def ranking_bundle(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    """telco_cohorts (query id ``tenure``, xgb rank:ndcg, 40 rounds): ``telco_cohorts:1``."""
    return _train_once(tmp_path_factory, "ranking")
