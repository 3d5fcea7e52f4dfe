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
    """The model class (a user's own model plugs in here)."""


@dataclass
class BaselineModelConfig(ModelConfig):
    """Also the config of a user's model that takes no parameters:
    ``model=baseline model._target_=my_pkg.MyModel``."""

    _target_: str = "tabpipe.models.baseline.BaselineModel"
    """The model class: the task's baseline (class priors, the train mean, the best single
    feature)."""


@dataclass
class LinearModelConfig(ModelConfig):
    """scikit-learn's logistic regression (classification) or ridge regression."""

    _target_: str = "tabpipe.models.linear.LinearModel"
    """The model class."""
    C: Positive = 1.0
    """Inverse regularisation strength of the logistic regression."""
    alpha: NonNegative = 1.0
    """Regularisation strength of the ridge regression."""
    max_iter: AtLeastOne = 1000
    """Solver iterations at most."""


@dataclass
class XGBModelConfig(ModelConfig):
    """XGBoost (native ``xgboost.train``, hist), early stopping on the validation split."""

    _target_: str = "tabpipe.models.xgb.XGBoostModel"
    """The model class."""
    n_estimators: AtLeastOne = 500
    """Boosting rounds at most."""
    learning_rate: Positive = 0.05
    """Shrinkage of each tree (eta)."""
    max_depth: NonNegativeInt = 6
    """Depth of a tree at most (0: no limit)."""
    min_child_weight: NonNegative = 1.0
    """Hessian weight a leaf needs at least."""
    subsample: Share = 0.9
    """Share of the rows sampled for each tree."""
    colsample_bytree: Share = 0.9
    """Share of the features sampled for each tree."""
    reg_lambda: NonNegative = 1.0
    """L2 regularisation of the leaf weights."""
    reg_alpha: NonNegative = 0.0
    """L1 regularisation of the leaf weights."""
    gamma: NonNegative = 0.0
    """Loss reduction a split needs at least."""
    max_bin: Annotated[int, Ge(2)] = 256
    """Histogram bins per feature."""
    early_stopping_rounds: AtLeastOne = 50
    """Stop after this many rounds without improvement on the validation split."""
    n_jobs: int = 0
    """Threads; 0: the CPU count."""
    rank_objective: str = "rank:ndcg"
    """task=ranking: rank:ndcg, rank:pairwise or rank:map (binary relevance)."""


@dataclass
class LGBMModelConfig(ModelConfig):
    """LightGBM, early stopping on the validation split."""

    _target_: str = "tabpipe.models.lgbm.LightGBMModel"
    """The model class."""
    n_estimators: AtLeastOne = 500
    """Boosting rounds at most."""
    learning_rate: Positive = 0.05
    """Shrinkage of each tree."""
    num_leaves: Annotated[int, Ge(2)] = 31
    """Leaves of a tree at most."""
    max_depth: int = -1
    """Depth of a tree at most (-1: no limit)."""
    min_child_samples: NonNegativeInt = 20
    """Rows a leaf needs at least."""
    subsample: Share = 0.9
    """Share of the rows sampled (bagging)."""
    subsample_freq: NonNegativeInt = 1
    """Bag every N rounds (0: no bagging)."""
    colsample_bytree: Share = 0.9
    """Share of the features sampled for each tree."""
    reg_lambda: NonNegative = 0.0
    """L2 regularisation."""
    reg_alpha: NonNegative = 0.0
    """L1 regularisation."""
    early_stopping_rounds: AtLeastOne = 50
    """Stop after this many rounds without improvement on the validation split."""
    n_jobs: int = 0
    """Threads; 0: the CPU count."""
    rank_objective: str = "lambdarank"
    """task=ranking: lambdarank or rank_xendcg."""


@dataclass
class LightningModelConfig(ModelConfig):
    """A Lightning network; ``module`` is any LightningModule given by ``_target_``.

    The module is built by ``hydra.utils.instantiate(module, n_inputs=, n_outputs=, task=,
    categorical_slots=)``.
    """

    _target_: str = "tabpipe.models.lightning.LightningModel"
    """The model class."""
    module: Dict[str, Any] = field(default_factory=dict)
    """The network: a ``_target_`` LightningModule and its parameters (model=mlp:
    tabpipe.models.mlp.TabularMLP)."""
    batch_size: AtLeastOne = 256
    """Rows per batch."""
    num_workers: NonNegativeInt = 0
    """DataLoader worker processes."""
