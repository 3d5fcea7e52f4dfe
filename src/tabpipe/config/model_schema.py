"""The model group's schemas: one dataclass per ``conf/model/*.yaml``, each holding that
model's parameters and their defaults (the one place they are set).

OmegaConf needs ``typing.Dict`` here, not the builtin generic.
"""

from dataclasses import dataclass, field
from typing import Annotated, Any, Dict

from annotated_types import Ge
from omegaconf import MISSING

from tabpipe.config.bounds import AtLeastOne, NonNegative, NonNegativeInt, Positive, Share


@dataclass
class ModelConfig:
    """What every model config has: the class that ``hydra.utils.instantiate`` builds with the
    other keys as its parameters. Each ``conf/model/*.yaml`` selects a subclass below, which
    holds that model's parameters and their defaults (the one place they are set)."""

    _target_: str = MISSING


@dataclass
class BaselineModelConfig(ModelConfig):
    """Also the config of a user's model that takes no parameters:
    ``model=baseline model._target_=my_pkg.MyModel``."""

    _target_: str = "tabpipe.models.baseline.BaselineModel"


@dataclass
class LinearModelConfig(ModelConfig):
    _target_: str = "tabpipe.models.linear.LinearModel"
    C: Positive = 1.0
    alpha: NonNegative = 1.0
    max_iter: AtLeastOne = 1000


@dataclass
class XGBModelConfig(ModelConfig):
    _target_: str = "tabpipe.models.xgb.XGBoostModel"
    n_estimators: AtLeastOne = 500
    learning_rate: Positive = 0.05
    max_depth: NonNegativeInt = 6
    min_child_weight: NonNegative = 1.0
    subsample: Share = 0.9
    colsample_bytree: Share = 0.9
    reg_lambda: NonNegative = 1.0
    reg_alpha: NonNegative = 0.0
    gamma: NonNegative = 0.0
    max_bin: Annotated[int, Ge(2)] = 256
    early_stopping_rounds: AtLeastOne = 50
    n_jobs: int = 0
    # task=ranking: rank:ndcg, rank:pairwise or rank:map (binary relevance)
    rank_objective: str = "rank:ndcg"


@dataclass
class LGBMModelConfig(ModelConfig):
    _target_: str = "tabpipe.models.lgbm.LightGBMModel"
    n_estimators: AtLeastOne = 500
    learning_rate: Positive = 0.05
    num_leaves: Annotated[int, Ge(2)] = 31
    max_depth: int = -1
    min_child_samples: NonNegativeInt = 20
    subsample: Share = 0.9
    subsample_freq: NonNegativeInt = 1
    colsample_bytree: Share = 0.9
    reg_lambda: NonNegative = 0.0
    reg_alpha: NonNegative = 0.0
    early_stopping_rounds: AtLeastOne = 50
    n_jobs: int = 0
    # task=ranking: lambdarank or rank_xendcg
    rank_objective: str = "lambdarank"


@dataclass
class LightningModelConfig(ModelConfig):
    """A Lightning network; ``module`` is any LightningModule given by ``_target_``.

    The module is built by ``hydra.utils.instantiate(module, n_inputs=, n_outputs=, task=,
    categorical_slots=)``.
    """

    _target_: str = "tabpipe.models.lightning.LightningModel"
    module: Dict[str, Any] = field(default_factory=dict)
    batch_size: AtLeastOne = 256
    num_workers: NonNegativeInt = 0
