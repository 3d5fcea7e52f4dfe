"""Logistic regression (classification) or ridge regression, from scikit-learn."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tabpipe.io import write_json_atomic
from tabpipe.models.base import FitData, RunContext
from tabpipe.tasks import get_task


class LinearModel:
    def __init__(self, C: float = 1.0, alpha: float = 1.0, max_iter: int = 1000) -> None:
        self.C = C
        self.alpha = alpha
        self.max_iter = max_iter

    def fit(self, data: FitData, context: RunContext) -> LinearModel:
        from sklearn.linear_model import LogisticRegression, Ridge

        self.task_ = data.task
        if get_task(data.task).has_classes:
            self.estimator_ = LogisticRegression(C=self.C, max_iter=self.max_iter, random_state=context.seed)
        else:
            self.estimator_ = Ridge(alpha=self.alpha, random_state=context.seed)
        self.estimator_.fit(data.X_train, data.y_train)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        if get_task(self.task_).has_classes:
            return self.estimator_.predict_proba(X)
        return self.estimator_.predict(X).astype(np.float64)

    def save(self, directory: Path) -> list[Path]:
        state = {
            "task": self.task_,
            "coef": np.asarray(self.estimator_.coef_).tolist(),
            "intercept": np.atleast_1d(self.estimator_.intercept_).tolist(),
        }
        return [write_json_atomic(Path(directory) / "linear.json", state)]
