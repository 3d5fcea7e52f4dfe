"""The boundary between Hydra's composed ``DictConfig`` and the typed dataclass schemas.

An entry point converts its composed config once (:func:`to_typed`); everything after it
receives the dataclass (or the part of it that it needs) and reads attributes, so the
defaults live in :mod:`tabpipe.config.schema` alone.
"""

from __future__ import annotations

from typing import Any, TypeVar

from omegaconf import DictConfig, OmegaConf, open_dict

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
