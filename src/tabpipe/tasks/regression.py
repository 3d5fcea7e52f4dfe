"""task=regression: one number per row, scored by RMSE / MAE / R2 / MAPE, the train mean
as the baseline."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from tabpipe.tasks.base import PREDICTION, Task, missing_target_problem


class RegressionTask(Task):
    name = "regression"
    stratify = False
    plots = ("regression",)
    metrics = ("rmse", "mae", "r2", "mape")
    default_primary = "rmse"
    secondary = ("mae", "r2")

    def target_problems(
        self, frame: pd.DataFrame, target: str, group_column: str | None, positive: str | None
    ) -> list[str]:
        values = frame[target]
        missing = missing_target_problem(values, target)
        if missing:
            return [missing]
        numeric = pd.to_numeric(values, errors="coerce")
        if numeric.isna().any():
            bad = values[numeric.isna()].iloc[0]
            return [f"column {target!r} (target): non-numeric value {bad!r}; task=regression needs numbers"]
        infinite = int(np.isinf(numeric).sum())
        if infinite:
            return [f"column {target!r} (target): {infinite} infinite values; the target must be finite"]
        if numeric.nunique() < 2:
            return [f"column {target!r} (target): constant; task=regression needs varying values"]
        return []

    def prepare_target(self, target: pd.Series, positive: str | None) -> tuple[pd.Series, list[str] | None]:
        return pd.to_numeric(target).astype("float64"), None

    def encode_target(self, target: pd.Series, classes: Sequence[str] | None) -> np.ndarray:
        return target.to_numpy(dtype=np.float64)

    @property
    def baseline_description(self) -> str:
        return "the train mean"

    def output_specs(self, classes: Sequence[str] | None) -> list[dict[str, Any]]:
        return [{"name": PREDICTION, "type": "float32", "shape": ["N"]}]
