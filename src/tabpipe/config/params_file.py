"""The composition of ``conf/`` that the DVC stages read (``pipeline/config/config.yaml``),
loaded and checked against the config schemas. Its writers and the other files DVC reads
are :mod:`tabpipe.pipeline.dvc_params`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from tabpipe.config import schema
from tabpipe.config.ranges import range_problems
from tabpipe.errors import ConfigError, first_line

# the overrides the file was composed with (`dvc exp run -S ...`; none: `tabpipe params`)
OVERRIDES_KEY = "dvc_overrides"
# the groups whose options share one schema; model is checked by its _target_ below
_GROUP_SCHEMAS = {
    "data": schema.DataConfig,
    "features": schema.FeaturesConfig,
    "split": schema.SplitConfig,
    "trainer": schema.TrainerConfig,
    "paths": schema.PathsConfig,
}
_MODEL_SCHEMAS = (
    schema.BaselineModelConfig,
    schema.LinearModelConfig,
    schema.XGBModelConfig,
    schema.LGBMModelConfig,
    schema.LightningModelConfig,
)


def _checked(section: str, schema_cls: type, values: Any, source: str = "params.yaml") -> DictConfig:
    """``values`` merged onto ``schema_cls`` (typed); a key or type it refuses is one line."""
    try:
        return OmegaConf.merge(OmegaConf.structured(schema_cls), values)
    except OmegaConfBaseException as exc:
        key = f"{section}.{exc.full_key}" if getattr(exc, "full_key", None) else section
        raise ConfigError(f"{source}: {key}: {first_line(exc)} (conf/ does not know it)") from exc


def _model_schema(cfg: DictConfig) -> type | None:
    target = OmegaConf.select(cfg, "model._target_")
    matches = [cls for cls in _MODEL_SCHEMAS if cls._target_ == target]
    return matches[0] if target is not None and matches else None


def params_range_problems(cfg: DictConfig) -> list[str]:
    """One line per value of a loaded, resolved composition outside its schema's range
    (``model.learning_rate=-1.0: out of range; must be > 0``), as ``python train.py`` and
    ``dvc exp run -S`` refuse it: for a hand-edited or stale file run by ``tabpipe stage``."""
    root = {k: v for k, v in cfg.items() if k not in (*_GROUP_SCHEMAS, "model", "hydra")}
    problems = range_problems(
        _checked("params", schema.TrainConfig, root), exclude=(*_GROUP_SCHEMAS, "model")
    )
    sections = [(name, cls) for name, cls in _GROUP_SCHEMAS.items() if cfg.get(name) is not None]
    model_schema = _model_schema(cfg)
    if model_schema is not None:
        sections.append(("model", model_schema))
    for section, schema_cls in sections:
        problems += range_problems(_checked(section, schema_cls, cfg[section]), f"{section}.")
    return problems


def load_params(path: Path) -> DictConfig:
    """The composition at ``path`` checked against the config schemas: a key that conf/ does
    not know, or a value of the wrong type, is one line naming the file and the key."""
    from tabpipe.config.store import register_configs

    register_configs()  # the ${tabpipe.run_dir:...} resolver
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: not found; run `tabpipe params` to write it from conf/")
    cfg = OmegaConf.load(path)
    if not isinstance(cfg, DictConfig):
        raise ConfigError(f"{path}: not a mapping of config keys")
    root = {k: v for k, v in cfg.items() if k not in (*_GROUP_SCHEMAS, "model", OVERRIDES_KEY)}
    _checked("params", schema.TrainConfig, root, str(path))
    for section, schema_cls in _GROUP_SCHEMAS.items():
        if cfg.get(section) is not None:
            _checked(section, schema_cls, cfg[section], str(path))
    model_schema = _model_schema(cfg)
    if model_schema is not None:
        _checked("model", model_schema, cfg.model, str(path))
    cfg.pop(OVERRIDES_KEY, None)  # a record of how the file was written, not a config key
    return cfg
