"""Dataclass schemas that validate every config group.

Each YAML file in ``conf/<group>/`` extends one of these schemas through its defaults
list (``- /schema/<group>/<name>@_here_``), so a mistyped or unknown key fails at
composition time with its name, and values are type-checked (enums list their options).

Numbers with a natural range declare it with the aliases of :mod:`tabpipe.config.bounds`.
The model group's schemas are in :mod:`tabpipe.config.model_schema`, the evaluation's
(``eval.*``) in :mod:`tabpipe.config.eval_schema`.

Every field has an attribute docstring (the string under it): its description in the
generated configuration reference (docs/reference/config.md). A field without one fails the
docs build and ``tests/unit/test_config_reference.py``.

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
    Share,
)
from tabpipe.config.eval_schema import (  # re-exported: the evaluation's schemas
    CostMatrixConfig as CostMatrixConfig,
)
from tabpipe.config.eval_schema import (
    EvalConfig as EvalConfig,
)
from tabpipe.config.eval_schema import (
    ImportanceConfig as ImportanceConfig,
)
from tabpipe.config.eval_schema import (
    SegmentsConfig as SegmentsConfig,
)
from tabpipe.config.eval_schema import (
    ThresholdConfig as ThresholdConfig,
)
from tabpipe.config.eval_schema import (
    ThresholdStrategy as ThresholdStrategy,
)
from tabpipe.config.eval_schema import (
    TimePeriod as TimePeriod,
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
    feast = "feast"


class ColumnType(str, Enum):
    numeric = "numeric"
    categorical = "categorical"
    boolean = "boolean"
    datetime = "datetime"


@dataclass
class ColumnSpec:
    """A pinned column: its type and, optionally, the allowed range or category set."""

    type: ColumnType = MISSING
    """The column's type."""
    nullable: bool = True
    """Whether the column may have missing values."""
    min: Optional[float] = None
    """The smallest allowed value (numeric)."""
    max: Optional[float] = None
    """The largest allowed value (numeric)."""
    categories: Optional[List[str]] = None
    """The allowed categories (categorical)."""


class InfinitePolicy(str, Enum):
    error = "error"
    missing = "missing"


@dataclass
class FeastSourceConfig:
    """data=feast: the training rows are an entity frame joined point-in-time to a Feast
    feature repository (docs/topics/feature-store.md)."""

    repo: Optional[str] = None
    """The feature repository (the folder of feature_store.yaml), relative to the project root."""
    entity_source: Optional[str] = None
    """A CSV or Parquet file: the entity keys, the event timestamp, the label and any
    request-time columns (one row per training example)."""
    timestamp_column: str = "event_timestamp"
    """The entity frame's event time: each row gets the feature values known at that time."""
    feature_service: Optional[str] = None
    """The feature service whose features are joined (or list them in ``features``)."""
    features: List[str] = field(default_factory=list)
    """Feature references ``view:feature``, when no feature service is named."""
    request_columns: List[str] = field(default_factory=list)
    """Entity-frame columns that a request carries itself (not fetched from the store)."""
    max_missing_share: Share = 0.05
    """The share of entity rows the join dropped or left without any stored feature above
    which ingestion fails (below it they are counted and reported)."""


