"""One way to build every configured component: ``hydra.utils.instantiate`` on a ``_target_``
config, as lightning-hydra-template does. Models, the Lightning module, the Trainer, its
callbacks and the metric loggers all come through :func:`build`, so a user's class plugs in
by its ``_target_`` alone. Hydra is imported on the first call, and the target's module only
when it is built (``model=xgb`` never imports torch)."""

from __future__ import annotations

from typing import Any

from tabpipe.errors import ConfigError, error_line


def build(spec: Any, key: str, /, **runtime: Any) -> Any:
    """The ``_target_`` of ``spec`` (a dataclass, dict or ``DictConfig``) called with the other
    keys, then ``runtime``: the arguments only known at run time (``n_inputs=``,
    ``callbacks=``), passed as they are, not turned into configs. Not recursive: a nested
    ``_target_`` config, such as the Lightning model's ``module``, is built by its owner once
    the data is known. A target that does not import, or does not take the arguments, is one
    line naming ``key``: ``model._target_='my.Model': TypeError: ... unexpected keyword ...``."""
    from hydra.errors import InstantiationException
    from hydra.utils import instantiate

    target = spec.get("_target_") if isinstance(spec, dict) else getattr(spec, "_target_", None)
    if not target:
        raise ConfigError(f"{key}._target_: required (the class to build)")
    try:
        factory = instantiate(spec, _partial_=True, _recursive_=False, _convert_="all")
    except InstantiationException as exc:
        raise ConfigError(f"{key}._target_={target!r}: {error_line(exc)}") from exc
    try:
        return factory(**runtime)
    except TypeError as exc:  # the arguments do not fit the target's signature
        raise ConfigError(f"{key}._target_={target!r}: {type(exc).__name__}: {exc}") from exc
