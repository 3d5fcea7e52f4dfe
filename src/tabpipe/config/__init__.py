"""Structured-config schemas for every config group (dataclasses in Hydra's ConfigStore)."""

from typing import Any


def option_value(option: Any) -> str:
    """An enum-typed config value (or a plain string) as its string value."""
    return str(getattr(option, "value", option))


def is_sweep_trial(cfg: Any) -> bool:
    """A job the sweeper launched as a trial (it sets ``optuna.trial_number``): it prints one
    result line and never registers."""
    identity = cfg.get("optuna")
    return identity is not None and identity.get("trial_number") is not None
