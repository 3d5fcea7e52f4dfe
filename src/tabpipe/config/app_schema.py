"""Dataclass schemas of the commands other than training: ``tabpipe serve``, ``predict``,
``monitor`` and ``eval`` (``conf/serve.yaml``, ``predict.yaml``, ``monitor.yaml``, ``eval.yaml``).

OmegaConf needs ``typing.Optional``/``List`` here, not PEP 604 unions.
"""

from dataclasses import dataclass, field
from enum import Enum
from typing import Annotated, List, Optional

from annotated_types import Interval
from omegaconf import MISSING

from tabpipe.config.bounds import AtLeastOne, Fraction, NonNegative, NonNegativeInt, Positive, Probability
from tabpipe.config.schema import DataConfig, EvalConfig


class InputPolicy(str, Enum):
    allow = "allow"
    warn = "warn"
    error = "error"


@dataclass
class ABConfig:
    # the second arm (name@alias, name:version or a path); null = no A/B split
    bundle: Optional[str] = None
    weight: Probability = 0.0
    # request field whose value makes the assignment sticky (e.g. customer_id)
    key: Optional[str] = None
    salt: str = "tabpipe"


@dataclass
class RedactConfig:
    # request fields written as a keyed hash (HMAC-SHA256), besides the bundle's id columns
    hash: List[str] = field(default_factory=list)
    # request fields left out of the log
    drop: List[str] = field(default_factory=list)
    # id columns written in clear (they are hashed otherwise)
    keep: List[str] = field(default_factory=list)


@dataclass
class PredictionLogConfig:
    path: Optional[str] = None
    max_bytes: AtLeastOne = 10_000_000
    backups: NonNegativeInt = 5
    redact: RedactConfig = field(default_factory=RedactConfig)
    # the hashes' HMAC key (conf/serve.yaml: TABPIPE_PREDICTION_LOG_KEY); null = key_file's
    key: Optional[str] = None
    # null = .<log name>.key beside the log, created with a random key and mode 0600
    key_file: Optional[str] = None


@dataclass
class DriftGaugesConfig:
    # requests kept for the /metrics drift gauges (PSI per feature); 0 turns them off
    window: NonNegativeInt = 1000
    top: AtLeastOne = 10
    min_samples: AtLeastOne = 100


@dataclass
class ServeConfig:
    bundle: str = MISSING
    registry_root: str = "registry"
    host: str = "127.0.0.1"
    port: Annotated[int, Interval(ge=0, le=65535)] = 8000
    providers: List[str] = field(default_factory=lambda: ["CPUExecutionProvider"])
    timeout_ms: Positive = 1000.0
    max_body_bytes: AtLeastOne = 1_048_576
    max_records: AtLeastOne = 10_000
    # what to do with a missing value / an unseen category / a number outside the training
    # range: allow (the graph handles it as in training), warn (in the response), error (422)
    on_missing: InputPolicy = InputPolicy.warn
    on_unseen_category: InputPolicy = InputPolicy.warn
    on_out_of_range: InputPolicy = InputPolicy.warn
    admin_token: Optional[str] = None
    ab: ABConfig = field(default_factory=ABConfig)
    # a bundle scored after each response and only logged (its answers are never returned)
    shadow: Optional[str] = None
    # one JSON line per request, mode 0600, rotated by size; see README "The prediction log"
    prediction_log: PredictionLogConfig = field(default_factory=PredictionLogConfig)
    # Prometheus drift gauges on /metrics: PSI per feature over the last `window` requests,
    # computed at scrape time from a bounded buffer (0 = off)
    drift: DriftGaugesConfig = field(default_factory=DriftGaugesConfig)
    log_level: str = "warning"
    # one line per request (uvicorn's access log: client, method, path, status), whatever log_level
    access_log: bool = False
    # FastAPI's OpenTelemetry spans, metrics and logs (to the OTEL providers/exporters configured
    # in the environment). Off by default: its per-request checks cost ~15 us, and tabpipe's
    # own Prometheus metrics are on /metrics either way.
    opentelemetry: bool = False


class BadRowPolicy(str, Enum):
    reject = "reject"
    fail = "fail"


class BatchEngine(str, Enum):
    local = "local"
    ray = "ray"


