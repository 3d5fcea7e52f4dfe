"""The sweeper's config schema: the official hydra-optuna-sweeper's keys (``sampler``,
``direction``, ``storage``, ``study_name``, ``n_trials``, ``n_jobs``, ``params``,
``custom_search_space``, ``search_space``) plus tabpipe's (``pruner``, ``pruning_metric``,
``max_failure_rate``, ``trial_overrides``, ``best_experiment_dir``).

Ranges (``n_trials >= 1``, ...) are :mod:`annotated_types` metadata, checked by
``tabpipe train`` before the sweep starts (:mod:`tabpipe.config.ranges`).

Registered in Hydra's ConfigStore as ``hydra/sweeper: tabpipe_optuna``, with the groups
``hydra/sweeper/sampler`` (tpe, random, cmaes) and ``hydra/sweeper/pruner`` (nop, median,
percentile, hyperband, successive_halving). The samplers' and pruners' keys are the
arguments of their Optuna classes. Every field has an attribute docstring: its description
in the generated configuration reference.
"""

from dataclasses import dataclass, field
from typing import Annotated, Any, Dict, List, Optional

from annotated_types import Ge, Interval
from hydra.core.config_store import ConfigStore
from omegaconf import MISSING


@dataclass
class TPESamplerConfig:
    """``optuna.samplers.TPESampler``: the tree-structured Parzen estimator."""

    _target_: str = "optuna.samplers.TPESampler"
    """The sampler class."""
    seed: Optional[int] = None
    """The sampler's seed; null: random."""
    n_startup_trials: int = 10
    """Random trials before TPE takes over."""
    n_ei_candidates: int = 24
    """Candidates scored by expected improvement per suggestion."""
    multivariate: Optional[bool] = None
    """Model the parameters jointly rather than one by one; null: Optuna's default."""
    group: bool = False
    """With multivariate: model each group of parameters that occur together separately."""
    constant_liar: bool = True
    """Parallel trials see each other's pending points."""
    consider_prior: Optional[bool] = None
    """Add a prior to the Parzen estimators; null: Optuna's default."""
    prior_weight: Optional[float] = None
    """The prior's weight; null: Optuna's default."""
    consider_magic_clip: Optional[bool] = None
    """Clip the estimators' bandwidths (Optuna's heuristic); null: Optuna's default."""
    consider_endpoints: Optional[bool] = None
    """Use the range's endpoints in the bandwidths; null: Optuna's default."""
    warn_independent_sampling: Optional[bool] = None
    """Warn when a parameter falls back to independent sampling; null: Optuna's default."""


@dataclass
class RandomSamplerConfig:
    """``optuna.samplers.RandomSampler``."""

    _target_: str = "optuna.samplers.RandomSampler"
    """The sampler class."""
    seed: Optional[int] = None
    """The sampler's seed; null: random."""


@dataclass
class CmaEsSamplerConfig:
    """``optuna.samplers.CmaEsSampler``: CMA evolution strategy (numeric parameters)."""

    _target_: str = "optuna.samplers.CmaEsSampler"
    """The sampler class."""
    seed: Optional[int] = None
    """The sampler's seed; null: random."""
    sigma0: Optional[float] = None
    """The initial step size; null: derived from the search space."""
    n_startup_trials: int = 1
    """Independent (random) trials before CMA-ES takes over."""
    warn_independent_sampling: bool = True
    """Warn when a parameter falls back to independent sampling."""
    consider_pruned_trials: bool = False
    """Learn from pruned trials too."""
    restart_strategy: Optional[str] = None
    """ipop or bipop restarts; null: none."""
    popsize: Optional[int] = None
    """The population size; null: derived from the dimension."""
    inc_popsize: int = -1
    """The population's growth factor at each restart."""
    use_separable_cma: bool = False
    """Separable CMA-ES (a diagonal covariance)."""
    with_margin: bool = False
    """CMA-ES with margin (for discrete parameters)."""
    lr_adapt: bool = False
    """Adapt the learning rate (for multimodal or noisy objectives)."""


@dataclass
class NopPrunerConfig:
    """``optuna.pruners.NopPruner``: never prunes."""

    _target_: str = "optuna.pruners.NopPruner"
    """The pruner class."""


@dataclass
class MedianPrunerConfig:
    """``optuna.pruners.MedianPruner``: prunes a trial worse than the median of the others at
    the same step."""

    _target_: str = "optuna.pruners.MedianPruner"
    """The pruner class."""
    n_startup_trials: int = 5
    """Trials completed before pruning starts."""
    n_warmup_steps: int = 0
    """Steps of a trial before it can be pruned."""
    interval_steps: int = 1
    """Check every N steps."""
    n_min_trials: int = 1
    """Trials reported at a step needed before pruning at it."""


