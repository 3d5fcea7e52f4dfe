"""LightGBM through native ``lightgbm.train`` (deterministic) with early stopping."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from tabpipe.models.base import as_probabilities
from tabpipe.models.boosting import BoostingRows, GradientBoostingModel, RoundReport
from tabpipe.tasks import get_task

_OBJECTIVES = {
    # the loss first: early stopping watches it alone (first_metric_only), as xgb watches its
    # last eval_metric; with every metric watched, val AUC's early peak stopped folds at ~10 rounds
    "binary": ("binary", ["binary_logloss", "auc"]),
    "multiclass": ("multiclass", ["multi_logloss"]),
    "regression": ("regression", ["rmse"]),
}
RANK_OBJECTIVES = ("lambdarank", "rank_xendcg")


class LightGBMModel(GradientBoostingModel):
    RANK_OBJECTIVES = RANK_OBJECTIVES
    LIBRARY = "lgbm"
    OBJECTIVES = _OBJECTIVES

    def booster_params(
        self, task: str, n_classes: int, seed: int, accelerator: str, ranking_k: int = 10
    ) -> dict:
        ranking = get_task(task).needs_groups
        if ranking:
            objective, metrics = self.rank_objective, ["ndcg"]
        else:
            objective, metrics = self.task_objective(task)
        params = {
            **self.params,
            "objective": objective,
            "metric": metrics,
            "seed": seed,
            "deterministic": True,
            "force_row_wise": True,
            "num_threads": self.threads(),
            "device_type": "cuda" if accelerator == "gpu" else "cpu",
            "verbosity": -1,
        }
        if get_task(task).n_outputs(n_classes) > 1:  # one probability per class
            params["num_class"] = n_classes
        if ranking:
            params["eval_at"] = [ranking_k]
        return params

    def train_booster(
        self, params: dict, rounds: int, train: BoostingRows, val: BoostingRows, report: RoundReport
    ) -> None:
        import lightgbm as lgb

        dtrain = lgb.Dataset(train.X, label=train.y, group=train.sizes, free_raw_data=False)
        dval = lgb.Dataset(val.X, label=val.y, group=val.sizes, reference=dtrain)

        def on_round(env: Any) -> None:
            results = env.evaluation_result_list
            metrics = {f"{split}/{name}": float(value) for split, name, value, _ in results}
            report(metrics, env.iteration)
            self.rounds_run_ = env.iteration + 1

        self.booster_ = lgb.train(
            params,
            dtrain,
            num_boost_round=rounds,
            valid_sets=[dtrain, dval],
            valid_names=["train", "val"],
            callbacks=[
                # the loss only (the first metric), as in xgb
                lgb.early_stopping(self.early_stopping_rounds, first_metric_only=True, verbose=False),
                on_round,
            ],
        )
        self.best_iteration_ = int(self.booster_.best_iteration or self.booster_.current_iteration())

    def rounds_used(self) -> int:
        return self.best_iteration_  # LightGBM counts its best iteration from 1

    def rounds_trained(self) -> int:
        # lgb.train keeps only the best iteration's trees: the rounds it ran are in the history
        return self.rounds_run_

    def predict(self, X: np.ndarray) -> np.ndarray:
        raw = self.booster_.predict(X, num_iteration=self.best_iteration_)
        return as_probabilities(raw, self.task_)

    def feature_importance(self) -> dict[str, float]:
        gains = self.booster_.feature_importance(importance_type="gain")
        return {f"f{i}": float(v) for i, v in enumerate(gains)}

    def save(self, directory: Path) -> list[Path]:
        from tabpipe.io import write_atomic

        path = Path(directory) / "model.lgbm.txt"
        return [
            write_atomic(
                path,
                lambda tmp: self.booster_.save_model(str(tmp), num_iteration=self.best_iteration_),
            )
        ]
