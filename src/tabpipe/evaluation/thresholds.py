"""Decision thresholds for binary models: metrics across thresholds, the F1-optimal and the
cost-optimal threshold, and the one chosen by ``eval.threshold.strategy``.

A row is labelled positive when ``P(positive) >= threshold`` (scikit-learn's convention).
Every candidate threshold is a probability the graph produced, i.e. a float32 value, so the
graph's float32 comparison and numpy's float64 one label every row alike.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import confusion_matrix_at_thresholds

from tabpipe.config import option_value
from tabpipe.config.schema import ThresholdConfig
from tabpipe.documents.metadata import CostMatrix, ThresholdChoice
from tabpipe.errors import ConfigError

__all__ = [
    "STRATEGIES",
    "CostMatrix",
    "ThresholdChoice",
    "choose_threshold",
    "cost_matrix",
    "threshold_table",
]

STRATEGIES = ("default", "f1", "cost")


def threshold_table(y_true: np.ndarray, p_positive: np.ndarray, cost: CostMatrix) -> pd.DataFrame:
    """One row per distinct score (decreasing) plus a first row above every score (nothing
    positive): the confusion counts, precision, recall, F1, accuracy and the total cost."""
    p = np.asarray(p_positive, dtype=np.float64)
    tn, fp, fn, tp, thresholds = confusion_matrix_at_thresholds(np.asarray(y_true), p, pos_label=1)
    negatives, positives = tn[-1] + fp[-1], fn[-1] + tp[-1]
    above = float(np.nextafter(np.float32(p.max(initial=0.0)), np.float32(np.inf)))
    table = pd.DataFrame(
        {
            "threshold": np.concatenate([[above], thresholds]),
            "tp": np.concatenate([[0.0], tp]),
            "fp": np.concatenate([[0.0], fp]),
            "fn": np.concatenate([[positives], fn]),
            "tn": np.concatenate([[negatives], tn]),
        }
    )
    predicted = table["tp"] + table["fp"]
    table["precision"] = np.divide(table["tp"], predicted, out=np.zeros(len(table)), where=predicted > 0)
    table["recall"] = table["tp"] / positives if positives else 0.0
    denominator = 2 * table["tp"] + table["fp"] + table["fn"]
    table["f1"] = np.divide(2 * table["tp"], denominator, out=np.zeros(len(table)), where=denominator > 0)
    table["accuracy"] = (table["tp"] + table["tn"]) / len(p)
    table["cost"] = (
        cost.tp * table["tp"] + cost.fp * table["fp"] + cost.fn * table["fn"] + cost.tn * table["tn"]
    )
    return table


def optimal_thresholds(table: pd.DataFrame) -> tuple[float, float]:
    """(F1-optimal, cost-optimal) thresholds; ties go to the highest threshold."""
    return float(table["threshold"].iloc[int(table["f1"].argmax())]), float(
        table["threshold"].iloc[int(table["cost"].argmin())]
    )


def cost_matrix(threshold_cfg: ThresholdConfig) -> CostMatrix:
    cost = CostMatrix(**{k: float(getattr(threshold_cfg.cost, k)) for k in ("tp", "fp", "fn", "tn")})
    if cost.fp <= cost.tn or cost.fn <= cost.tp:
        raise ConfigError(
            f"eval.threshold.cost={cost.model_dump()}: a mistake must cost more than the right answer "
            "(fp > tn and fn > tp)"
        )
    return cost


def choose_threshold(threshold_cfg: ThresholdConfig, y_val: np.ndarray, p_val: np.ndarray) -> ThresholdChoice:
    """The threshold of ``eval.threshold.strategy``, chosen on the validation split."""
    strategy = option_value(threshold_cfg.strategy)
    cost = cost_matrix(threshold_cfg)
    default = float(threshold_cfg.default)
    if not 0.0 < default < 1.0:
        raise ConfigError(f"eval.threshold.default={default}: must be in (0, 1)")
    f1_best, cost_best = optimal_thresholds(threshold_table(y_val, p_val, cost))
    value = {"default": float(np.float32(default)), "f1": f1_best, "cost": cost_best}[strategy]
    return ThresholdChoice(
        strategy=strategy, value=value, f1_optimal=f1_best, cost_optimal=cost_best, cost=cost
    )
