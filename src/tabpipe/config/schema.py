"""Dataclass schemas that validate every config group.

Each YAML file in ``conf/<group>/`` extends one of these schemas through its defaults
list (``- /schema/<group>/<name>@_here_``), so a mistyped or unknown key fails at
composition time with its name, and values are type-checked (enums list their options).

Numbers with a natural range declare it with the aliases of :mod:`tabpipe.config.bounds`.
The model group's schemas are in :mod:`tabpipe.config.model_schema`.

OmegaConf needs ``typing.Optional``/``List``/``Dict`` here, not PEP 604 unions.
"""

from dataclasses import dataclass, field
from enum import Enum
from typing import Annotated, Any, Dict, List, Optional

from annotated_types import Ge, Interval
from omegaconf import MISSING

from tabpipe.config.bounds import (
    AtLeastOne,
    Fraction,
    NonNegative,
    NonNegativeInt,
    Probability,
    Share,
)
from tabpipe.config.model_schema import (  # re-exported: the model group's schemas
    BaselineModelConfig as BaselineModelConfig,
)
from tabpipe.config.model_schema import (
    LGBMModelConfig as LGBMModelConfig,
)
from tabpipe.config.model_schema import (
    LightningModelConfig as LightningModelConfig,
)
from tabpipe.config.model_schema import (
    LinearModelConfig as LinearModelConfig,
)
from tabpipe.config.model_schema import (
    ModelConfig as ModelConfig,
)
from tabpipe.config.model_schema import (
    XGBModelConfig as XGBModelConfig,
)


class Task(str, Enum):
    binary = "binary"
    multiclass = "multiclass"
    regression = "regression"
    ranking = "ranking"


class SourceKind(str, Enum):
    csv = "csv"
    parquet = "parquet"
    sklearn = "sklearn"
    bundled = "bundled"


class ColumnType(str, Enum):
    numeric = "numeric"
    categorical = "categorical"
    boolean = "boolean"
    datetime = "datetime"


@dataclass
class ColumnSpec:
    """A pinned column: its type and, optionally, the allowed range or category set."""

    type: ColumnType = MISSING
    nullable: bool = True
    min: Optional[float] = None
    max: Optional[float] = None
    categories: Optional[List[str]] = None


class InfinitePolicy(str, Enum):
    error = "error"
    missing = "missing"


@dataclass
class DataConfig:
    source: SourceKind = MISSING
    target: str = MISSING
    task: Task = MISSING
    path: Optional[str] = None
    name: Optional[str] = None
    id_columns: List[str] = field(default_factory=list)
    time_column: Optional[str] = None
    drop_columns: List[str] = field(default_factory=list)
    group_columns: List[str] = field(default_factory=list)
    # the query id of task=ranking: rows are ranked within each value (kept out of features)
    group_column: Optional[str] = None
    categorical_columns: List[str] = field(default_factory=list)
    positive_class: Optional[str] = None
    # Pinned schema: inline ({column: ColumnSpec}), or a schema.json from an earlier run.
    # Entries are checked against ColumnSpec when the data loads (a Dict of dataclasses
    # cannot be extended from the command line).
    schema: Dict[str, Any] = field(default_factory=dict)
    schema_path: Optional[str] = None
    # Validation thresholds for warnings.
    high_cardinality: AtLeastOne = 100
    leakage_correlation: Share = 0.98
    # A text column whose values are mostly numbers is categorical, with a warning naming
    # the offending values; true makes that an error.
    strict_types: bool = False
    # inf/-inf in a numeric feature: error, or missing (imputed like a blank, with a warning)
    on_infinite: InfinitePolicy = InfinitePolicy.error


class NumericImputation(str, Enum):
    median = "median"
    mean = "mean"


class Scaling(str, Enum):
    standard = "standard"
    robust = "robust"
    none = "none"


class CategoricalEncoding(str, Enum):
    onehot = "onehot"
    ordinal = "ordinal"
    target = "target"


