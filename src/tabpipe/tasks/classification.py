"""task=binary and task=multiclass: class labels, class probabilities, the class priors as
the baseline."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from tabpipe.errors import DataValidationError
from tabpipe.tasks.base import LABEL, PROBABILITIES, Task, missing_target_problem

MIN_CLASS_ROWS = 3


def predicted_labels(scores: np.ndarray, threshold: float | None = None) -> np.ndarray:
    """Class index per row: argmax of the probabilities; for binary with a threshold,
    the positive class (index 1) where ``P(positive) >= threshold``."""
    scores = np.asarray(scores)
    if threshold is not None and scores.shape[1] == 2:
        return (scores[:, 1] >= threshold).astype(np.int64)
    return scores.argmax(axis=1)


def normalised_probabilities(probabilities: np.ndarray) -> np.ndarray:
    """Rows of class probabilities [N, K] divided by their float64 sums (rows summing to
    zero are left as they are)."""
    p = np.asarray(probabilities, dtype=np.float64)
    if p.ndim != 2 or len(p) == 0:
        return p
    sums = p.sum(axis=1, keepdims=True)
    return np.divide(p, sums, out=p.copy(), where=sums > 0)


class ClassificationTask(Task):
    """What binary and multiclass share: string classes (sorted; binary puts
    ``data.positive_class`` last), probabilities [N, K] and a label."""

    has_classes = True
    baseline = "prior"

    def _class_count_problem(self, name: str, found: int) -> str | None:
        raise NotImplementedError

    def target_problems(
        self, frame: pd.DataFrame, target: str, group_column: str | None, positive: str | None
    ) -> list[str]:
        values = frame[target]
        missing = missing_target_problem(values, target)
        if missing:
            return [missing]
        counts = values.astype(str).value_counts()
        wrong_count = self._class_count_problem(target, len(counts))
        if wrong_count:
            return [wrong_count]
        problems = [
            f"column {target!r} (target): class {label!r} has {count} row; every class needs at least "
            f"{MIN_CLASS_ROWS}"
            for label, count in counts.items()
            if count < MIN_CLASS_ROWS
        ]
        if positive is not None and positive not in counts.index:
            classes = ", ".join(map(repr, sorted(counts.index)))
            problems.append(
                f"data.positive_class={positive!r}: not a class of column {target!r}; classes: {classes}"
            )
        return problems

    def prepare_target(self, target: pd.Series, positive: str | None) -> tuple[pd.Series, list[str] | None]:
        target = target.astype(str)
        return target, sorted(target.unique().tolist())

    def encode_target(self, target: pd.Series, classes: Sequence[str] | None) -> np.ndarray:
        """Class indices in ``classes`` order; a value outside ``classes`` (a bundle's
        classes, scored on other data) is refused with one line."""
        classes = list(classes or [])
        unknown = sorted(set(target.unique()) - set(classes))
        if unknown:
            line = f"column {target.name!r} (target): class {unknown[0]!r} is not one the bundle predicts"
            raise DataValidationError([f"{line} {classes}"])
        index = {label: i for i, label in enumerate(classes)}
        return target.map(index).to_numpy(dtype=np.int64)

    def n_outputs(self, n_classes: int) -> int:
        return n_classes

    def model_output(self, raw: np.ndarray) -> np.ndarray:
        return np.asarray(raw, dtype=np.float64)

    def prepare_scores(
        self, scores: np.ndarray, labels: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Probabilities renormalised in float64 so that every row sums to one (a float32
        softmax sums to one only within ~1e-7, which scikit-learn's ``log_loss`` flags);
        labels default to the argmax."""
        scores = normalised_probabilities(scores)
        return scores, predicted_labels(scores) if labels is None else labels

    @property
    def baseline_description(self) -> str:
        return "the train class priors (most frequent class)"

    def baseline_scores(self, values: Sequence[float], n_rows: int) -> np.ndarray:
        return np.tile(np.asarray(values, dtype=np.float64), (n_rows, 1))

    def output_specs(self, classes: Sequence[str] | None) -> list[dict[str, Any]]:
        classes = list(classes or [])
        return [
            {"name": LABEL, "type": "string", "shape": ["N"], "values": classes},
            {"name": PROBABILITIES, "type": "float32", "shape": ["N", len(classes)], "columns": classes},
        ]

    def scores_from_outputs(self, outputs: dict[str, np.ndarray]) -> np.ndarray:
        return np.asarray(outputs[PROBABILITIES], dtype=np.float64)

    def output_columns(self, outputs: dict[str, np.ndarray], classes: Sequence[str] | None) -> dict[str, Any]:
        classes = list(classes or [])
        probabilities = np.asarray(outputs[PROBABILITIES])
        if LABEL in outputs:
            labels = np.asarray(outputs[LABEL])
        else:
            labels = np.asarray(classes, dtype=object)[probabilities.argmax(axis=1)]
        columns: dict[str, Any] = {LABEL: labels}
        for i, name in enumerate(classes):
            columns[f"proba_{name}"] = probabilities[:, i]
        return columns

    def records(self, outputs: dict[str, np.ndarray], classes: Sequence[str] | None) -> list[dict[str, Any]]:
        classes = list(classes or [])
        return [
            {"label": str(label), "probabilities": dict(zip(classes, row, strict=True))}
            for label, row in zip(outputs[LABEL].tolist(), outputs[PROBABILITIES].tolist(), strict=True)
        ]

    def graph_like_outputs(
        self, scores: np.ndarray, labels: np.ndarray | None, classes: Sequence[str] | None
    ) -> dict[str, np.ndarray]:
        outputs = {PROBABILITIES: np.asarray(scores)}
        if labels is not None:
            outputs[LABEL] = np.asarray(classes, dtype=object)[labels]
        return outputs