@dataclass
class PercentilePrunerConfig:
    """``optuna.pruners.PercentilePruner``: prunes a trial below a percentile of the others."""

    _target_: str = "optuna.pruners.PercentilePruner"
    """The pruner class."""
    percentile: float = 25.0
    """The percentile (0-100) a trial must reach to go on."""
    n_startup_trials: int = 5
    """Trials completed before pruning starts."""
    n_warmup_steps: int = 0
    """Steps of a trial before it can be pruned."""
    interval_steps: int = 1
    """Check every N steps."""
    n_min_trials: int = 1
    """Trials reported at a step needed before pruning at it."""


@dataclass
class HyperbandPrunerConfig:
    """``optuna.pruners.HyperbandPruner``."""

    _target_: str = "optuna.pruners.HyperbandPruner"
    """The pruner class."""
    min_resource: int = 1
    """Steps every trial gets at least."""
    max_resource: Any = "auto"
    """Steps of a full trial; auto: from the first completed trial."""
    reduction_factor: int = 3
    """The share (1/N) of trials promoted at each rung."""
    bootstrap_count: int = 0
    """Trials a rung needs before promotion starts."""


@dataclass
class SuccessiveHalvingPrunerConfig:
    """``optuna.pruners.SuccessiveHalvingPruner``."""

    _target_: str = "optuna.pruners.SuccessiveHalvingPruner"
    """The pruner class."""
    min_resource: Any = "auto"
    """Steps before the first rung; auto: from the first completed trial."""
    reduction_factor: int = 4
    """The share (1/N) of trials promoted at each rung."""
    min_early_stopping_rate: int = 0
    """Offsets the rungs (a larger value prunes later)."""
    bootstrap_count: int = 0
    """Trials a rung needs before promotion starts."""


@dataclass
class TabpipeOptunaSweeperConf:
    """``hydra/sweeper: tabpipe_optuna``: the keys under ``hydra.sweeper``."""

    _target_: str = "hydra_plugins.tabpipe_optuna_sweeper.optuna_sweeper.TabpipeOptunaSweeper"
    """The sweeper class."""
    defaults: List[Any] = field(default_factory=lambda: [{"sampler": "tpe"}, {"pruner": "nop"}])
    """The sampler and pruner chosen by default."""

    sampler: Any = MISSING
    """The sampler (hydra/sweeper/sampler: tpe, random, cmaes)."""
    direction: Any = None
    """minimize | maximize: the direction of the task's return value (optimized_metric); null:
    the metric's own for tabpipe's training app (maximize auc, minimize rmse), else minimize."""
    storage: Optional[str] = None
    """null: <sweep dir>/optuna.journal; a path: a journal file; a URL: RDB (sqlite, postgresql)."""
    study_name: Optional[str] = None
    """null: the hparams_search option's name; it also names <study>_best.yaml."""
    n_trials: Annotated[int, Ge(1)] = 20
    """The study's total of finished trials: a re-run resumes, a larger value tops up."""
    n_jobs: Annotated[int, Ge(1)] = 1
    """Trials per batch; they run at once under a parallel launcher (hydra/launcher=joblib)."""
    search_space: Optional[Dict[str, Any]] = None
    """Deprecated in the official plugin (use params); rejected with a clear line."""
    params: Optional[Dict[str, Any]] = None
    """Override key -> choice(...) | range(...) | interval(...) | tag(log, ...) | a fixed value."""
    custom_search_space: Optional[str] = None
    """A function (config, trial) -> None that suggests further parameters."""

    # ---- tabpipe ----
    pruner: Any = MISSING
    """The pruner (hydra/sweeper/pruner: nop, median, percentile, hyperband, successive_halving)."""
    pruning_metric: Optional[str] = None
    """The per-step metric that trials report for pruning; null: optimized_metric."""
    max_failure_rate: Annotated[float, Interval(ge=0, le=1)] = 0.5
    """Stop once more than this share of the trials run in this invocation failed (exit 1)."""
    trial_overrides: List[str] = field(default_factory=list)
    """Overrides for trial jobs only, not for the best-params experiment."""
    best_experiment_dir: Optional[str] = None
    """Where <study>_best.yaml goes; null: the experiment/ group of the app's config dir."""


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