@dataclass
class FeaturesConfig:
    name: str = MISSING
    numeric_imputation: NumericImputation = NumericImputation.median
    missing_indicator: bool = True
    scaling: Scaling = Scaling.standard
    categorical_encoding: CategoricalEncoding = CategoricalEncoding.onehot
    # Categories seen fewer times than this in train join the sentinel (one-hot/ordinal).
    min_category_frequency: AtLeastOne = 1
    target_encoding_folds: Annotated[int, Ge(2)] = 5
    datetime_parts: List[str] = field(default_factory=lambda: ["hour", "dayofweek", "day", "month"])
    cyclical: bool = True
    holidays_country: Optional[str] = "US"


class SplitKind(str, Enum):
    stratified = "stratified"
    kfold = "kfold"
    temporal = "temporal"


@dataclass
class SplitConfig:
    kind: SplitKind = MISSING
    val_fraction: Fraction = 0.15
    test_fraction: Annotated[float, Interval(ge=0, lt=1)] = 0.15
    n_folds: Annotated[int, Ge(2)] = 5


@dataclass
class TrainerConfig:
    """The Lightning Trainer, built by ``hydra.utils.instantiate`` with every key below (a
    subclass plugs in by ``_target_``); ``accelerator`` also selects the GBDT device."""

    _target_: str = "lightning.pytorch.Trainer"
    accelerator: str = "cpu"
    devices: Any = 1
    strategy: str = "auto"
    precision: str = "32-true"
    min_epochs: NonNegativeInt = 1
    max_epochs: AtLeastOne = 50
    deterministic: bool = True
    gradient_clip_val: Optional[float] = None
    fast_dev_run: bool = False
    limit_train_batches: Optional[float] = None
    limit_val_batches: Optional[float] = None
    overfit_batches: NonNegative = 0.0
    check_val_every_n_epoch: AtLeastOne = 1
    log_every_n_steps: AtLeastOne = 10
    enable_progress_bar: bool = True


@dataclass
class PathsConfig:
    root_dir: str = MISSING
    data_dir: str = MISSING
    log_dir: str = MISSING
    output_dir: str = MISSING


class ThresholdStrategy(str, Enum):
    default = "default"
    f1 = "f1"
    cost = "cost"


@dataclass
class CostMatrixConfig:
    """The cost of each outcome of one row (binary); a benefit is a negative cost."""

    tp: float = 0.0
    fp: float = 1.0
    fn: float = 1.0
    tn: float = 0.0


@dataclass
class ThresholdConfig:
    # default: `default` below; f1: the F1-optimal; cost: the cheapest under `cost`.
    # Always chosen on the validation split, then applied by the graph's `label` output.
    strategy: ThresholdStrategy = ThresholdStrategy.default
    default: Probability = 0.5
    cost: CostMatrixConfig = field(default_factory=CostMatrixConfig)


class TimePeriod(str, Enum):
    month = "month"
    week = "week"
    none = "none"


@dataclass
class SegmentsConfig:
    enabled: bool = True
    # per value of each data.group_columns entry, and per period of data.time_column
    time_period: TimePeriod = TimePeriod.month
    # segments with fewer rows are reported but never flagged
    min_rows: AtLeastOne = 30
    # task=ranking: segments with fewer ranked queries are reported but never flagged
    # (the bootstrap resamples queries)
    min_queries: AtLeastOne = 5
    # per column, the largest segments only
    max_segments: AtLeastOne = 20
    n_bootstrap: AtLeastOne = 200
    confidence: Fraction = 0.95


@dataclass
class ImportanceConfig:
    # permutation importance of the raw input columns, on the graph
    permutation: bool = True
    max_rows: AtLeastOne = 2000
    n_repeats: AtLeastOne = 3


