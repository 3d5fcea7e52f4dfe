"""The baseline every model must beat: class priors / the train mean / the best single
feature, as the task says (:attr:`tabpipe.tasks.Task.baseline`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from tabpipe.io import write_json_atomic
from tabpipe.models.base import FitData, RunContext
from tabpipe.models.ranking import SingleFeatureRanker
from tabpipe.tasks import get_task


class BaselineModel:
    """Predicts the most frequent train class (with the train class priors as
    probabilities) or the train mean, via scikit-learn's Dummy estimators; for ranking, the
    best single feature (:class:`tabpipe.models.ranking.SingleFeatureRanker`)."""

    supports_ranking = True

    def fit(self, data: FitData, context: RunContext) -> BaselineModel:
        self.task_ = data.task
        self.kind_ = get_task(data.task).baseline
        fit = {"prior": self._fit_prior, "mean": self._fit_mean, "best_feature": self._fit_best_feature}
        fit[self.kind_](data, context)
        return self

    def _fit_prior(self, data: FitData, context: RunContext) -> None:
        from sklearn.dummy import DummyClassifier

        self.estimator_ = DummyClassifier(strategy="prior")
        # append one row per class so every class gets a column, weighted ~0
        classes = np.arange(data.n_classes)
        y = np.concatenate([data.y_train, classes])
        weights = np.concatenate([np.ones(len(data.y_train)), np.full(len(classes), 1e-12)])
        X = np.zeros((len(y), 1), dtype=np.float32)
        self.estimator_.fit(X, y, sample_weight=weights)

    def _fit_mean(self, data: FitData, context: RunContext) -> None:
        from sklearn.dummy import DummyRegressor

        self.estimator_ = DummyRegressor(strategy="mean")
        self.estimator_.fit(data.X_train, data.y_train)

    def _fit_best_feature(self, data: FitData, context: RunContext) -> None:
        self.estimator_ = SingleFeatureRanker().fit(data, context)

    def predict(self, X: np.ndarray) -> np.ndarray:
        if self.kind_ == "prior":
            return self.estimator_.predict_proba(np.zeros((len(X), 1), dtype=np.float32))
        return np.asarray(self.estimator_.predict(X), dtype=np.float64)

    def ranker_state(self) -> dict[str, Any] | None:
        """The best single feature (index, name, sign, train NDCG); None for a constant."""
        return self.estimator_.state() if self.kind_ == "best_feature" else None

    def constant(self) -> np.ndarray:
        """The constant output of every row: the class priors [K] or the train mean [1]."""
        if self.kind_ == "prior":
            return self.estimator_.class_prior_
        return np.atleast_1d(self.estimator_.constant_).ravel()[:1]

    def save(self, directory: Path) -> list[Path]:
        if self.kind_ == "best_feature":
            return self.estimator_.save(directory)
        key = "class_prior" if self.kind_ == "prior" else "mean"
        value = self.constant().tolist() if self.kind_ == "prior" else float(self.constant()[0])
        return [write_json_atomic(Path(directory) / "baseline.json", {"task": self.task_, key: value})]