@dataclass
class DataConfig:
    """The data source, its target and task, and the roles of its columns."""

    source: SourceKind = MISSING
    """Where the rows come from: a CSV or Parquet file, a scikit-learn dataset, or a dataset
    bundled with tabpipe."""
    target: str = MISSING
    """The column to predict."""
    task: Task = MISSING
    """The learning task; it selects the metrics, the outputs and the baseline."""
    path: Optional[str] = None
    """The file of source=csv or parquet."""
    name: Optional[str] = None
    """The dataset's name (source=sklearn or bundled); the registry name defaults to it."""
    id_columns: List[str] = field(default_factory=list)
    """Row identifiers: kept out of the features, checked unique, echoed in predictions."""
    time_column: Optional[str] = None
    """A datetime column: the order of split=temporal and the period of time segments."""
    drop_columns: List[str] = field(default_factory=list)
    """Columns left out of everything."""
    group_columns: List[str] = field(default_factory=list)
    """Columns whose values define the evaluation's segments."""
    group_column: Optional[str] = None
    """The query id of task=ranking: rows are ranked within each value (kept out of features)."""
    categorical_columns: List[str] = field(default_factory=list)
    """Columns read as categorical whatever their values look like."""
    positive_class: Optional[str] = None
    """task=binary: the target value that is the positive class."""
    schema: Dict[str, Any] = field(default_factory=dict)
    """Pinned schema, inline: ``{column: ColumnSpec}``. Entries are checked against ColumnSpec
    when the data loads (a Dict of dataclasses cannot be extended from the command line)."""
    schema_path: Optional[str] = None
    """Pinned schema from a file: the schema.json of an earlier run or bundle."""
    high_cardinality: AtLeastOne = 100
    """A categorical column with more distinct values than this gets a warning."""
    leakage_correlation: Share = 0.98
    """A feature whose absolute correlation with the target reaches this gets a warning."""
    strict_types: bool = False
    """A text column whose values are mostly numbers is categorical, with a warning naming the
    offending values; true makes that an error."""
    on_infinite: InfinitePolicy = InfinitePolicy.error
    """inf/-inf in a numeric feature: error, or missing (imputed like a blank, with a warning)."""
    feast: FeastSourceConfig = field(default_factory=FeastSourceConfig)
    """source=feast: the feature repository, the entity frame and the features joined."""


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
    """The feature pipeline, fitted on the train split only and exported into the graph."""

    name: str = MISSING
    """The option's name, recorded with the run."""
    numeric_imputation: NumericImputation = NumericImputation.median
    """The statistic that fills a missing number."""
    missing_indicator: bool = True
    """Add a 0/1 column per numeric feature that had missing values in train."""
    scaling: Scaling = Scaling.standard
    """The scaler of the numeric features."""
    categorical_encoding: CategoricalEncoding = CategoricalEncoding.onehot
    """One-hot, ordinal codes, or out-of-fold target encoding."""
    min_category_frequency: AtLeastOne = 1
    """Categories seen fewer times than this in train join the sentinel (one-hot/ordinal)."""
    target_encoding_folds: Annotated[int, Ge(2)] = 5
    """Folds of the out-of-fold target encoding."""
    datetime_parts: List[str] = field(default_factory=lambda: ["hour", "dayofweek", "day", "month"])
    """The calendar parts taken from each datetime column."""
    cyclical: bool = True
    """Encode each calendar part as sin/cos of its period."""
    holidays_country: Optional[str] = "US"
    """Add an is_holiday flag for this country's public holidays; null: none."""


class SplitKind(str, Enum):
    stratified = "stratified"
    kfold = "kfold"
    temporal = "temporal"


@dataclass
class SplitConfig:
    """How the rows are split into train, validation and test."""

    kind: SplitKind = MISSING
    """stratified (by the target's class), kfold (cross-validation) or temporal (by
    data.time_column)."""
    val_fraction: Fraction = 0.15
    """The share of the rows in the validation split (early stopping, the threshold)."""
    test_fraction: Annotated[float, Interval(ge=0, lt=1)] = 0.15
    """The share of the rows in the test split (the reported metrics)."""
    n_folds: Annotated[int, Ge(2)] = 5
    """Folds of split=kfold."""


@dataclass
class TrainerConfig:
    """The Lightning Trainer, built by ``hydra.utils.instantiate`` with every key below (a
    subclass plugs in by ``_target_``); ``accelerator`` also selects the GBDT device."""

    _target_: str = "lightning.pytorch.Trainer"
    """The Trainer class."""
    accelerator: str = "cpu"
    """cpu or gpu (also the device of XGBoost and LightGBM; exit 4 when it is missing)."""
    devices: Any = 1
    """The number (or list) of devices."""
    strategy: str = "auto"
    """Lightning's distribution strategy (ddp, ...)."""
    precision: str = "32-true"
    """Lightning's numeric precision."""
    min_epochs: NonNegativeInt = 1
    """Epochs run at least, whatever early stopping says."""
    max_epochs: AtLeastOne = 50
    """Epochs run at most."""
    deterministic: bool = True
    """Deterministic algorithms (reproducible runs)."""
    gradient_clip_val: Optional[float] = None
    """Clip gradients to this norm; null: no clipping."""
    fast_dev_run: bool = False
    """One batch of train and validation, as a smoke test."""
    limit_train_batches: Optional[float] = None
    """A share (or count) of the training batches per epoch."""
    limit_val_batches: Optional[float] = None
    """A share (or count) of the validation batches per epoch."""
    overfit_batches: NonNegative = 0.0
    """Train on this share (or count) of batches only, to check that the model can overfit."""
    check_val_every_n_epoch: AtLeastOne = 1
    """Validate every N epochs."""
    log_every_n_steps: AtLeastOne = 10
    """Log the training metrics every N steps."""
    enable_progress_bar: bool = True
    """Show Lightning's progress bar."""


