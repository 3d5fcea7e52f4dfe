"""What the gradient-boosting wrappers (xgb, lgbm) share: the parameters, and ``fit`` itself
(parameters, the ranking checks, the rows of each split, the progress bar); each library only
builds its datasets and trains (:meth:`GradientBoostingModel.train_booster`)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from tabpipe.errors import ConfigError
from tabpipe.models.base import FitData, RunContext
from tabpipe.models.progress import round_bar
from tabpipe.models.ranking import check_objective, query_sorted
from tabpipe.tasks import get_task

# called after every boosting round with its metrics ({"val/logloss": 0.4}) and the round
RoundReport = Callable[[dict[str, float], int], None]


@dataclass(frozen=True)
class BoostingRows:
    """One split's rows as the libraries take them. With query ids (task=ranking): sorted by
    query, with the query codes (XGBoost's ``qid``) and the query sizes (LightGBM's ``group``)."""

    X: np.ndarray
    y: np.ndarray
    qid: np.ndarray | None = None
    sizes: np.ndarray | None = None

    @classmethod
    def of(cls, X: np.ndarray, y: np.ndarray, groups: np.ndarray | None, by_query: bool) -> BoostingRows:
        if not by_query:
            return cls(X, y)
        X, y, qid, sizes = query_sorted(X, y, groups)
        return cls(X, y, qid, sizes)


class GradientBoostingModel:
    """Boosting rounds, early stopping on val after ``early_stopping_rounds`` without
    improvement, threads (0 = all cores), the ranking objective (default: the library's first
    in ``RANK_OBJECTIVES``); any other keyword is a library parameter."""

    supports_ranking = True
    RANK_OBJECTIVES: tuple[str, ...] = ()
    LIBRARY = ""  # the progress bar's name
    # the library's objective and eval metrics per task (ranking: ``rank_objective``)
    OBJECTIVES: dict[str, tuple[str, list[str]]] = {}

    def __init__(
        self,
        n_estimators: int = 500,
        early_stopping_rounds: int = 50,
        n_jobs: int = 0,
        rank_objective: str | None = None,
        **params: Any,
    ) -> None:
        self.rank_objective = rank_objective or self.RANK_OBJECTIVES[0]
        self.n_estimators = n_estimators
        self.early_stopping_rounds = early_stopping_rounds
        self.n_jobs = n_jobs
        self.params = params

    def task_objective(self, task: str) -> tuple[str, list[str]]:
        """The objective and eval metrics of ``task``; one line for a task it cannot fit."""
        if task not in self.OBJECTIVES:
            raise ConfigError(
                f"model ({type(self).__name__}): no objective for task={task}; "
                f"it fits {', '.join(sorted(self.OBJECTIVES))} and ranking"
            )
        return self.OBJECTIVES[task]

    def threads(self) -> int:
        return self.n_jobs or os.cpu_count() or 1

    def rounds(self, context: RunContext) -> int:
        """One round in a fast dev run (``debug=fdr``)."""
        return 1 if context.trainer.fast_dev_run else self.n_estimators

    def booster_params(
        self, task: str, n_classes: int, seed: int, accelerator: str, ranking_k: int = 10
    ) -> dict:
        """The library's parameters for this task."""
        raise NotImplementedError

    def train_booster(
        self, params: dict, rounds: int, train: BoostingRows, val: BoostingRows, report: RoundReport
    ) -> None:
        """Train up to ``rounds`` rounds with early stopping on ``val``, calling ``report``
        after every round; sets ``booster_`` and ``best_iteration_``."""
        raise NotImplementedError

    def fit(self, data: FitData, context: RunContext) -> GradientBoostingModel:
        self.task_ = data.task
        params = self.booster_params(
            data.task, data.n_classes, context.seed, str(context.trainer.accelerator), data.ranking_k
        )
        rounds = self.rounds(context)
        by_query = get_task(data.task).needs_groups
        if by_query:
            check_objective(self.rank_objective, self.RANK_OBJECTIVES, "model.rank_objective", data.y_train)
        train = BoostingRows.of(data.X_train, data.y_train, data.groups_train, by_query)
        val = BoostingRows.of(data.X_val, data.y_val, data.groups_val, by_query)
        with round_bar(rounds, self.LIBRARY) as bar:

            def report(metrics: dict[str, float], step: int) -> None:
                data.report(metrics, step)
                bar.update(1)

            self.train_booster(params, rounds, train, val, report)
        return self

    def rounds_used(self) -> int:
        """The boosting rounds the fitted model predicts with (the best validation round)."""
        raise NotImplementedError

    def rounds_trained(self) -> int:
        """The boosting rounds fitted before early stopping ended training."""
        raise NotImplementedError

    def early_stopping_summary(self) -> str:
        """One line for the log: where early stopping left the fitted model."""
        return (
            f"best iteration {self.rounds_used()} of {self.rounds_trained()} trained "
            f"(n_estimators={self.n_estimators}, early_stopping_rounds={self.early_stopping_rounds})"
        )
