"""``tabpipe.load_bundle``: a verified bundle that scores DataFrames with its ONNX graph.

Scoring is batch scoring's own code (:func:`tabpipe.serving.batch.score_frame`): the same
coercion of raw values, the same ONNX Runtime session and the same output columns as
``tabpipe predict``, so a frame scores as the same rows in a file would.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from tabpipe.errors import ConfigError, DataValidationError

if TYPE_CHECKING:
    import pandas as pd

    from tabpipe.export.documents import MetadataDocument, ProfileDocument, SchemaDocument
    from tabpipe.serving.loaded_model import LoadedModel

IMPORTANCE_KINDS = ("permutation", "native")
POLICIES = ("allow", "warn", "error")
_NOT_RECORDED = {
    "permutation": "trained with eval.plots=false or eval.importance.permutation=false, a k-fold "
    "run, or a bundle older than the record",
    "native": "only xgb and lgbm have a native importance",
}


class Bundle:
    """A verified bundle (checksums, and the signature when ``$TABPIPE_REGISTRY_KEY`` is set)
    with an ONNX Runtime session open on its graph. Made by :func:`load_bundle`."""

    def __init__(self, model: LoadedModel) -> None:
        self._model = model

    def __repr__(self) -> str:
        return f"Bundle({self.ref!r}, task={self.schema.task!r}, path={str(self.path)!r})"

    @property
    def ref(self) -> str:
        """The registry ref (``name:version``), else the bundle's path."""
        record = self.metadata.registry
        return record.ref if record else str(self.path)

    @property
    def path(self) -> Path:
        """The bundle directory."""
        return self._model.bundle.path

    @property
    def schema(self) -> SchemaDocument:
        """``schema.json``: the task, classes, id columns, inputs and outputs."""
        return self._model.bundle.schema

    @property
    def metadata(self) -> MetadataDocument:
        """``metadata.json``: the run that trained it (config, data, git, parity, registry)."""
        return self._model.bundle.metadata

    @property
    def profile(self) -> ProfileDocument:
        """``reference_profile.json``: the training rows' features and scores (drift reference)."""
        return self._model.bundle.profile

    @property
    def metrics(self) -> dict[str, float]:
        """``metrics.json``: every metric of the training run (``test/auc``, ``val/auc``, ...),
        validated (:class:`~tabpipe.errors.BundleError` naming the metric when it is not)."""
        return self._model.bundle.metrics

    def predict(
        self,
        df: pd.DataFrame,
        on_missing: str = "allow",
        on_unseen_category: str = "allow",
        on_out_of_range: str = "allow",
    ) -> pd.DataFrame:
        """Score the rows of ``df`` (raw columns, as in the training data; others ignored).

        Args:
            df: the rows.
            on_missing, on_unseen_category, on_out_of_range: the server's input policies
                (``tabpipe serve on_missing=...``), checked on the values read from ``df``:
                ``allow`` (default, as ``tabpipe predict``), ``warn`` (one ``UserWarning``
                listing the findings) or ``error`` (raise, one line per finding).

        Returns:
            One row per input row, with the same index: the id columns present in ``df``,
            then ``label`` and ``proba_<class>`` (classification), ``prediction``
            (regression) or ``score`` (ranking), the columns ``tabpipe predict`` writes.

        Raises:
            tabpipe.errors.DataValidationError: a column of the schema is missing (one line
                per column), a value cannot be read as its column's type (the first such row,
                by position: ``row 3: column 'tenure': non-numeric value 'abc'``), or a
                policy set to ``error`` is broken (``[3].tenure: 990.0 outside the training
                range [0.0, 72.0]``).
            tabpipe.errors.ConfigError: ``df`` is not a DataFrame, or an unknown policy.
        """
        import pandas as pd

        from tabpipe.serving.batch import ROW_NUMBER, score_frame

        if not isinstance(df, pd.DataFrame):
            raise ConfigError(f"df: expected a pandas DataFrame, got {type(df).__name__}")
        policies = {
            "on_missing": on_missing,
            "on_unseen_category": on_unseen_category,
            "on_out_of_range": on_out_of_range,
        }
        for key, policy in policies.items():
            if policy not in POLICIES:
                raise ConfigError(f"{key}={policy!r}: one of {', '.join(POLICIES)}")
        frame = df.reset_index(drop=True)
        scored, rejected = score_frame(self._model, frame, 0, list(self.schema.id_columns))
        if len(rejected):
            first = rejected.iloc[0]
            raise DataValidationError([f"row {first[ROW_NUMBER]}: {first['reason']}"])
        if any(policy != "allow" for policy in policies.values()):
            self._check_policies(frame, policies)
        scored.index = df.index
        return scored

    def _check_policies(self, frame: pd.DataFrame, policies: dict[str, str]) -> None:
        """The server's :class:`~tabpipe.serving.request_model.InputPolicies` on the rows'
        values as read for the graph (numbers as floats, categories as text)."""
        import warnings

        import pandas as pd

        from tabpipe.data.coercion import coerce_columns
        from tabpipe.serving.request_model import InputPolicies, PolicyViolation

        coerced = coerce_columns(frame, self.schema.input_types).astype(object)
        records = coerced.where(pd.notna(coerced), None).to_dict(orient="records")
        try:
            found = InputPolicies(self.schema, policies).check(records)
        except PolicyViolation as violation:
            raise DataValidationError([f"{p['field']}: {p['rule']}" for p in violation.problems]) from None
        if found:
            shown = "; ".join(found[:5]) + (f"; ... ({len(found)} in all)" if len(found) > 5 else "")
            warnings.warn(f"{self.ref}: {shown}", UserWarning, stacklevel=3)

    def explain(self, kind: str = "permutation") -> pd.DataFrame:
        """The feature importance recorded at training, most important first.

        Args:
            kind: ``permutation`` (default): the drop of the primary metric on the test split
                when one raw input column is shuffled; ``native``: the gain of each encoded
                feature (xgb, lgbm).

        Returns:
            A frame with ``feature``, ``importance`` and ``std`` (permutation: over the
            shuffles; native: empty).

        Raises:
            tabpipe.errors.ConfigError: an unknown ``kind``, or none recorded for it.
        """
        import pandas as pd

        if kind not in IMPORTANCE_KINDS:
            raise ConfigError(f"kind={kind!r}: one of {', '.join(IMPORTANCE_KINDS)}")
        recorded = self.metadata.first_evaluation.importance
        rows = getattr(recorded, kind) if recorded is not None else []
        if not rows:
            raise ConfigError(f"{self.ref}: no {kind} feature importance recorded ({_NOT_RECORDED[kind]})")
        return pd.DataFrame([row.model_dump(include={"feature", "importance", "std"}) for row in rows])


def load_bundle(ref: str | Path, registry: str | Path | None = None, providers: Any = None) -> Bundle:
    """Load and verify a bundle, as ``tabpipe serve`` and ``tabpipe predict`` do.

    Args:
        ref: ``name@alias``, ``name:version`` or a bundle directory.
        registry: the registry directory (default: ``$TABPIPE_REGISTRY``, else ``./registry``).
        providers: ONNX Runtime execution providers (default: the CPU).

    Raises:
        tabpipe.errors.RegistryError: an unknown model, alias or version, or a bad ref.
        tabpipe.errors.BundleError: a bundle that fails its checksums or signature.
    """
    from tabpipe.export.registry import default_root
    from tabpipe.serving.loaded_model import load_model

    root = Path(registry) if registry is not None else default_root()
    return Bundle(load_model(str(ref), root, list(providers or ["CPUExecutionProvider"])))
