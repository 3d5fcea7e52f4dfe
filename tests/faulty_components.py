"""Components that fail on purpose, to test that failures are contained and recorded."""

from __future__ import annotations

from typing import Any


class RaisingLogger:
    """A tracking backend whose server went away: every metric call raises."""

    def __init__(self, message: str = "tracking server unreachable") -> None:
        self.message = message

    def log_metrics(self, metrics: dict[str, float], step: int) -> None:
        raise ConnectionError(self.message)

    def log_summary(self, metrics: dict[str, float]) -> None:
        raise ConnectionError(self.message)

    def finalize(self, status: str) -> None:
        raise ConnectionError(self.message)


class DivergingModel:
    """Reports one epoch, then fails the way a diverging fit does."""

    def __init__(self, **params: Any) -> None:
        self.params = params

    def fit(self, data: Any, context: Any) -> DivergingModel:
        data.report({"train/loss": 0.7}, 0)
        raise FloatingPointError("training diverged: loss is NaN at epoch 1")