@dataclass
class PathsConfig:
    """Where a run reads and writes (conf/paths/default.yaml)."""

    root_dir: str = MISSING
    """The project's root."""
    data_dir: str = MISSING
    """The data files and the dataset cache."""
    log_dir: str = MISSING
    """The runs' parent directory (logs/)."""
    output_dir: str = MISSING
    """This run's directory (Hydra's run directory)."""


@dataclass
class RegistryConfig:
    """Where training registers the bundle, and whether."""

    root: str = "registry"
    """The registry directory; $TABPIPE_REGISTRY overrides it."""
    name: Optional[str] = None
    """The model's name in the registry; null: do not register."""
    register: Optional[bool] = None
    """null: a plain single run (and ``dvc repro``) registers; a multirun job and a ``dvc exp
    run`` do not. true/false: always/never. Sweep trials and debug runs (task_name=debug)
    never do."""
    alias: Optional[str] = None
    """Move this alias (e.g. candidate) to the new version after registering."""


@dataclass
class ExportConfig:
    """The ONNX graph, the parity gate and the bundle."""

    onnx: bool = True
    """false: a search run (sweep trials): the model is scored natively on the graph-computed
    features; no ONNX graph, parity gate, bundle or registry entry."""
    providers: List[str] = field(default_factory=lambda: ["CPUExecutionProvider"])
    """ONNX Runtime execution providers, in order of preference."""
    parity_rtol: float = 1e-6
    """The parity gate's relative tolerance (unranged: a negative tolerance is the way to force
    the gate to fail, in tests)."""
    profile_bins: Annotated[int, Ge(2)] = 10
    """Quantile bins per numeric feature in reference_profile.json (drift monitoring)."""


@dataclass
class TrackingConfig:
    """What every logger (W&B, MLflow, ...) names a run by; the root ``tags`` are its tags."""

    project: str = "tabpipe"
    """The project (W&B) or experiment (MLflow) name."""
    group: Optional[str] = None
    """Runs of one sweep share a group (the sweeper sets it to the study name)."""
    run_name: Optional[str] = None
    """The run's name; null: the backend picks one."""


@dataclass
class OptunaTrialConfig:
    """Set by the Optuna sweeper on each trial job (null outside a sweep): the job opens
    this trial to report per-step metrics and prune (``tabpipe.tuning.trial_logger``)."""

    storage: Optional[str] = None
    """The study's storage (a journal file or an RDB URL)."""
    study_name: Optional[str] = None
    """The study's name."""
    trial_number: Optional[int] = None
    """This job's trial number."""


@dataclass
class TrainConfig:
    """The root of ``conf/train.yaml``: the keys that belong to no group."""

    task_name: str = "train"
    """The kind of run (debug presets set debug: such runs never register)."""
    seed: Annotated[int, Interval(ge=0, lt=2**32)] = 42
    """Seeds every random generator: splits, models, bootstrap."""
    data: DataConfig = MISSING
    """The data group."""
    features: FeaturesConfig = MISSING
    """The features group."""
    split: SplitConfig = MISSING
    """The split group."""
    model: ModelConfig = MISSING
    """The model group: the ModelConfig subclass of the chosen model."""
    trainer: TrainerConfig = MISSING
    """The trainer group."""
    logger: Dict[str, Any] = field(default_factory=dict)
    """The logger group: a dict of ``_target_`` configs, checked when they are built."""
    callbacks: Dict[str, Any] = field(default_factory=dict)
    """The callbacks group: a dict of ``_target_`` configs, checked when they are built."""
    paths: PathsConfig = MISSING
    """The paths group."""
    ckpt_path: Optional[str] = None
    """Resume a Lightning model from this checkpoint (with split=kfold, each fold from its own
    fold_<k>/ file beside it)."""
    tags: List[str] = field(default_factory=list)
    """The run's tags, given to every logger."""
    tracking: TrackingConfig = field(default_factory=TrackingConfig)
    """How the loggers name the run."""
    eval: EvalConfig = field(default_factory=EvalConfig)
    """Evaluation and its gates."""
    export: ExportConfig = field(default_factory=ExportConfig)
    """The ONNX graph, the parity gate and the bundle."""
    registry: RegistryConfig = field(default_factory=RegistryConfig)
    """Where and whether the bundle is registered."""
    optimized_metric: Optional[str] = None
    """The metric a sweep optimizes (e.g. val/auc); the task returns it; null: val/<primary>."""
    optuna: OptunaTrialConfig = field(default_factory=OptunaTrialConfig)
    """Set by the Optuna sweeper on each trial job."""
