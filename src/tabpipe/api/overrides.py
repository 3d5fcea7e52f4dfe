"""Overrides given to the API as Python values, written as the command line's ``key=value``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tabpipe.errors import ConfigError
from tabpipe.tracking.reproduce import override_text

Overrides = Sequence[str] | Mapping[str, Any]


def override_value(value: Any) -> str:
    """A Python value as Hydra override text (``None`` -> null, lists as ``[a,b]``, text
    quoted when it holds characters Hydra's grammar would parse, as ``tabpipe reproduce``
    quotes a path)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(override_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{k}:{override_value(v)}" for k, v in value.items()) + "}"
    return override_text(str(value))


def override_list(overrides: Overrides) -> list[str]:
    """``["model=lgbm", "seed=7"]`` as given; a mapping ``{"model": "lgbm", "seed": 7}`` as
    ``key=value`` overrides (a nested mapping under a key sets its sub-keys:
    ``{"model": {"max_depth": 4}}`` is ``model.max_depth=4``)."""
    if isinstance(overrides, str):
        raise ConfigError(f"overrides={overrides!r}: give a list of key=value strings or a dict")
    if not isinstance(overrides, Mapping):
        return [str(o) for o in overrides]
    flat: list[str] = []

    def walk(prefix: str, node: Mapping[str, Any]) -> None:
        for key, value in node.items():
            name = f"{prefix}{key}"
            if isinstance(value, Mapping) and value:
                walk(f"{name}.", value)
            else:
                flat.append(f"{name}={override_value(value)}")

    walk("", overrides)
    return flat
