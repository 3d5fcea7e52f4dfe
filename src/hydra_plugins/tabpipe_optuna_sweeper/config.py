"""The sweeper's config schema: the official hydra-optuna-sweeper's keys (``sampler``,
``direction``, ``storage``, ``study_name``, ``n_trials``, ``n_jobs``, ``params``,
``custom_search_space``, ``search_space``) plus tabpipe's (``pruner``, ``pruning_metric``,
``max_failure_rate``, ``trial_overrides``, ``best_experiment_dir``).

Ranges (``n_trials >= 1``, ...) are :mod:`annotated_types` metadata, checked by
``tabpipe train`` before the sweep starts (:mod:`tabpipe.config.ranges`).

Registered in Hydra's ConfigStore as ``hydra/sweeper: tabpipe_optuna``, with the groups
``hydra/sweeper/sampler`` (tpe, random, cmaes) and ``hydra/sweeper/pruner`` (nop, median,
percentile, hyperband, successive_halving).
"""

from dataclasses import dataclass, field
from typing import Annotated, Any, Dict, List, Optional

from annotated_types import Ge, Interval
from hydra.core.config_store import ConfigStore
from omegaconf import MISSING


@dataclass
class TPESamplerConfig:
    _target_: str = "optuna.samplers.TPESampler"
    seed: Optional[int] = None
    n_startup_trials: int = 10
    n_ei_candidates: int = 24
    multivariate: Optional[bool] = None
    group: bool = False
    # parallel trials see each other's pending points
    constant_liar: bool = True
    consider_prior: Optional[bool] = None
    prior_weight: Optional[float] = None
    consider_magic_clip: Optional[bool] = None
    consider_endpoints: Optional[bool] = None
    warn_independent_sampling: Optional[bool] = None


@dataclass
class RandomSamplerConfig:
    _target_: str = "optuna.samplers.RandomSampler"
    seed: Optional[int] = None


@dataclass
class CmaEsSamplerConfig:
    _target_: str = "optuna.samplers.CmaEsSampler"
    seed: Optional[int] = None
    sigma0: Optional[float] = None
    n_startup_trials: int = 1
    warn_independent_sampling: bool = True
    consider_pruned_trials: bool = False
    restart_strategy: Optional[str] = None
    popsize: Optional[int] = None
    inc_popsize: int = -1
    use_separable_cma: bool = False
    with_margin: bool = False
    lr_adapt: bool = False


@dataclass
class NopPrunerConfig:
    _target_: str = "optuna.pruners.NopPruner"


@dataclass
class MedianPrunerConfig:
    _target_: str = "optuna.pruners.MedianPruner"
    n_startup_trials: int = 5
    n_warmup_steps: int = 0
    interval_steps: int = 1
    n_min_trials: int = 1


@dataclass
class PercentilePrunerConfig:
    _target_: str = "optuna.pruners.PercentilePruner"
    percentile: float = 25.0
    n_startup_trials: int = 5
    n_warmup_steps: int = 0
    interval_steps: int = 1
    n_min_trials: int = 1


@dataclass
class HyperbandPrunerConfig:
    _target_: str = "optuna.pruners.HyperbandPruner"
    min_resource: int = 1
    max_resource: Any = "auto"
    reduction_factor: int = 3
    bootstrap_count: int = 0


@dataclass
class SuccessiveHalvingPrunerConfig:
    _target_: str = "optuna.pruners.SuccessiveHalvingPruner"
    min_resource: Any = "auto"
    reduction_factor: int = 4
    min_early_stopping_rate: int = 0
    bootstrap_count: int = 0


@dataclass
class TabpipeOptunaSweeperConf:
    _target_: str = "hydra_plugins.tabpipe_optuna_sweeper.optuna_sweeper.TabpipeOptunaSweeper"
    defaults: List[Any] = field(default_factory=lambda: [{"sampler": "tpe"}, {"pruner": "nop"}])

    sampler: Any = MISSING
    # minimize | maximize: the direction of the task's return value (optimized_metric); null:
    # the metric's own for tabpipe's training app (maximize auc, minimize rmse), else minimize
    direction: Any = None
    # null: <sweep dir>/optuna.journal; a path: a journal file; a URL: RDB (sqlite, postgresql)
    storage: Optional[str] = None
    # null: the hparams_search option's name; it also names <study>_best.yaml
    study_name: Optional[str] = None
    # the study's total of finished trials: a re-run resumes, a larger value tops up
    n_trials: Annotated[int, Ge(1)] = 20
    # trials per batch; they run at once under a parallel launcher (hydra/launcher=joblib)
    n_jobs: Annotated[int, Ge(1)] = 1
    # deprecated in the official plugin (use params); rejected with a clear line
    search_space: Optional[Dict[str, Any]] = None
    # override key -> choice(...) | range(...) | interval(...) | tag(log, ...) | a fixed value
    params: Optional[Dict[str, Any]] = None
    # a function (config, trial) -> None that suggests further parameters
    custom_search_space: Optional[str] = None

    # ---- tabpipe ----
    pruner: Any = MISSING
    # the per-step metric that trials report for pruning; null: optimized_metric
    pruning_metric: Optional[str] = None
    # stop once more than this share of the trials run in this invocation failed
    max_failure_rate: Annotated[float, Interval(ge=0, le=1)] = 0.5
    # overrides for trial jobs only, not for the best-params experiment
    trial_overrides: List[str] = field(default_factory=list)
    # where <study>_best.yaml goes; null: the experiment/ group of the app's config dir
    best_experiment_dir: Optional[str] = None


def register() -> None:
    cs = ConfigStore.instance()
    provider = "tabpipe_optuna_sweeper"
    cs.store(group="hydra/sweeper", name="tabpipe_optuna", node=TabpipeOptunaSweeperConf, provider=provider)
    for name, node in {
        "tpe": TPESamplerConfig,
        "random": RandomSamplerConfig,
        "cmaes": CmaEsSamplerConfig,
    }.items():
        cs.store(group="hydra/sweeper/sampler", name=name, node=node, provider=provider)
    for name, node in {
        "nop": NopPrunerConfig,
        "median": MedianPrunerConfig,
        "percentile": PercentilePrunerConfig,
        "hyperband": HyperbandPrunerConfig,
        "successive_halving": SuccessiveHalvingPrunerConfig,
    }.items():
        cs.store(group="hydra/sweeper/pruner", name=name, node=node, provider=provider)


register()
