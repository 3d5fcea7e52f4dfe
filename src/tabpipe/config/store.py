"""Register the schemas in Hydra's ConfigStore under ``schema/<group>/<name>``."""

from hydra.core.config_store import ConfigStore

from tabpipe.config import schema

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


def register_configs() -> None:
    """Idempotent: storing the same node twice simply replaces it."""
    cs = ConfigStore.instance()
    for group, nodes in _GROUP_SCHEMAS.items():
        for name, node in nodes.items():
            cs.store(group=f"schema/{group}", name=name, node=node)
    cs.store(group="schema", name="train", node=schema.TrainConfig)
    cs.store(group="schema", name="serve", node=schema.ServeConfig)
    cs.store(group="schema", name="predict", node=schema.PredictConfig)
    cs.store(group="schema", name="evaluate", node=schema.EvalAppConfig)
