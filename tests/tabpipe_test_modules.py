"""A user's own classes, plugged in by ``_target_`` alone (used by tests): a LightningModule
(``model.module._target_``), a model (``model._target_``), a Lightning callback
(``+callbacks.<name>``) and a Trainer (``trainer._target_``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch
from torch import nn

from tabpipe.models.base import FitData, RunContext
from tabpipe.models.mlp import TabularModule


class WideLinear(TabularModule):
    """The smallest network that follows tabpipe's module contract."""

    def __init__(
        self, n_inputs: int, n_outputs: int, task: str, categorical_slots: object = (), lr: float = 0.01
    ) -> None:
        super().__init__(n_inputs, n_outputs, task, lr=lr)
        self.layer = nn.Linear(n_inputs, n_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer(x)


class BalancedLogistic:
    """A user's own model, plugged in with ``model._target_`` alone: not one of tabpipe's
    classes, it follows the protocol of ``tabpipe.models.base.TabularModel``."""

    def fit(self, data: FitData, context: RunContext) -> BalancedLogistic:
        from sklearn.linear_model import LogisticRegression

        self.task_ = data.task
        self.estimator_ = LogisticRegression(class_weight="balanced", max_iter=500, random_state=context.seed)
        self.estimator_.fit(data.X_train, data.y_train)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.estimator_.predict_proba(X)

    def to_onnx(self, n_features: int) -> Any:
        from tabpipe.export.model_graphs import sklearn_graph

        return sklearn_graph(self.estimator_, n_features, self.task_)

    def save(self, directory: Path) -> list[Path]:
        path = Path(directory) / "balanced_logistic.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"coef": self.estimator_.coef_.tolist()}))
        return [path]


class EpochRecorder(pl.Callback):
    """A user's Lightning callback, added with ``+callbacks.<name>={_target_: ...}``."""

    epochs: list[int] = []

    def __init__(self, tag: str = "") -> None:
        self.tag = tag

    def on_train_epoch_end(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        EpochRecorder.epochs.append(trainer.current_epoch)


class RecordingTrainer(pl.Trainer):
    """A user's Trainer subclass, plugged in with ``trainer._target_``."""

    built: list[dict[str, Any]] = []

    def __init__(self, **kwargs: Any) -> None:
        RecordingTrainer.built.append(kwargs)
        super().__init__(**kwargs)
