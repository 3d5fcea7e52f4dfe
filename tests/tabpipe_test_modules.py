"""A user's own LightningModule, plugged in with model.module._target_ (used by tests)."""

from __future__ import annotations

import torch
from torch import nn

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
