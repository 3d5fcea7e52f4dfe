"""Dataclass schemas of the commands other than training: ``tabpipe serve``, ``predict``,
``monitor`` and ``eval`` (``conf/serve.yaml``, ``predict.yaml``, ``monitor.yaml``, ``eval.yaml``).

Every field has an attribute docstring: its description in the generated configuration
reference. OmegaConf needs ``typing.Optional``/``List`` here, not PEP 604 unions.
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
    """An A/B split between the served bundle and a second one."""

    bundle: Optional[str] = None
    """The second arm (name@alias, name:version or a path); null: no A/B split."""
    weight: Probability = 0.0
    """The share of the requests that the second arm answers."""
    key: Optional[str] = None
    """A request field whose value makes the assignment sticky (e.g. customer_id)."""
    salt: str = "tabpipe"
    """Mixed into the hash that assigns a request to an arm (a new salt reshuffles)."""


@dataclass
class RedactConfig:
    """What the prediction log hashes, drops or keeps in clear."""

    hash: List[str] = field(default_factory=list)
    """Request fields written as a keyed hash (HMAC-SHA256), besides the bundle's id columns."""
    drop: List[str] = field(default_factory=list)
    """Request fields left out of the log."""
    keep: List[str] = field(default_factory=list)
    """Id columns written in clear (they are hashed otherwise)."""


@dataclass
class PredictionLogConfig:
    """One JSON line per request, mode 0600, rotated by size."""

    path: Optional[str] = None
    """The log file; null: no prediction log."""
    max_bytes: AtLeastOne = 10_000_000
    """Rotate the log when it reaches this size."""
    backups: NonNegativeInt = 5
    """Rotated files kept."""
    redact: RedactConfig = field(default_factory=RedactConfig)
    """Fields hashed, dropped or kept in clear."""
    key: Optional[str] = None
    """The hashes' HMAC key (conf/serve.yaml: $TABPIPE_PREDICTION_LOG_KEY); null: key_file's."""
    key_file: Optional[str] = None
    """null: .<log name>.key beside the log, created with a random key and mode 0600."""


@dataclass
class DriftGaugesConfig:
    """Prometheus drift gauges on /metrics: PSI per feature over the last ``window`` requests,
    computed at scrape time from a bounded buffer."""

    window: NonNegativeInt = 1000
    """Requests kept for the gauges; 0 turns them off."""
    top: AtLeastOne = 10
    """Gauges for the features with the largest PSI only."""
    min_samples: AtLeastOne = 100
    """A feature needs this many present values in the window to get a gauge."""


@dataclass
class ServeFeaturesConfig:
    """A bundle trained from a feature store: how requests meet the stored features."""

    allow_override: bool = False
    """A request that carries a stored feature itself: true uses the request's value; false
    answers 422."""
    repo: Optional[str] = None
    """The feature repository; null: the one the bundle was trained from."""


