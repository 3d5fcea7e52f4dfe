"""Headline metrics per task (scikit-learn), and the baseline gate."""

from __future__ import annotations

import numpy as np
from sklearn import metrics as skm

from tabpipe.errors import BaselineGateError, ConfigError

# task -> (default primary metric); direction per metric below
DEFAULT_PRIMARY = {"binary": "auc", "multiclass": "f1_macro", "regression": "rmse"}
LOWER_IS_BETTER = {"log_loss", "rmse", "mae"}


def predicted_labels(pred: np.ndarray) -> np.ndarray:
    """Class index per row: argmax of the probabilities (0.5 threshold for binary)."""
    return np.asarray(pred).argmax(axis=1)


def compute_metrics(task: str, y_true: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    if task == "regression":
        return {
            "rmse": float(skm.root_mean_squared_error(y_true, pred)),
            "mae": float(skm.mean_absolute_error(y_true, pred)),
            "r2": float(skm.r2_score(y_true, pred)),
        }
    labels = predicted_labels(pred)
    out = {
        "f1_macro": float(skm.f1_score(y_true, labels, average="macro")),
        "accuracy": float(skm.accuracy_score(y_true, labels)),
        "log_loss": float(skm.log_loss(y_true, pred, labels=np.arange(pred.shape[1]))),
    }
    if task == "binary":
        out["auc"] = float(skm.roc_auc_score(y_true, pred[:, 1]))
    return out


def primary_metric(task: str, configured: str | None) -> str:
    name = configured or DEFAULT_PRIMARY[task]
    valid = {
        "binary": {"auc", "f1_macro", "accuracy", "log_loss"},
        "multiclass": {"f1_macro", "accuracy", "log_loss"},
        "regression": {"rmse", "mae", "r2"},
    }[task]
    if name not in valid:
        raise ConfigError(f"eval.primary_metric={name!r}: not a {task} metric; use one of {sorted(valid)}")
    return name


def check_beats_baseline(metric: str, model: float, baseline: float, min_improvement: float) -> None:
    """Raise :class:`BaselineGateError` unless the model beats the baseline by the margin."""
    lower = metric in LOWER_IS_BETTER
    improvement = baseline - model if lower else model - baseline
    if not improvement > min_improvement:
        raise BaselineGateError(
            f"baseline gate: test/{metric}={model:.6g} does not beat baseline/test/{metric}="
            f"{baseline:.6g} by more than eval.min_improvement={min_improvement} "
            "(set eval.require_beat_baseline=false to skip the gate)"
        )
