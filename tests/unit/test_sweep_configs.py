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


def test_a_value_under_a_key_another_override_sets_is_composed_in_full(loaders: tuple) -> None:
    hydra_loader, _, master = loaders
    once = TrialConfigLoader(hydra_loader)
    once.vary(["+eval.threshold.default", *PER_TRIAL_KEYS])  # '+' prefixes are not part of the key
    assert "eval.threshold.default" in once.varying
    whole = "eval.threshold={strategy: f1, default: 0.5, cost: {tp: 0.0, fp: 2.0, fn: 1.0, tn: 0.0}}"
    overrides = [*trial(0, 4), "eval.threshold.default=0.3", whole]
    got = once.load_sweep_config(master, overrides)
    assert as_dict(got) == as_dict(hydra_loader.load_sweep_config(master, overrides))
    assert got.eval.threshold.default == 0.5 and not once.templates  # Hydra's order: the later wins


def test_only_a_joblib_launcher_with_enough_workersrefills_slots() -> None:
    from hydra._internal.core_plugins.basic_launcher import BasicLauncher
    from hydra_plugins.hydra_joblib_launcher.joblib_launcher import JoblibLauncher

    from tabpipe.tuning.joblib_slots import refills_slots

    assert refills_slots(JoblibLauncher(n_jobs=2), 2)
    assert not refills_slots(JoblibLauncher(n_jobs=1), 2)  # joblib would run jobs in our thread
    assert not refills_slots(JoblibLauncher(n_jobs=2), 1)
    assert not refills_slots(BasicLauncher(), 2)
