"""What the gradient-boosting wrappers (xgb, lgbm) share."""

from __future__ import annotations

import os
from typing import Any

from tabpipe.errors import ConfigError
from tabpipe.models.base import RunContext


class GradientBoostingModel:
    """Boosting rounds, early stopping on val after ``early_stopping_rounds`` without
    improvement, threads (0 = all cores), the ranking objective (one of ``RANK_OBJECTIVES``);
    any other keyword is a library parameter. The defaults of all of them live in the config
    schema (:class:`~tabpipe.config.schema.XGBModelConfig`, ``LGBMModelConfig``) alone."""

    supports_ranking = True
    RANK_OBJECTIVES: tuple[str, ...] = ()
    # the library's objective and eval metrics per task (ranking: ``rank_objective``)
    OBJECTIVES: dict[str, tuple[str, list[str]]] = {}

    def __init__(
        self,
        *,
        n_estimators: int,
        early_stopping_rounds: int,
        n_jobs: int,
        rank_objective: str,
        **params: Any,
    ) -> None:
        self.rank_objective = rank_objective
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
