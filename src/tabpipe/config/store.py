"""Register the schemas in Hydra's ConfigStore under ``schema/<group>/<name>``."""

from hydra.core.config_store import ConfigStore
from omegaconf import OmegaConf

from tabpipe.config import app_schema, schema

_GROUP_SCHEMAS = {
    "data": {"data": schema.DataConfig},
    "features": {"features": schema.FeaturesConfig},
    "split": {"split": schema.SplitConfig},
    "trainer": {"trainer": schema.TrainerConfig},
    "paths": {"paths": schema.PathsConfig},
    "model": {
        "baseline": schema.BaselineModelConfig,
        "linear": schema.LinearModelConfig,
        "xgb": schema.XGBModelConfig,
        "lgbm": schema.LGBMModelConfig,
        "lightning": schema.LightningModelConfig,
    },
}


def run_dir(default: str) -> str:
    """``${tabpipe.run_dir:<default>}``: the Hydra run directory inside a Hydra app, else
    ``default``. A plain ``compose()`` (DVC's ``exp run``, the tests) has no run directory,
    and Hydra's own ``${hydra:runtime.output_dir}`` cannot resolve there."""
    from hydra.core.hydra_config import HydraConfig

    return str(HydraConfig.get().runtime.output_dir) if HydraConfig.initialized() else default


def project_root() -> str:
    """``${tabpipe.project_root:}``: the discovered project's root (:mod:`.project`), where
    every run writes (``paths.root_dir``)."""
    from tabpipe.config.project import find_project

    return str(find_project().root)


def register_configs() -> None:
    """Idempotent: storing the same node twice simply replaces it."""
    if not OmegaConf.has_resolver("tabpipe.run_dir"):
        OmegaConf.register_new_resolver("tabpipe.run_dir", run_dir)
    if not OmegaConf.has_resolver("tabpipe.project_root"):
        OmegaConf.register_new_resolver("tabpipe.project_root", project_root)
    cs = ConfigStore.instance()
    for group, nodes in _GROUP_SCHEMAS.items():
        for name, node in nodes.items():
            cs.store(group=f"schema/{group}", name=name, node=node)
    cs.store(group="schema", name="train", node=schema.TrainConfig)
    cs.store(group="schema", name="serve", node=app_schema.ServeConfig)
    cs.store(group="schema", name="predict", node=app_schema.PredictConfig)
    cs.store(group="schema", name="monitor", node=app_schema.MonitorConfig)
    cs.store(group="schema", name="evaluate", node=app_schema.EvalAppConfig)
