"""The task protocol: everything the pipeline does differently per task, in one class.

A :class:`Task` owns the target (its checks, its encoding to what models fit), the
baseline, the metrics and the primary metric, the outputs of the exported graph, the
columns of a prediction frame and the plots that apply. The pipeline asks the task of a
run (:func:`tabpipe.tasks.get_task`) instead of branching on its name, so adding a task
is adding one subclass and registering it in :mod:`tabpipe.tasks.registry`.

This package is a leaf (layer 0): numpy and pandas only, nothing from the rest of tabpipe
but :mod:`tabpipe.errors`; metric *functions* stay in :mod:`tabpipe.evaluation.metrics`
(scikit-learn), the task names which of them apply.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from tabpipe.errors import ConfigError

LABEL, PROBABILITIES, PREDICTION, SCORE = "label", "probabilities", "prediction", "score"


def missing_target_problem(values: pd.Series, target: str) -> str | None:
    """The line for a target with missing values (every task needs a complete target)."""
    missing = int(values.isna().sum())
    if missing:
        return f"column {target!r} (target): {missing} missing values; the target must be complete"
    return None


class Task(ABC):
    """One supervised task. Subclasses set the class attributes and the abstract methods."""

    name: ClassVar[str]
    # the model outputs class probabilities [N, K] and the graph a label (else one number)
    has_classes: ClassVar[bool] = False
    # rows belong to queries (data.group_column): fits, metrics and resampling use them
    needs_groups: ClassVar[bool] = False
    # a decision threshold is chosen on val and applied by the graph's label output
    decision_threshold: ClassVar[bool] = False
    # splits (and target-encoding folds) stratify on the target
    stratify: ClassVar[bool] = True
    # the link of a network's raw output: "sigmoid", "softmax" or "identity"
    output_activation: ClassVar[str] = "identity"
    # scikit-learn's TargetEncoder target_type
    target_type: ClassVar[str] = "continuous"
    # the plots of the evaluation suite (names of :mod:`tabpipe.evaluation.suite` plots)
    plots: ClassVar[tuple[str, ...]] = ()
    # what a resampled bootstrap draws: rows, or whole queries
    resampled_unit: ClassVar[str] = "row"

    def __repr__(self) -> str:
        return f"<task {self.name}>"

    # ---- the target -------------------------------------------------------------------
    @abstractmethod
    def target_problems(
        self, frame: pd.DataFrame, target: str, group_column: str | None, positive: str | None
    ) -> list[str]:
        """One line per rule the raw target (and query id) breaks."""

    @abstractmethod
    def prepare_target(self, target: pd.Series, positive: str | None) -> tuple[pd.Series, list[str] | None]:
        """The validated target as the dataset keeps it, and the classes (or None)."""

    @abstractmethod
    def encode_target(self, target: pd.Series, classes: Sequence[str] | None) -> np.ndarray:
        """What models fit and metrics read: class indices (int64) or floats."""

    def n_outputs(self, n_classes: int) -> int:
        """The width of a network's raw output."""
        return 1

    def model_output(self, raw: np.ndarray) -> np.ndarray:
        """A model's native prediction as evaluation reads it: probabilities [N, K], or [N]."""
        return np.asarray(raw, dtype=np.float64).reshape(-1)

    # ---- metrics ----------------------------------------------------------------------
    # the metrics (names of :mod:`tabpipe.evaluation.metrics` functions) in report order, the
    # default primary one, and what a comparison of runs looks at after the primary one
    metrics: ClassVar[tuple[str, ...]] = ()
    default_primary: ClassVar[str] = ""
    secondary: ClassVar[tuple[str, ...]] = ()

    def metric_names(self, ranking_k: Sequence[int] | None = None) -> list[str]:
        """The task's metrics in report order (``ranking_k``: the cut-offs, ranking only)."""
        return list(self.metrics)

    def primary_metric(self, configured: str | None, ranking_k: Sequence[int] | None = None) -> str:
        """The configured primary metric, checked against the task's metrics, else the default."""
        name = configured or self.default_primary
        if name not in self.metrics:
            raise ConfigError(
                f"eval.primary_metric={name!r}: not a {self.name} metric; use one of {sorted(self.metrics)}"
            )
        return name

    def headline_metrics(self, primary: str, ranking_k: Sequence[int] | None = None) -> list[str]:
        """The primary metric, then the task's secondary ones (DVC's metrics file)."""
        return [primary, *(name for name in self.secondary if name != primary)]

    def prepare_scores(
        self, scores: np.ndarray, labels: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Scores and labels as metrics read them (classification: normalised, argmax labels)."""
        return scores, labels

    # ---- the baseline -----------------------------------------------------------------
    # what the baseline model (tabpipe.models.baseline) fits: "prior" (the train class
    # priors), "mean" (the train mean) or "best_feature" (the best single feature, ranking)
    baseline: ClassVar[str] = "mean"

    @property
    @abstractmethod
    def baseline_description(self) -> str:
        """What the baseline predicts, in words (ranking: refined by its chosen feature)."""

    def baseline_scores(self, values: Sequence[float], n_rows: int) -> np.ndarray:
        """A recorded constant baseline (``baseline_values``) as scores of ``n_rows`` rows."""
        return np.tile(np.asarray(values, dtype=np.float64), (n_rows, 1)).reshape(-1)

    def baseline_values(self, test_scores: np.ndarray) -> list[float] | None:
        """What the bundle records of a constant baseline: its first row's output."""
        return [float(v) for v in np.ravel(test_scores[:1])]

    # ---- graph outputs and prediction frames ------------------------------------------
    @abstractmethod
    def output_specs(self, classes: Sequence[str] | None) -> list[dict[str, Any]]:
        """The graph's outputs as the bundle's schema.json lists them."""

    def output_names(self) -> list[str]:
        return [spec["name"] for spec in self.output_specs([])]

    def scores_from_outputs(self, outputs: dict[str, np.ndarray]) -> np.ndarray:
        """What evaluation consumes from the graph's outputs (float64)."""
        return np.asarray(outputs[self.output_names()[0]], dtype=np.float64).reshape(-1)

    def output_columns(self, outputs: dict[str, np.ndarray], classes: Sequence[str] | None) -> dict[str, Any]:
        """The columns a prediction or a batch output has, from the graph's outputs; the
        first is the predicted value (label, prediction or score). ``outputs`` may hold
        the probabilities alone: the label is then their argmax."""
        name = self.output_names()[0]
        return {name: np.asarray(outputs[name]).reshape(-1)}

    def records(self, outputs: dict[str, np.ndarray], classes: Sequence[str] | None) -> list[dict[str, Any]]:
        """One JSON-ready result per row (the server's ``predictions``)."""
        name = self.output_names()[0]
        return [{name: v} for v in outputs[name].tolist()]

    def prediction_frame(
        self,
        ids: pd.DataFrame,
        y_true: np.ndarray,
        scores: np.ndarray,
        labels: np.ndarray | None,
        classes: Sequence[str] | None,
        fold: int | None = None,
    ) -> pd.DataFrame:
        """Evaluated predictions (a run's ``predictions/test.parquet``, ``tabpipe eval``'s
        ``predictions.parquet``): ids, ``fold`` (k-fold runs' files), ``y_true``, ``y_pred``
        (the first output column: label, prediction or score) and the task's other output
        columns (``proba_<class>``). ``labels``: class indices (classification)."""
        outputs = self.graph_like_outputs(scores, labels, classes)
        columns = self.output_columns(outputs, classes)
        first = next(iter(columns))
        frame = ids.reset_index(drop=True).copy()
        if fold is not None:
            frame["fold"] = fold
        frame["y_true"] = y_true
        frame["y_pred"] = columns.pop(first)
        for name, values in columns.items():
            frame[name] = values
        return frame

    def graph_like_outputs(
        self, scores: np.ndarray, labels: np.ndarray | None, classes: Sequence[str] | None
    ) -> dict[str, np.ndarray]:
        """Evaluation's scores (and class indices) shaped as the graph's outputs."""
        return {self.output_names()[0]: np.asarray(scores).reshape(-1)}

    def monitored_classes(self, classes: Sequence[str]) -> list[str]:
        """The classes whose probability drift monitoring tests."""
        return list(classes)