@dataclass
class ServeConfig:
    """``tabpipe serve`` (conf/serve.yaml)."""

    bundle: str = MISSING
    """The bundle served: name@alias, name:version or a path."""
    registry_root: str = "registry"
    """The registry that name@alias and name:version refer to."""
    host: str = "127.0.0.1"
    """The address to listen on."""
    port: Annotated[int, Interval(ge=0, le=65535)] = 8000
    """The port to listen on (0: any free port)."""
    providers: List[str] = field(default_factory=lambda: ["CPUExecutionProvider"])
    """ONNX Runtime execution providers, in order of preference."""
    timeout_ms: Positive = 1000.0
    """A prediction that takes longer is answered 504."""
    max_body_bytes: AtLeastOne = 1_048_576
    """A larger request body is answered 413."""
    max_records: AtLeastOne = 10_000
    """Records per request at most (more: 422)."""
    on_missing: InputPolicy = InputPolicy.warn
    """A missing value: allow (the graph imputes it as in training), warn (in the response),
    error (422)."""
    on_unseen_category: InputPolicy = InputPolicy.warn
    """A category unseen in training: allow, warn or error (422)."""
    on_out_of_range: InputPolicy = InputPolicy.warn
    """A number outside the training range: allow, warn or error (422)."""
    admin_token: Optional[str] = None
    """The bearer token of POST /admin/reload; null: the endpoint is disabled (403)."""
    ab: ABConfig = field(default_factory=ABConfig)
    """An A/B split with a second bundle."""
    shadow: Optional[str] = None
    """A bundle scored after each response and only logged (its answers are never returned)."""
    prediction_log: PredictionLogConfig = field(default_factory=PredictionLogConfig)
    """One JSON line per request, mode 0600, rotated by size."""
    features: ServeFeaturesConfig = field(default_factory=ServeFeaturesConfig)
    """A feature-store bundle: requests carry entity keys; the rest is fetched online."""
    drift: DriftGaugesConfig = field(default_factory=DriftGaugesConfig)
    """Prometheus drift gauges on /metrics (window=0: off)."""
    log_level: str = "warning"
    """uvicorn's log level."""
    access_log: bool = False
    """One line per request (uvicorn's access log: client, method, path, status), whatever
    log_level."""
    opentelemetry: bool = False
    """FastAPI's OpenTelemetry spans, metrics and logs (to the OTEL providers/exporters
    configured in the environment). Off by default: its per-request checks cost ~15 us, and
    tabpipe's own Prometheus metrics are on /metrics either way."""


class BadRowPolicy(str, Enum):
    reject = "reject"
    fail = "fail"


class BatchEngine(str, Enum):
    local = "local"
    ray = "ray"


@dataclass
class PredictConfig:
    """``tabpipe predict`` (conf/predict.yaml)."""

    bundle: str = MISSING
    """The bundle: name@alias, name:version or a path."""
    input: str = MISSING
    """A CSV or Parquet file, or a directory of them."""
    output: str = MISSING
    """The scored file (Parquet or CSV, by its suffix)."""
    registry_root: str = "registry"
    """The registry that name@alias and name:version refer to."""
    providers: List[str] = field(default_factory=lambda: ["CPUExecutionProvider"])
    """ONNX Runtime execution providers, in order of preference."""
    chunk_rows: AtLeastOne = 100_000
    """Rows scored per chunk (the memory bound)."""
    on_bad_row: BadRowPolicy = BadRowPolicy.reject
    """A row whose values cannot be read: reject (to reject_path, with its row number and
    reason) or fail (exit 2, nothing written)."""
    reject_path: Optional[str] = None
    """The rejected rows; null: <output>.rejects.csv."""
    engine: BatchEngine = BatchEngine.local
    """local (streams chunks through one session), or ray (Ray Data map_batches with one ONNX
    session per actor; the output is a directory of Parquet files; ``pip install
    tabpipe[ray]``)."""
    progress: bool = True
    """Show a progress bar."""


class PValueCorrection(str, Enum):
    bh = "bh"
    by = "by"
    none = "none"


class DriftSeverity(str, Enum):
    warn = "warn"
    alert = "alert"


@dataclass
class MonitorSeverityConfig:
    """The thresholds of a feature's severity."""

    psi_warn: NonNegative = 0.1
    """PSI from which a feature warns."""
    psi_alert: NonNegative = 0.25
    """PSI above which a feature alerts."""
    missing_warn: Probability = 0.05
    """Change of the missing rate (absolute) from which a feature warns."""
    missing_alert: Probability = 0.1
    """Change of the missing rate (absolute) from which a feature alerts."""


@dataclass
class MonitorTestsConfig:
    """The statistical tests (KS for numbers, chi-square for categories)."""

    alpha: Optional[Fraction] = None
    """null: p-values are reported only; else an adjusted p below alpha raises the severity."""
    correction: PValueCorrection = PValueCorrection.bh
    """The multiple-testing correction: Benjamini-Hochberg, Benjamini-Yekutieli or none."""
    severity: DriftSeverity = DriftSeverity.warn
    """The severity a significant test raises a feature to."""