class BinaryTask(ClassificationTask):
    name = "binary"
    decision_threshold = True
    output_activation = "sigmoid"
    target_type = "binary"
    plots = ("confusion", "binary_curves")
    default_primary = "auc"
    metrics = (
        "auc",
        "pr_auc",
        "f1",
        "f1_macro",
        "precision",
        "recall",
        "accuracy",
        "log_loss",
        "brier",
        "ece",
    )
    secondary = ("pr_auc", "f1", "log_loss")

    def _class_count_problem(self, name: str, found: int) -> str | None:
        if found != 2:
            return f"column {name!r} (target): task=binary needs exactly 2 classes, found {found}"
        return None

    def prepare_target(self, target: pd.Series, positive: str | None) -> tuple[pd.Series, list[str] | None]:
        """The classes sorted, ``data.positive_class`` (if given) last: index 1, the
        probability column ``P(positive)`` and the threshold's side."""
        target, classes = super().prepare_target(target, positive)
        if positive is not None:
            classes = [c for c in classes or [] if c != positive] + [positive]
        return target, classes

    def n_outputs(self, n_classes: int) -> int:
        return 1  # one logit: P(positive)

    def model_output(self, raw: np.ndarray) -> np.ndarray:
        """``P(positive)`` as a vector becomes the (n, 2) matrix of both classes."""
        raw = np.asarray(raw, dtype=np.float64)
        return np.column_stack([1.0 - raw, raw]) if raw.ndim == 1 else raw

    def monitored_classes(self, classes: Sequence[str]) -> list[str]:
        return list(classes)[-1:]  # P(negative) = 1 - P(positive) drifts with it


class MulticlassTask(ClassificationTask):
    name = "multiclass"
    output_activation = "softmax"
    target_type = "multiclass"
    plots = ("confusion",)
    default_primary = "f1_macro"
    metrics = ("f1_macro", "f1_weighted", "accuracy", "log_loss", "auc_ovr")
    secondary = ("accuracy", "log_loss")

    def _class_count_problem(self, name: str, found: int) -> str | None:
        if found < 3:
            return f"column {name!r} (target): task=multiclass needs 3 or more classes, found {found}"
        return None
