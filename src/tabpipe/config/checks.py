"""Checks on a composed config that Hydra's composition alone lets through or words poorly:
required values left ``???``, interpolations that do not resolve, keys appended with ``+``
to a schema-backed node, values outside their schema's range, and unknown keys (with the
closest valid key, by :mod:`difflib`)."""

from __future__ import annotations

import dataclasses
import difflib
import typing
from collections.abc import Iterable
from enum import Enum
from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import (
    ConfigAttributeError,
    ConfigKeyError,
    InterpolationResolutionError,
    OmegaConfBaseException,
    ValidationError,
)

from tabpipe.config.ranges import range_problems
from tabpipe.errors import error_line


def unknown_key_line(full_key: str, schema: type) -> str:
    """``model.max_dept: unknown key of XGBModelConfig; did you mean model.max_depth?``"""
    parent, _, key = full_key.rpartition(".")
    names = [f.name for f in dataclasses.fields(schema) if not f.name.startswith("_")]
    close = difflib.get_close_matches(key, names, n=1)
    hint = (
        f"did you mean {parent + '.' if parent else ''}{close[0]}?" if close else f"keys: {', '.join(names)}"
    )
    return f"{full_key}: unknown key of {schema.__name__}; {hint}"


def _field_enum(schema: type, field: str) -> type[Enum] | None:
    """The :class:`~enum.Enum` a schema field takes (also when ``Optional``), else None."""
    hint = typing.get_type_hints(schema).get(field)
    for option in (hint, *typing.get_args(hint)):
        if isinstance(option, type) and issubclass(option, Enum):
            return option
    return None


def enum_choice_line(full_key: str, value: Any, choices: type[Enum]) -> str:
    """``rows=bogus: not a valid choice; choose one of: all, test``"""
    allowed = ", ".join(str(member.value) for member in choices)
    return f"{full_key}={value}: not a valid choice; choose one of: {allowed}"


def describe(exc: BaseException) -> str:
    """One line for a Hydra/OmegaConf composition error: an unknown key of a schema names
    the closest valid key, a value outside an enum field's choices lists them; anything
    else keeps its cause (:func:`tabpipe.errors.error_line`)."""
    cause = exc.__cause__ if exc.__cause__ is not None else exc
    schema = getattr(cause, "object_type", None)
    full_key = getattr(cause, "full_key", None)
    if full_key and dataclasses.is_dataclass(schema):
        if isinstance(cause, (ConfigKeyError, ConfigAttributeError)):
            return unknown_key_line(str(full_key), schema)
        choices = _field_enum(schema, str(full_key).rpartition(".")[2])
        if isinstance(cause, ValidationError) and choices is not None:
            return enum_choice_line(str(full_key), getattr(cause, "value", "?"), choices)
    # the first line only: Hydra's second suggests `+key=value`, which would bypass the schema
    return error_line(exc)


def _appended_keys(overrides: Iterable[str]) -> list[str]:
    """The keys of ``+key=value`` and ``++key=value`` overrides."""
    keys = []
    for override in overrides:
        if not override.startswith("+") or "=" not in override:
            continue
        key = override.lstrip("+").partition("=")[0]
        if "@" in key or "/" in key or key.startswith("hydra."):
            continue  # config group selections and Hydra's own keys
        keys.append(key)
    return keys


def appended_key_problems(cfg: DictConfig, overrides: Iterable[str]) -> list[str]:
    """``+model.foo=1`` adds a key past the schema; refused like ``model.foo=1``. Keys added
    to free-form dicts (``+data.schema.tenure=...``, ``+logger.tb=...``) are fine."""
    problems = []
    for key in _appended_keys(overrides):
        parent_key, _, leaf = key.rpartition(".")
        parent = OmegaConf.select(cfg, parent_key) if parent_key else cfg
        if not isinstance(parent, DictConfig):
            continue
        schema = OmegaConf.get_type(parent)
        if dataclasses.is_dataclass(schema) and leaf not in {f.name for f in dataclasses.fields(schema)}:
            problems.append(unknown_key_line(key, schema))
    return problems


def config_problems(cfg: DictConfig, overrides: Iterable[str] = ()) -> list[str]:
    """Every problem of a composed config (without its ``hydra`` node), one line each."""
    # Hydra's own node holds run-time values (hydra.job.num, ...) that compose() leaves unset
    body = OmegaConf.masked_copy(cfg, [k for k in cfg if k != "hydra"]) if "hydra" in cfg else cfg
    try:
        missing = sorted(OmegaConf.missing_keys(body))
        if missing:
            return [f"{missing[0]}: required (pass {missing[0]}=...)"]
        OmegaConf.to_container(body, resolve=True)
    except InterpolationResolutionError as exc:
        key = getattr(exc, "full_key", "") or ""
        return [f"{key}: {error_line(exc)}" if key else error_line(exc)]
    except OmegaConfBaseException as exc:
        return [describe(exc)]
    return [*appended_key_problems(cfg, overrides), *range_problems(cfg, exclude=("hydra",))]


def sweeper_problems(cfg: DictConfig) -> list[str]:
    """Range problems of ``hydra.sweeper`` (e.g. ``hydra.sweeper.n_trials=-5``)."""
    sweeper = OmegaConf.select(cfg, "hydra.sweeper")
    return range_problems(sweeper, "hydra.sweeper.") if isinstance(sweeper, DictConfig) else []
