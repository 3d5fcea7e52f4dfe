"""A sweep's trial configs: composed once, then the sampled values applied, must equal what
Hydra composes from scratch for the same overrides (the real conf/ and config loader)."""

from __future__ import annotations

import pickle

import pytest
from hydra._internal.config_loader_impl import ConfigLoaderImpl
from hydra._internal.utils import create_config_search_path
from hydra.types import RunMode
from omegaconf import OmegaConf

from helpers import CONF
from tabpipe.config.store import register_configs
from tabpipe.tuning.sweep import PER_TRIAL_KEYS
from tabpipe.tuning.trial_configs import TrialConfigLoader

SEARCH = ("model.learning_rate", "model.max_depth", "model")
FIXED = ["hparams_search=xgb_optuna", "data=telco_churn", "export.onnx=false", "logger=none"]


def trial(number: int, depth: int, *extra: str) -> list[str]:
    return [
        *FIXED,
        f"model.learning_rate={0.01 * (number + 1)}",
        f"model.max_depth={depth}",
        *extra,
        f"hydra.sweep.subdir={number}",
        f"optuna.trial_number={number}",
        f"tracking.run_name='xgb_optuna-trial-{number}'",
    ]


@pytest.fixture(scope="module")
def loaders() -> tuple[ConfigLoaderImpl, TrialConfigLoader, object]:
    register_configs()
    hydra_loader = ConfigLoaderImpl(config_search_path=create_config_search_path(str(CONF)))
    master = hydra_loader.load_configuration("train", FIXED, run_mode=RunMode.MULTIRUN)
    once = TrialConfigLoader(hydra_loader)
    once.vary([*SEARCH, *PER_TRIAL_KEYS])
    return hydra_loader, once, master


def as_dict(config: object) -> dict:
    return OmegaConf.to_container(config, resolve=False)  # type: ignore[arg-type]


@pytest.mark.parametrize("number,depth", [(0, 3), (1, 7), (5, 10)])
def test_a_trial_config_equals_hydras_full_composition(loaders: tuple, number: int, depth: int) -> None:
    hydra_loader, once, master = loaders
    overrides = trial(number, depth)
    expected = hydra_loader.load_sweep_config(master, overrides)
    got = once.load_sweep_config(master, overrides)
    assert as_dict(got) == as_dict(expected)
    assert got.model.max_depth == depth and got.optuna.trial_number == number
    assert got.hydra.job.override_dirname == expected.hydra.job.override_dirname
    assert len(once.templates) == 1  # every trial reused the one composition


def test_trials_do_not_share_state(loaders: tuple) -> None:
    _, once, master = loaders
    first = once.load_sweep_config(master, trial(0, 4))
    second = once.load_sweep_config(master, trial(1, 9))
    assert (first.model.max_depth, second.model.max_depth) == (4, 9)
    assert first.hydra.overrides.task != second.hydra.overrides.task


def test_a_config_group_parameter_is_composed_in_full(loaders: tuple) -> None:
    hydra_loader, once, master = loaders
    overrides = trial(2, 5, "model=lgbm")
    got = once.load_sweep_config(master, overrides)
    assert got.model._target_.endswith("LightGBMModel")
    assert as_dict(got) == as_dict(hydra_loader.load_sweep_config(master, overrides))


def test_the_template_travels_to_joblib_workers_pickled(loaders: tuple) -> None:
    _, once, master = loaders
    once.load_sweep_config(master, trial(0, 3))
    copy = pickle.loads(pickle.dumps(once))
    assert copy.templates.keys() == once.templates.keys()
    assert copy.load_sweep_config(master, trial(3, 6)).model.max_depth == 6
