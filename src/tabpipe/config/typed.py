"""The boundary between Hydra's composed ``DictConfig`` and the typed dataclass schemas.

An entry point converts its composed config once (:func:`to_typed`); everything after it
receives the dataclass (or the part of it that it needs) and reads attributes, so the
defaults live in :mod:`tabpipe.config.schema` alone.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, TypeVar

from omegaconf import DictConfig, OmegaConf, open_dict
from omegaconf.errors import OmegaConfBaseException

from tabpipe.errors import ConfigError, error_line

T = TypeVar("T")


def to_typed(cfg: DictConfig | T, schema: type[T]) -> T:
    """``cfg`` as an instance of its schema dataclass, interpolations resolved (Hydra's own
    ``hydra`` node, which ``compose(return_hydra_config=True)`` adds, is left out)."""
    if isinstance(cfg, schema):
        return cfg
    if "hydra" in cfg:
        cfg = cfg.copy()
        with open_dict(cfg):
            del cfg["hydra"]
    typed = OmegaConf.to_object(cfg)
    if not isinstance(typed, schema):
        raise TypeError(f"expected a config of {schema.__name__}, got {type(typed).__name__}")
    return typed


def as_dict(cfg: object, enum_to_str: bool = False) -> dict[str, Any]:
    """A typed config (or a ``DictConfig``) as plain, resolved containers, e.g. for a run's
    metadata or a logger's config."""
    node = cfg if isinstance(cfg, DictConfig) else OmegaConf.structured(cfg)
    return OmegaConf.to_container(node, resolve=True, enum_to_str=enum_to_str)  # type: ignore[return-value]


def as_yaml(cfg: object) -> str:
    """A typed config (or a ``DictConfig``) as resolved YAML."""
    return OmegaConf.to_yaml(cfg, resolve=True)


def from_record(values: Mapping[str, Any], schema: type[T]) -> T:
    """A config recorded in a bundle or a run (a plain dict, perhaps from another tabpipe
    version) as an instance of its schema: keys the schema no longer knows are left out, keys
    it did not record take their defaults; a value of the wrong type is one line."""
    known = {f.name for f in dataclasses.fields(schema)}  # type: ignore[arg-type]
    try:
        node = OmegaConf.merge(OmegaConf.structured(schema), {k: v for k, v in values.items() if k in known})
        return OmegaConf.to_object(node)  # type: ignore[return-value]
    except OmegaConfBaseException as exc:
        raise ConfigError(f"recorded config: {error_line(exc)}") from exc