@dataclass
class EvalConfig:
    require_beat_baseline: bool = True
    # Empty: the task's default (binary auc, multiclass f1_macro, regression rmse,
    # ranking ndcg@<largest ranking_k>).
    primary_metric: Optional[str] = None
    # The model must beat the baseline by at least this much on the primary metric.
    min_improvement: float = 0.0
    # Compare with the registry's `production_alias` version of the same name (same rows);
    # with require_beat_production, a model that does not beat it by
    # min_improvement_over_production fails the run (exit 3).
    production_alias: Optional[str] = "production"
    require_beat_production: bool = False
    min_improvement_over_production: float = 0.0
    calibration_bins: AtLeastOne = 10
    # task=ranking: the cut-offs of ndcg@k and map@k (primary default: ndcg@<largest k>);
    # `tabpipe eval` reads null as the bundle's recorded cut-offs
    ranking_k: Optional[List[int]] = field(default_factory=lambda: [5, 10])
    threshold: ThresholdConfig = field(default_factory=ThresholdConfig)
    # PNG plots + DVC plot data in <run_dir>/plots/, report.md, segments.json
    plots: bool = True
    max_plot_points: AtLeastOne = 5000
    importance: ImportanceConfig = field(default_factory=ImportanceConfig)
    segments: SegmentsConfig = field(default_factory=SegmentsConfig)


@dataclass
class RegistryConfig:
    # $TABPIPE_REGISTRY overrides the root; name null = do not register
    root: str = "registry"
    name: Optional[str] = None
    # null: a plain single run (and `dvc repro`) registers; a multirun job and a `dvc exp run`
    # do not. true/false: always/never. Sweep trials and debug runs (task_name=debug) never do.
    register: Optional[bool] = None
    # move this alias (e.g. candidate) to the new version after registering
    alias: Optional[str] = None


@dataclass
class ExportConfig:
    # false: a search run (sweep trials): the model is scored natively on the graph-computed
    # features; no ONNX graph, parity gate, bundle or registry entry
    onnx: bool = True
    # ONNX Runtime execution providers, in order of preference
    providers: List[str] = field(default_factory=lambda: ["CPUExecutionProvider"])
    # unranged: a negative tolerance is the way to force the gate to fail (tests)
    parity_rtol: float = 1e-6
    profile_bins: Annotated[int, Ge(2)] = 10


@dataclass
class TrackingConfig:
    """What every logger (W&B, MLflow, ...) names a run by; the root ``tags`` are its tags."""

    project: str = "tabpipe"
    # runs of one sweep share a group (the sweeper sets it to the study name)
    group: Optional[str] = None
    # null: the backend picks a name
    run_name: Optional[str] = None


@dataclass
class OptunaTrialConfig:
    """Set by the Optuna sweeper on each trial job (null outside a sweep): the job opens
    this trial to report per-step metrics and prune (``tabpipe.tuning.trial_logger``)."""

    storage: Optional[str] = None
    study_name: Optional[str] = None
    trial_number: Optional[int] = None


@dataclass
class TrainConfig:
    """The root of ``conf/train.yaml``: the keys that belong to no group."""

    task_name: str = "train"
    seed: Annotated[int, Interval(ge=0, lt=2**32)] = 42
    # The groups select their schemas (conf/<group>/*.yaml); `model` is the ModelConfig
    # subclass of the chosen model. logger and callbacks are dicts of ``_target_`` configs,
    # checked when they are built.
    data: DataConfig = MISSING
    features: FeaturesConfig = MISSING
    split: SplitConfig = MISSING
    model: ModelConfig = MISSING
    trainer: TrainerConfig = MISSING
    logger: Dict[str, Any] = field(default_factory=dict)
    callbacks: Dict[str, Any] = field(default_factory=dict)
    paths: PathsConfig = MISSING
    ckpt_path: Optional[str] = None
    tags: List[str] = field(default_factory=list)
    tracking: TrackingConfig = field(default_factory=TrackingConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    export: ExportConfig = field(default_factory=ExportConfig)
    registry: RegistryConfig = field(default_factory=RegistryConfig)
    # the metric a sweep optimizes (e.g. val/auc); the task returns it; null: val/<primary>
    optimized_metric: Optional[str] = None
    optuna: OptunaTrialConfig = field(default_factory=OptunaTrialConfig)
