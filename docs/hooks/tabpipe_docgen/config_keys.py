"""Every key of a config schema (a dataclass), with its type, default, range and description.

The description of a field is its attribute docstring, the string literal under it::

    seed: Annotated[int, Interval(ge=0, lt=2**32)] = 42
    \"\"\"Seeds every random generator: splits, models, bootstrap.\"\"\"

read with griffe (the library mkdocstrings reads docstrings with), so OmegaConf's structured
configs are untouched. An inherited field takes the docstring from the class that declares it.
The range is the :mod:`annotated_types` metadata that :mod:`tabpipe.config.ranges` checks.
"""

from __future__ import annotations

import dataclasses
import enum
import sys
import types
import typing
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from omegaconf import MISSING

from tabpipe.config.ranges import field_rules


@dataclass(frozen=True)
class Key:
    """One leaf key of a schema, under its dotted path."""

    path: str
    type: str
    default: Any  # MISSING: required
    range: str
    description: str
    owner: str  # module.Class that declares the field
    section: bool = False  # a nested schema, whose keys follow

    @property
    def required(self) -> bool:
        return self.default is MISSING


@cache
def _griffe_module(name: str) -> Any:
    """The module's source visited by griffe: that one file, not its package."""
    import griffe

    path = Path(sys.modules[name].__file__)
    return griffe.visit(name, path, path.read_text())


def description(cls: type, name: str) -> str:
    """The attribute docstring of field ``name`` of ``cls`` (or of the base class that
    declares it); empty when it has none."""
    for klass in cls.__mro__:
        if name not in getattr(klass, "__annotations__", {}):
            continue
        members = _griffe_module(klass.__module__)[klass.__qualname__].members
        member = members.get(name)
        return member.docstring.value.strip() if member is not None and member.docstring else ""
    return ""


def _unwrap(hint: Any) -> tuple[Any, bool]:
    """``(the type inside Optional[...], whether None is allowed)``."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return hint, False


def type_text(hint: Any) -> str:
    """``int``, ``float or null``, ``list of str``, ``one of: a, b`` ..."""
    inner, nullable = _unwrap(hint)
    if typing.get_origin(inner) is typing.Annotated:
        inner = typing.get_args(inner)[0]
    origin, args = typing.get_origin(inner), typing.get_args(inner)
    if isinstance(inner, type) and issubclass(inner, enum.Enum):
        text = "one of: " + ", ".join(str(m.value) for m in inner)
    elif origin in (list, typing.List):  # noqa: UP006 -- the schemas spell it typing.List
        text = f"list of {type_text(args[0])}" if args else "list"
    elif origin in (dict, typing.Dict):  # noqa: UP006
        text = "mapping"
    elif inner is Any:
        text = "any"
    elif dataclasses.is_dataclass(inner):
        text = inner.__name__
    else:
        text = getattr(inner, "__name__", str(inner))
    return f"{text} or null" if nullable else text


def _default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return MISSING


def _nested(hint: Any) -> type | None:
    inner, _ = _unwrap(hint)
    return inner if isinstance(inner, type) and dataclasses.is_dataclass(inner) else None


def schema_keys(cls: type, prefix: str = "", expand: bool = True) -> list[Key]:
    """The keys of ``cls`` in declaration order; a field typed by another schema is expanded
    into its own keys (``eval.threshold.strategy``) unless ``expand`` is false."""
    hints = typing.get_type_hints(cls, include_extras=True)
    rules = field_rules(cls)
    keys: list[Key] = []
    for f in dataclasses.fields(cls):
        path, hint = f"{prefix}{f.name}", hints[f.name]
        nested = _nested(hint)
        key = _key(cls, f, path, hint, rules)
        if nested is not None and expand and _default(f) is not None:
            keys += [dataclasses.replace(key, type="section", section=True), *schema_keys(nested, f"{path}.")]
            continue
        keys.append(key)
    return keys


def _key(cls: type, f: dataclasses.Field, path: str, hint: Any, rules: dict) -> Key:
    bounds = " and ".join(f"{symbol} {bound}" for _, bound, symbol in rules.get(f.name, ()))
    default = _default(f)
    owner = next(k for k in cls.__mro__ if f.name in getattr(k, "__annotations__", {}))
    return Key(path, type_text(hint), default, bounds, description(cls, f.name), owner.__qualname__)


def undescribed(schemas: typing.Iterable[type]) -> list[str]:
    """``Class.field`` for every field of ``schemas`` (and of the schemas they nest) that has
    no description."""
    missing: list[str] = []
    seen: set[type] = set()
    stack = list(schemas)
    while stack:
        cls = stack.pop()
        if cls in seen:
            continue
        seen.add(cls)
        hints = typing.get_type_hints(cls, include_extras=True)
        for f in dataclasses.fields(cls):
            if not description(cls, f.name):
                owner = next(k for k in cls.__mro__ if f.name in getattr(k, "__annotations__", {}))
                missing.append(f"{owner.__module__}.{owner.__qualname__}.{f.name}")
            if (nested := _nested(hints[f.name])) is not None:
                stack.append(nested)
    return sorted(set(missing))
