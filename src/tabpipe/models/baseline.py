"""The baseline every model must beat: class priors / the train mean."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from tabpipe.io import write_json_atomic
from tabpipe.models.base import FitData, RunContext
from tabpipe.models.ranking import SingleFeatureRanker


class BaselineModel:
    """Predicts the most frequent train class (with the train class priors as
    probabilities) or the train mean, via scikit-learn's Dummy estimators; for ranking, the
    best single feature (:class:`tabpipe.models.ranking.SingleFeatureRanker`)."""

    supports_ranking = True

    def fit(self, data: FitData, context: RunContext) -> BaselineModel:
        from sklearn.dummy import DummyClassifier, DummyRegressor

        self.task_ = data.task
        if data.task == "ranking":
            self.estimator_ = SingleFeatureRanker().fit(data, context)
        elif data.task == "regression":
            self.estimator_ = DummyRegressor(strategy="mean")
            self.estimator_.fit(data.X_train, data.y_train)
        else:
            self.estimator_ = DummyClassifier(strategy="prior")
            # append one row per class so every class gets a column, weighted ~0
            classes = np.arange(data.n_classes)
            y = np.concatenate([data.y_train, classes])
            weights = np.concatenate([np.ones(len(data.y_train)), np.full(len(classes), 1e-12)])
            X = np.zeros((len(y), 1), dtype=np.float32)
            self.estimator_.fit(X, y, sample_weight=weights)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        if self.task_ == "ranking":
            return self.estimator_.predict(X)
        if self.task_ == "regression":
            return self.estimator_.predict(X).astype(np.float64)
        return self.estimator_.predict_proba(np.zeros((len(X), 1), dtype=np.float32))

    def ranker_state(self) -> dict[str, Any] | None:
        """task=ranking: the chosen feature (index, name, sign, train NDCG); else None."""
        return self.estimator_.state() if self.task_ == "ranking" else None

    def save(self, directory: Path) -> list[Path]:
        if self.task_ == "ranking":
            return self.estimator_.save(directory)
        if self.task_ == "regression":
            state = {"mean": float(self.estimator_.constant_.ravel()[0])}
        else:
            state = {"class_prior": self.estimator_.class_prior_.tolist()}
        return [write_json_atomic(Path(directory) / "baseline.json", {"task": self.task_, **state})]
