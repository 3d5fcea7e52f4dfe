"""The model protocol, and what every model receives to fit."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from tabpipe.features.preprocessing import CategoricalSlot
from tabpipe.tasks import get_task

# called with (metrics, step) for every epoch or boosting round, e.g. {"val/loss": 0.4}
MetricsCallback = Callable[[dict[str, float], int], None]


@dataclass
class FitData:
    """Encoded features (float32) and targets of the train and val splits.

    ``y`` holds class indices 0..K-1 for classification (``n_classes`` = K), floats
    for regression and the graded relevance for ranking.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    task: str
    n_classes: int
    feature_names: list[str]
    categorical_slots: Sequence[CategoricalSlot] = ()
    on_metrics: list[MetricsCallback] = field(default_factory=list)
    # task=ranking: the query id of each train / val row, and the k of val/ndcg@k
    groups_train: np.ndarray | None = None
    groups_val: np.ndarray | None = None
    ranking_k: int = 10

    def report(self, metrics: dict[str, float], step: int) -> None:
        for callback in self.on_metrics:
            callback(metrics, step)


@dataclass
class RunContext:
    """What the orchestrator knows that a model may need."""

    seed: int
    trainer: Any  # the ``trainer`` config group
    callbacks: Any  # the ``callbacks`` config group (Lightning only)
    output_dir: Path
    ckpt_path: str | None = None


class TabularModel(Protocol):
    """``fit`` on train with early stopping on val; ``predict`` gives class probabilities
    of shape (n, K) for classification, or predictions of shape (n,) for regression.

    A model knows nothing of ONNX: export's converter registry
    (:mod:`tabpipe.export.converters`) builds the graph of each fitted model type from its
    learned attributes. A type it does not know converts through its own
    ``to_onnx(n_features)`` method, if it has one."""

    def fit(self, data: FitData, context: RunContext) -> TabularModel: ...

    def predict(self, X: np.ndarray) -> np.ndarray: ...

    def save(self, directory: Path) -> list[Path]: ...


def as_probabilities(raw: np.ndarray, task: str) -> np.ndarray:
    """A model's native output as evaluation reads it (binary models that return
    P(positive) as a vector get a (n, 2) matrix); see :meth:`tabpipe.tasks.Task.model_output`."""
    return get_task(task).model_output(raw)
