"""Structured-config schemas for every config group (dataclasses in Hydra's ConfigStore)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tabpipe.config.schema import TrainConfig


def option_value(option: Any) -> str:
    """An enum-typed config value (or a plain string) as its string value."""
    return str(getattr(option, "value", option))


def is_sweep_trial(cfg: TrainConfig) -> bool:
    """A job the sweeper launched as a trial (it sets ``optuna.trial_number``): it prints one
    result line and never registers. ``cfg`` is a ``TrainConfig`` (or its ``DictConfig``)."""
    return cfg.optuna.trial_number is not None