@dataclass
class PredictConfig:
    bundle: str = MISSING
    input: str = MISSING
    output: str = MISSING
    registry_root: str = "registry"
    providers: List[str] = field(default_factory=lambda: ["CPUExecutionProvider"])
    chunk_rows: AtLeastOne = 100_000
    # a row whose values cannot be read: reject (to reject_path, default
    # <output>.rejects.csv, with its row number and reason) or fail (exit 2, nothing written)
    on_bad_row: BadRowPolicy = BadRowPolicy.reject
    reject_path: Optional[str] = None
    # local (streams chunks through one session), or ray (Ray Data map_batches with one ONNX
    # session per actor; the output is a directory of Parquet files; `pip install tabpipe[ray]`)
    engine: BatchEngine = BatchEngine.local
    progress: bool = True


class PValueCorrection(str, Enum):
    bh = "bh"
    by = "by"
    none = "none"


class DriftSeverity(str, Enum):
    warn = "warn"
    alert = "alert"


@dataclass
class MonitorSeverityConfig:
    psi_warn: NonNegative = 0.1
    psi_alert: NonNegative = 0.25
    missing_warn: Probability = 0.05
    missing_alert: Probability = 0.1


@dataclass
class MonitorTestsConfig:
    # null: p-values are reported only; else an adjusted p below alpha raises the severity
    alpha: Optional[Fraction] = None
    correction: PValueCorrection = PValueCorrection.bh
    severity: DriftSeverity = DriftSeverity.warn


@dataclass
class DriftThresholds:
    """The drift severity rules, declared once: ``tabpipe monitor``'s config carries them
    (``epsilon``, ``min_samples``, ``severity.*``, ``tests.*``) and
    :mod:`tabpipe.monitoring.compare` judges with them as they are."""

    # empty bins get this share (then renormalised) before PSI and KL take logs
    epsilon: Positive = 1e-4
    # fewer current values than this: "insufficient_data", never an alert
    min_samples: AtLeastOne = 100
    severity: MonitorSeverityConfig = field(default_factory=MonitorSeverityConfig)
    tests: MonitorTestsConfig = field(default_factory=MonitorTestsConfig)


@dataclass
class MonitorConfig(DriftThresholds):
    bundle: str = MISSING
    current: Optional[str] = MISSING
    # prediction log: a duration (30m, 24h, 7d) or the last N input records; files: last N rows
    window: Optional[str] = None
    registry_root: str = "registry"
    providers: List[str] = field(default_factory=lambda: ["CPUExecutionProvider"])
    # default <state_dir>/<timestamp>/ with drift.json, report.md, plots/
    output_dir: Optional[str] = None
    # default monitoring/<model name>/: the trigger lock and history (triggers.jsonl)
    state_dir: Optional[str] = None
    exclude: List[str] = field(default_factory=list)
    # features only: score them with the bundle's graph for the prediction drift
    score: bool = True
    top_plots: NonNegativeInt = 5
    # retraining: run on a drift alert (and, with schedule=true, when the cadence is due)
    on_alert: Optional[str] = None
    cadence_days: Optional[Positive] = None
    cooldown_hours: NonNegative = 24.0
    schedule: bool = False


class EvalRows(str, Enum):
    all = "all"
    test = "test"


@dataclass
class EvalAppConfig:
    """``tabpipe eval bundle=<ref> [data=...]``: evaluate a saved bundle."""

    bundle: str = MISSING
    registry_root: str = "registry"
    # a data group option (data=csv data.path=...); null = the bundle's training data
    data: Optional[DataConfig] = None
    # the training run's test split (re-derived; needs the same data file), or all rows
    # (those in the training split flagged)
    rows: EvalRows = EvalRows.test
    output_dir: str = MISSING
    providers: List[str] = field(default_factory=lambda: ["CPUExecutionProvider"])
    # bootstrap and permutation seed; null = the bundle's training seed
    seed: Optional[int] = None
    eval: EvalConfig = field(default_factory=EvalConfig)


# each command's config file (conf/<name>.yaml) and its schema
APP_SCHEMAS: dict[str, type] = {
    "serve": ServeConfig,
    "predict": PredictConfig,
    "monitor": MonitorConfig,
    "eval": EvalAppConfig,
}
