"""Value ranges of the config schemas, checked after composition and before anything runs.

A schema field declares its range with :mod:`annotated_types` metadata, which OmegaConf
ignores and this module reads::

    learning_rate: Annotated[float, Gt(0)] = 0.05
    val_fraction: Annotated[float, Interval(gt=0, lt=1)] = 0.15

:func:`range_problems` walks a composed config, finds every node typed by a schema
dataclass and returns one line per value outside its declared range.
"""

from __future__ import annotations

import dataclasses
import operator
import typing
from collections.abc import Callable, Collection, Iterator
from functools import cache
from typing import Any

import annotated_types as at
from omegaconf import DictConfig, ListConfig, OmegaConf

# (metadata class, its attribute, the comparison a valid value passes, the rule's symbol)
_BOUNDS: tuple[tuple[type, str, Callable[[Any, Any], bool], str], ...] = (
    (at.Gt, "gt", operator.gt, ">"),
    (at.Ge, "ge", operator.ge, ">="),
    (at.Lt, "lt", operator.lt, "<"),
    (at.Le, "le", operator.le, "<="),
)


def _constraints(metadata: tuple[Any, ...]) -> Iterator[tuple[Callable[[Any, Any], bool], Any, str]]:
    for item in metadata:
        parts = list(item) if isinstance(item, at.GroupedMetadata) else [item]
        for part in parts:
            for kind, attr, compare, symbol in _BOUNDS:
                if isinstance(part, kind):
                    yield compare, getattr(part, attr), symbol


@cache
def field_rules(schema: type) -> dict[str, tuple[tuple[Callable[[Any, Any], bool], Any, str], ...]]:
    """``{field: ((compare, bound, symbol), ...)}`` for the fields of ``schema`` that declare
    a range."""
    hints = typing.get_type_hints(schema, include_extras=True)
    rules = {}
    for name, hint in hints.items():
        # Optional[Annotated[...]] is a Union holding the Annotated type
        for option in (hint, *typing.get_args(hint)):
            if typing.get_origin(option) is typing.Annotated:
                found = tuple(_constraints(option.__metadata__))
                if found:
                    rules[name] = found
                break
    return rules


def _rule_text(rules: tuple[tuple[Callable[[Any, Any], bool], Any, str], ...]) -> str:
    return " and ".join(f"{symbol} {bound}" for _, bound, symbol in rules)


def range_problems(cfg: Any, prefix: str = "", exclude: Collection[str] = ()) -> list[str]:
    """One ``key=value: out of range; must be > 0`` line per value outside its schema's
    declared range; top-level keys in ``exclude`` are skipped."""
    if isinstance(cfg, DictConfig):
        return _dict_problems(cfg, prefix, exclude)
    if isinstance(cfg, ListConfig):
        return [
            problem
            for index, item in enumerate(cfg)
            if isinstance(item, (DictConfig, ListConfig))
            for problem in range_problems(item, f"{prefix}{index}.")
        ]
    return []


def _dict_problems(cfg: DictConfig, prefix: str, exclude: Collection[str]) -> list[str]:
    schema = OmegaConf.get_type(cfg)
    rules = field_rules(schema) if dataclasses.is_dataclass(schema) else {}
    problems: list[str] = []
    for key in cfg:
        if key in exclude or OmegaConf.is_missing(cfg, key):
            continue
        path = f"{prefix}{key}"
        node = cfg._get_node(key)
        if isinstance(node, (DictConfig, ListConfig)):
            if cfg[key] is not None:  # an Optional[List] or dataclass set to null has no items
                problems += range_problems(node, f"{path}.")
        elif checks := rules.get(str(key)):
            problems += _out_of_range(path, cfg[key], checks)
    return problems


def _out_of_range(
    path: str, value: Any, checks: tuple[tuple[Callable[[Any, Any], bool], Any, str], ...]
) -> list[str]:
    if value is None or isinstance(value, bool) or all(compare(value, bound) for compare, bound, _ in checks):
        return []
    return [f"{path}={value}: out of range; must be {_rule_text(checks)}"]
