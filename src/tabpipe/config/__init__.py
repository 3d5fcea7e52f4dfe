"""Structured-config schemas for every config group (dataclasses in Hydra's ConfigStore)."""

from typing import Any


def option_value(option: Any) -> str:
    """An enum-typed config value (or a plain string) as its string value."""
    return str(getattr(option, "value", option))
