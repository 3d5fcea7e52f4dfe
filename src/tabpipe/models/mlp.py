"""The default Lightning network: an MLP with optional categorical embeddings.

Any LightningModule can replace it (``model.module._target_=...``) if it follows the
same contract: built as ``Module(n_inputs=, n_outputs=, task=, **kwargs)`` (plus
``categorical_slots=`` when its constructor takes it), ``forward(x)`` maps a float32
batch to raw outputs (binary: one logit; multiclass: K logits; regression: one value),
and its steps take ``(x, y)`` batches. :class:`TabularModule` provides the steps.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import lightning.pytorch as pl
import torch
import torchmetrics
from torch import nn

from tabpipe.features.preprocessing import CategoricalSlot
from tabpipe.tasks import get_task


class TabularModule(pl.LightningModule):
    """Loss, metrics and optimiser for tabular tasks; subclasses define ``forward``."""

    def __init__(
        self, n_inputs: int, n_outputs: int, task: str, lr: float = 1e-3, weight_decay: float = 0.0
    ) -> None:
        super().__init__()
        self.task = task
        # the task's link: sigmoid (one logit), softmax (K logits) or identity (a number)
        self.activation = get_task(task).output_activation
        self.lr = lr
        self.weight_decay = weight_decay
        if self.activation == "sigmoid":
            self.val_auc = torchmetrics.AUROC(task="binary")
            self.val_acc = torchmetrics.Accuracy(task="binary")
        elif self.activation == "softmax":
            self.val_acc = torchmetrics.Accuracy(task="multiclass", num_classes=n_outputs)

    def loss(self, outputs: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self.activation == "sigmoid":
            return nn.functional.binary_cross_entropy_with_logits(outputs.squeeze(-1), y.float())
        if self.activation == "softmax":
            return nn.functional.cross_entropy(outputs, y.long())
        return nn.functional.mse_loss(outputs.squeeze(-1), y.float())

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        x, y = batch
        loss = self.loss(self(x), y)
        # summed here and logged once per epoch: a per-step self.log costs more than
        # the step itself for small tabular networks
        self._train_loss = self._train_loss + loss.detach() * len(y)
        self._train_rows += len(y)
        return loss

    def on_train_epoch_start(self) -> None:
        self._train_loss = torch.zeros((), device=self.device)
        self._train_rows = 0

    def on_train_epoch_end(self) -> None:
        if self._train_rows:
            mean = self._train_loss / self._train_rows
            self.log("train/loss", mean, prog_bar=True, sync_dist=True)

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        x, y = batch
        outputs = self(x)
        self.log("val/loss", self.loss(outputs, y), on_epoch=True, prog_bar=True)
        if self.activation == "sigmoid":
            scores = torch.sigmoid(outputs.squeeze(-1))
            self.val_auc(scores, y.long())
            self.val_acc(scores, y.long())
            self.log("val/auc", self.val_auc, on_epoch=True, prog_bar=True)
            self.log("val/acc", self.val_acc, on_epoch=True)
        elif self.activation == "softmax":
            self.val_acc(outputs.argmax(-1), y.long())
            self.log("val/acc", self.val_acc, on_epoch=True, prog_bar=True)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.AdamW(self.parameters(), lr=self.lr, weight_decay=self.weight_decay)


class TabularMLP(TabularModule):
    def __init__(
        self,
        n_inputs: int,
        n_outputs: int,
        task: str,
        hidden_dims: Sequence[int] = (128, 64),
        dropout: float = 0.1,
        batch_norm: bool = True,
        embedding_dim: int = 8,
        lr: float = 1e-3,
        weight_decay: float = 1e-4,
        categorical_slots: Sequence[CategoricalSlot] = (),
    ) -> None:
        super().__init__(n_inputs, n_outputs, task, lr, weight_decay)
        slots = list(categorical_slots) if embedding_dim > 0 else []
        self.save_hyperparameters(
            {
                "n_inputs": n_inputs,
                "n_outputs": n_outputs,
                "task": task,
                "hidden_dims": list(hidden_dims),
                "dropout": dropout,
                "batch_norm": batch_norm,
                "embedding_dim": embedding_dim,
                "lr": lr,
                "weight_decay": weight_decay,
                "categorical_slots": [(s.index, s.cardinality) for s in slots],
            }
        )
        self.register_buffer("cat_index", torch.tensor([s.index for s in slots], dtype=torch.long))
        dense = sorted(set(range(n_inputs)) - {s.index for s in slots})
        self.register_buffer("dense_index", torch.tensor(dense, dtype=torch.long))
        self.embeddings = nn.ModuleList(nn.Embedding(s.cardinality + 1, embedding_dim) for s in slots)
        width = len(dense) + embedding_dim * len(slots)
        layers: list[nn.Module] = []
        for hidden in hidden_dims:
            layers.append(nn.Linear(width, hidden))
            if batch_norm:
                layers.append(nn.BatchNorm1d(hidden))
            layers += [nn.ReLU(), nn.Dropout(dropout)]
            width = hidden
        layers.append(nn.Linear(width, get_task(task).n_outputs(n_outputs)))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        parts = [x.index_select(1, self.dense_index)]
        if len(self.embeddings):
            # ordinal codes start at -1 (the unseen/missing sentinel): shift to 0..
            codes = (x.index_select(1, self.cat_index).long() + 1).clamp(min=0)
            for i, embedding in enumerate(self.embeddings):
                parts.append(embedding(codes[:, i].clamp(max=embedding.num_embeddings - 1)))
        return self.net(torch.cat(parts, dim=1))
