"""Feature importance: the GBDTs' native gain per encoded feature, and permutation
importance of every raw input column, measured on the exported graph."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from tabpipe.config.schema import ImportanceConfig
from tabpipe.evaluation.metrics import LOWER_IS_BETTER, metric_value, scored

# frame of raw input columns -> (scores, class indices or None): the graph as a function
Scorer = Callable[[pd.DataFrame], tuple[np.ndarray, "np.ndarray | None"]]


def native_importance(model: Any, feature_names: list[str]) -> pd.DataFrame | None:
    """Gain per encoded feature for models that expose ``feature_importance()`` (xgb, lgbm),
    keyed ``f<i>`` by the boosters and mapped back to the feature names; None otherwise."""
    if not hasattr(model, "feature_importance"):
        return None
    gains = model.feature_importance()
    values = [float(gains.get(f"f{i}", 0.0)) for i in range(len(feature_names))]
    frame = pd.DataFrame({"feature": feature_names, "importance": values})
    return frame.sort_values("importance", ascending=False, ignore_index=True)


class GraphEstimator:
    """The graph (already fitted) as the estimator scikit-learn's permutation importance
    expects; ``fit`` does nothing."""

    def __init__(self, scorer: Scorer) -> None:
        self.scorer = scorer

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> GraphEstimator:
        return self

    def predict(self, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | None]:
        return self.scorer(X)


def sample_rows(n: int, max_rows: int, rng: np.random.Generator, groups: np.ndarray | None) -> np.ndarray:
    """Sorted positions of at most ``max_rows`` random rows; with ``groups``, of random whole
    queries (at least one) whose items add up to at most ``max_rows``."""
    if groups is None:
        return np.sort(rng.choice(n, max_rows, replace=False))
    codes = np.unique(groups, return_inverse=True)[1]
    sizes = np.bincount(codes)
    order = rng.permutation(len(sizes))
    taken = order[: max(1, int(np.searchsorted(np.cumsum(sizes[order]), max_rows, side="right")))]
    return np.flatnonzero(np.isin(codes, taken))


def permutation_importances(
    scorer: Scorer,
    task: str,
    metric: str,
    frame: pd.DataFrame,
    y: np.ndarray,
    importance_cfg: ImportanceConfig,
    seed: int,
    groups: np.ndarray | None = None,
) -> pd.DataFrame:
    """Drop of ``metric`` when one raw column is shuffled (sign-adjusted so that larger
    always means more important), over ``n_repeats`` shuffles of at most ``max_rows`` rows,
    with ``sklearn.inspection.permutation_importance``. Ranking (``groups``: the query id
    of every row) keeps whole queries and scores each shuffle per query; a shuffle moves
    values across queries, as it moves them across rows for the other tasks."""
    from sklearn.inspection import permutation_importance

    rng = np.random.default_rng(seed)
    if len(frame) > importance_cfg.max_rows:
        keep = sample_rows(len(frame), int(importance_cfg.max_rows), rng, groups)
        frame, y = frame.iloc[keep], y[keep]
        groups = None if groups is None else groups[keep]
    sign = -1.0 if metric in LOWER_IS_BETTER else 1.0

    def score(estimator: GraphEstimator, X: pd.DataFrame, target: np.ndarray) -> float:
        # permutation_importance scores every shuffle on all rows, in order: groups align
        scores, labels = estimator.predict(X)
        return sign * metric_value(task, metric, scored(task, target, scores, labels, groups=groups))

    result = permutation_importance(
        GraphEstimator(scorer),
        frame.reset_index(drop=True),
        y,
        scoring=score,
        n_repeats=int(importance_cfg.n_repeats),
        random_state=seed,
    )
    table = pd.DataFrame(
        {
            "column": list(frame.columns),
            "importance_mean": result.importances_mean,
            "importance_std": result.importances_std,
        }
    )
    return table.sort_values("importance_mean", ascending=False, ignore_index=True)