@dataclass
class DriftThresholds:
    """The drift severity rules, declared once: ``tabpipe monitor``'s config carries them
    (``epsilon``, ``min_samples``, ``severity.*``, ``tests.*``) and
    :mod:`tabpipe.monitoring.compare` judges with them as they are."""

    epsilon: Positive = 1e-4
    """Empty bins get this share (then renormalised) before PSI and KL take logs."""
    min_samples: AtLeastOne = 100
    """Fewer current values than this: "insufficient_data", never an alert."""
    severity: MonitorSeverityConfig = field(default_factory=MonitorSeverityConfig)
    """The PSI and missing-rate thresholds."""
    tests: MonitorTestsConfig = field(default_factory=MonitorTestsConfig)
    """The statistical tests."""


@dataclass
class MonitorConfig(DriftThresholds):
    """``tabpipe monitor`` (conf/monitor.yaml)."""

    bundle: str = MISSING
    """The bundle: name@alias, name:version or a path."""
    current: Optional[str] = MISSING
    """The current data: a CSV, Parquet or prediction log (JSONL) file."""
    window: Optional[str] = None
    """Prediction log: a duration (30m, 24h, 7d) or the last N input records; files: the last
    N rows."""
    registry_root: str = "registry"
    """The registry that name@alias and name:version refer to."""
    providers: List[str] = field(default_factory=lambda: ["CPUExecutionProvider"])
    """ONNX Runtime execution providers, in order of preference."""
    output_dir: Optional[str] = None
    """drift.json, report.md, plots/; null: <state_dir>/<timestamp>/."""
    state_dir: Optional[str] = None
    """The trigger lock and history (triggers.jsonl); null: monitoring/<model name>/."""
    exclude: List[str] = field(default_factory=list)
    """Columns left out of the comparison."""
    score: bool = True
    """Features only: score them with the bundle's graph for the prediction drift."""
    top_plots: NonNegativeInt = 5
    """Plots of the most drifted features (at warn or alert) at most."""
    on_alert: Optional[str] = None
    """A command run on a drift alert (and, with schedule=true, when the cadence is due), e.g.
    'dvc repro'."""
    cadence_days: Optional[Positive] = None
    """schedule=true: run on_alert this many days after training or the last trigger."""
    cooldown_hours: NonNegative = 24.0
    """on_alert is not run again within this many hours."""
    schedule: bool = False
    """Also run on_alert when the cadence is due."""


class EvalRows(str, Enum):
    all = "all"
    test = "test"


@dataclass
class EvalAppConfig:
    """``tabpipe eval bundle=<ref> [data=...]``: evaluate a saved bundle."""

    bundle: str = MISSING
    """The bundle: name@alias, name:version or a path."""
    registry_root: str = "registry"
    """The registry that name@alias and name:version refer to."""
    data: Optional[DataConfig] = None
    """A data group option (data=csv data.path=...); null: the bundle's training data."""
    rows: EvalRows = EvalRows.test
    """test: the training run's test split (re-derived; needs the same data file); all: every
    row (those in the training split flagged)."""
    output_dir: str = MISSING
    """metrics.json, evaluation.json, report.md, plots/, predictions.parquet."""
    providers: List[str] = field(default_factory=lambda: ["CPUExecutionProvider"])
    """ONNX Runtime execution providers, in order of preference."""
    seed: Optional[int] = None
    """Bootstrap and permutation seed; null: the bundle's training seed."""
    eval: EvalConfig = field(default_factory=EvalConfig)
    """The evaluation suite's settings, as in training."""


# each command's config file (conf/<name>.yaml) and its schema
APP_SCHEMAS: dict[str, type] = {
    "serve": ServeConfig,
    "predict": PredictConfig,
    "monitor": MonitorConfig,
    "eval": EvalAppConfig,
}
