"""``metadata.json``: what a bundle records about the run that trained it (README
"metadata.json"). The resolved config is kept whole (``config``); the parts tabpipe reads back
are typed, the rest travels as it was written."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

from tabpipe.documents.base import Document


class _Open(BaseModel):
    """A record whose other keys are kept as written (a newer writer may add some)."""

    model_config = ConfigDict(extra="allow", ser_json_inf_nan="constants", populate_by_name=True)


class _Value(BaseModel):
    """A frozen record that ``evaluation.json`` also carries: written there as strict JSON (a
    NaN as null, pydantic's default), in ``metadata.json`` as ``json.dumps`` writes it."""

    model_config = ConfigDict(extra="allow", frozen=True)


class ModelTarget(_Open):
    target: str = Field("", alias="_target_")


class RecordedEval(_Open):
    primary_metric: str | None = None
    ranking_k: list[int] | None = None


class RecordedConfig(_Open):
    """The resolved training config (all of it); ``data``/``split`` are re-composed by
    ``tabpipe eval`` and ``compare``, so they stay plain trees."""

    seed: int | None = None
    model: ModelTarget = Field(default_factory=ModelTarget)
    eval: RecordedEval = Field(default_factory=RecordedEval)
    data: dict[str, Any] | None = None
    split: dict[str, Any] | None = None

    @property
    def model_class(self) -> str:
        """The model's class name, e.g. ``XGBModel`` (empty when not recorded)."""
        return self.model.target.rsplit(".", 1)[-1]

    def tree(self) -> dict[str, Any]:
        """The config as recorded, for ``OmegaConf.create``."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


class HydraJob(_Open):
    overrides: list[str] | None = None
    cwd: str | None = None
    mode: str | None = None


class DatasetFacts(_Open):
    uri: str
    sha256: str
    dvc_md5: str | None = None
    dvc_tracked_by: str | None = None
    n_rows: int | None = None
    n_columns: int | None = None


class FeatureStoreFacts(_Open):
    """A bundle trained from a Feast feature store (data=feast): what serving fetches by
    entity key and what a request carries itself."""

    repo: str
    """The feature repository's folder, as configured (relative to the project root)."""
    feature_service: str | None = None
    features: list[str]
    """The feature references joined, ``view:feature``."""
    columns: dict[str, str]
    """Each reference's column in the training frame (and graph input)."""
    entity_keys: list[str]
    """The join keys a request must carry."""
    request_columns: list[str] = []
    """Columns a request carries itself (request-time features)."""
    timestamp_column: str
    feast_version: str
    definitions_sha256: str
    """sha256 over the repository's definitions and the feature views' source data."""


class RowIdHashes(_Open):
    """sha256 of each part's row ids (``check-run`` requires all three)."""

    train: str | None = None
    val: str | None = None
    test: str | None = None


class SplitFacts(_Open):
    fold: int | None = None
    train: int
    val: int
    test: int
    row_ids_sha256: RowIdHashes = Field(default_factory=RowIdHashes)


class GitState(_Open):
    commit: str | None = None
    dirty: bool | None = None


class ArtifactRecord(_Open):
    """One file of the run directory, as ``check-run`` verifies it."""

    sha256: str
    bytes: int | None = None


class BaselineRanker(_Open):
    """The ranking baseline: ``sign * feature`` (``SingleFeatureRanker.state``)."""

    feature_index: int
    feature: str
    sign: float


class ImportanceRow(_Open):
    """One feature's importance: the mean over the shuffles (permutation) or the gain
    (native), and the standard deviation over the shuffles (permutation only)."""

    feature: str
    importance: float
    std: float | None = None


class FeatureImportance(_Open):
    """The importance measured at training (``Bundle.explain()``), most important first:
    ``permutation`` over the raw input columns (the drop of ``metric`` on the test split),
    ``native`` over the encoded features (xgb, lgbm gain)."""

    metric: str | None = None
    permutation: list[ImportanceRow] = []
    native: list[ImportanceRow] = []


class CostMatrix(_Value):
    """The cost of each outcome of one row (a benefit is a negative cost)."""

    tp: float = 0.0
    fp: float = 1.0
    fn: float = 1.0
    tn: float = 0.0


class ThresholdChoice(_Value):
    """A binary model's decision threshold (``eval.threshold.strategy``, chosen on ``chosen_on``)
    and the F1- and cost-optimal ones found there (:mod:`tabpipe.evaluation.thresholds`)."""

    strategy: str
    value: float
    f1_optimal: float
    cost_optimal: float
    cost: CostMatrix
    chosen_on: str = "val"


class GateResult(_Value):
    """One gate's outcome (:mod:`tabpipe.evaluation.gates` decides ``passed``), as
    ``evaluation.json`` and the bundle's evaluation record keep it."""

    reference: str  # "baseline" | "production"
    metric: str  # e.g. test/auc
    model: float
    value: float  # the reference's value of the metric
    min_improvement: float
    enforced: bool
    message: str
    passed: bool


class EvaluationRecord(_Open):
    """Per fold: the decision threshold, the baseline's constant or ranker, the gates and
    (a single split) the feature importance."""

    threshold: ThresholdChoice | None = None
    baseline_values: list[float] | None = None
    baseline_ranker: BaselineRanker | None = None
    gates: list[GateResult] = []
    importance: FeatureImportance | None = None


class ParityRecord(_Open):
    """The parity gate's result (:class:`tabpipe.export.parity.ParityResult`)."""

    rows: int
    max_abs_diff: float
    max_rel_diff: float
    label_agreement: float
    providers: list[str] = []
    rtol: float
    passed: bool


class ExportFacts(_Open):
    opset: int | None = None
    parity: ParityRecord | None = None
    native_vs_graph_max_abs_diff: float | None = None
    providers_requested: list[str] = []
    providers_used: list[str] = []


class RegistrationSource(_Open):
    """Where a version came from: a run, a multirun job, a sweep's best-params re-run, DVC."""

    kind: str = "run"  # run | multirun | sweep | dvc
    run_dir: str | None = None
    job: int | None = None  # multirun
    study: str | None = None  # sweep
    stage: str | None = None  # dvc
    experiment: str | None = None  # sweep, dvc exp
    baseline_rev: str | None = None  # dvc exp

    @model_serializer(mode="wrap")
    def _without_nulls(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Only what the source recorded (a run has no job, study or stage)."""
        return {k: v for k, v in handler(self).items() if v is not None}

    def describe(self) -> str:
        """One phrase for ``registry list``: ``dvc exp <name>``, ``sweep <study> ...``, ``run <dir>``."""
        run_dir = self.run_dir or ""
        if self.kind == "dvc":
            if self.experiment:
                return f"dvc exp {self.experiment}"
            return "dvc exp" if self.baseline_rev else "dvc repro"
        if self.kind == "sweep":
            return f"sweep {self.study} (best params) {run_dir}".rstrip()
        if self.kind == "multirun":
            return f"multirun job {self.job} {run_dir}".rstrip()
        return f"{self.kind} {run_dir}".rstrip()


class RegistryRecord(_Open):
    """Stamped by the registry when a bundle becomes a version (signed with it)."""

    name: str
    version: int
    source_run: str | None = None
    source: RegistrationSource | None = None
    primary_metric: str | None = None
    registered_at: str | None = None

    @property
    def ref(self) -> str:
        return f"{self.name}:{self.version}"

    def origin(self) -> RegistrationSource | None:
        """Where the version came from (older versions recorded only ``source_run``)."""
        if self.source:
            return self.source
        return RegistrationSource(kind="run", run_dir=self.source_run) if self.source_run else None


class RecordedArtifacts(_Open):
    """Only the ``artifacts`` of a ``metadata.json``: ``check-run`` verifies the files even
    when another entry of the document is missing or malformed."""

    artifacts: dict[str, ArtifactRecord] = {}


class MetadataDocument(Document):
    model_config = ConfigDict(extra="allow", ser_json_inf_nan="constants", populate_by_name=True)

    task: str
    classes: list[str] | None = None
    seed: int
    config: RecordedConfig = Field(default_factory=RecordedConfig)
    hydra: HydraJob | None = None
    dataset: DatasetFacts
    splits: list[SplitFacts] = []
    git: GitState = Field(default_factory=GitState)
    packages: dict[str, str | None] = {}
    platform: dict[str, Any] = {}
    device: dict[str, Any] = {}
    started_at: str
    ended_at: str | None = None
    duration_s: float | None = None
    metrics: dict[str, Any] = {}
    artifacts: dict[str, ArtifactRecord] = {}
    parity: list[ParityRecord] = []
    evaluation: list[EvaluationRecord] = []
    export: ExportFacts | None = None
    registry: RegistryRecord | None = None
    feature_store: FeatureStoreFacts | None = None

    @property
    def name(self) -> str | None:
        """The registered name (None for a bundle not in a registry)."""
        return self.registry.name if self.registry else None

    @property
    def version_label(self) -> str:
        return str(self.registry.version) if self.registry else "unregistered"

    @property
    def first_evaluation(self) -> EvaluationRecord:
        return self.evaluation[0] if self.evaluation else EvaluationRecord()
