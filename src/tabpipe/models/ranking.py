"""What the ranking models (task=ranking) share: rows sorted by query, objective checks, and
the ranking baseline.

The baseline is the **best single feature**: the encoded feature column, used as the score
as it is or negated, that gives the highest mean NDCG over the train queries. It is the
ranking counterpart of "predict the prior" (a constant score ranks nothing: every order of a
query is equally likely), and the usual first ranker of learning-to-rank (one signal, say
BM25 or recency): a learned model that cannot beat one column is not worth serving.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from tabpipe.errors import ConfigError
from tabpipe.io import write_json_atomic
from tabpipe.models.base import FitData, RunContext


def query_sorted(X: np.ndarray, y: np.ndarray, groups: np.ndarray | None) -> tuple:
    """(X, y, query codes, query sizes) with the rows of each query contiguous, queries in
    order of first appearance (XGBoost's ``qid`` must be sorted; LightGBM takes sizes)."""
    if groups is None:
        raise ConfigError("task=ranking: the model needs the query ids (data.group_column)")
    first_seen = {g: i for i, g in reversed(list(enumerate(groups)))}
    codes = np.array([first_seen[g] for g in groups])
    order = np.argsort(codes, kind="stable")
    codes = codes[order]
    sizes = np.diff(np.flatnonzero(np.r_[True, np.diff(codes) != 0, True]))
    return X[order], y[order], codes, sizes


def check_objective(name: str, allowed: tuple[str, ...], key: str, y: np.ndarray) -> str:
    if name not in allowed:
        raise ConfigError(f"{key}={name!r}: not a ranking objective; use one of {list(allowed)}")
    if name == "rank:map" and not np.isin(y, (0, 1)).all():
        raise ConfigError(f"{key}={name!r}: needs binary relevance (0/1); the target has {sorted(set(y))}")
    return name


class SingleFeatureRanker:
    """Score = ``sign * X[:, feature]`` for the (feature, sign) with the best train NDCG."""

    def fit(self, data: FitData, context: RunContext) -> SingleFeatureRanker:
        from tabpipe.data.queries import Queries, mean_ndcg

        queries = Queries.of(data.groups_train, data.y_train)
        if not len(queries):
            raise ConfigError("task=ranking: no train query has two items of different relevance")
        best = (-np.inf, 0, 1.0)
        for feature in range(data.X_train.shape[1]):
            column = data.X_train[:, feature].astype(np.float64)
            if np.ptp(column) == 0:
                continue
            for sign in (1.0, -1.0):
                value = mean_ndcg(data.y_train, sign * column, queries)
                if value > best[0]:
                    best = (value, feature, sign)
        self.train_ndcg_, self.feature_, self.sign_ = best
        self.feature_name_ = data.feature_names[self.feature_] if data.feature_names else str(self.feature_)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.sign_ * np.asarray(X, dtype=np.float64)[:, self.feature_]

    def state(self) -> dict[str, Any]:
        return {
            "feature_index": int(self.feature_),
            "feature": self.feature_name_,
            "sign": self.sign_,
            "train_ndcg": self.train_ndcg_,
        }

    def save(self, directory: Path) -> list[Path]:
        return [write_json_atomic(Path(directory) / "baseline.json", {"task": "ranking", **self.state()})]
