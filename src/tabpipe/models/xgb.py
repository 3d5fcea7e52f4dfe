"""XGBoost through native ``xgboost.train`` with early stopping on the val split."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from tabpipe.models.base import as_probabilities
from tabpipe.models.boosting import BoostingRows, GradientBoostingModel, RoundReport
from tabpipe.tasks import get_task

_OBJECTIVES = {
    "binary": ("binary:logistic", ["auc", "logloss"]),
    "multiclass": ("multi:softprob", ["mlogloss"]),
    "regression": ("reg:squarederror", ["rmse"]),
}
RANK_OBJECTIVES = ("rank:ndcg", "rank:pairwise", "rank:map")


def _reporting_callback(report: RoundReport) -> Any:
    import xgboost as xgb

    class _Report(xgb.callback.TrainingCallback):
        def after_iteration(self, model: Any, epoch: int, evals_log: dict) -> bool:
            metrics = {
                f"{split}/{name}": float(values[-1])
                for split, by_metric in evals_log.items()
                for name, values in by_metric.items()
            }
            report(metrics, epoch)
            return False

    return _Report()


class XGBoostModel(GradientBoostingModel):
    RANK_OBJECTIVES = RANK_OBJECTIVES
    LIBRARY = "xgb"
    OBJECTIVES = _OBJECTIVES

    def booster_params(
        self, task: str, n_classes: int, seed: int, accelerator: str, ranking_k: int = 10
    ) -> dict:
        if get_task(task).needs_groups:
            objective, metrics = self.rank_objective, [f"ndcg@{ranking_k}"]
        else:
            objective, metrics = self.task_objective(task)
        params = {
            **self.params,
            "objective": objective,
            "eval_metric": metrics,
            "tree_method": "hist",
            "device": "cuda" if accelerator == "gpu" else "cpu",
            "seed": seed,
            "nthread": self.threads(),
        }
        if get_task(task).n_outputs(n_classes) > 1:  # one probability per class
            params["num_class"] = n_classes
        return params

    def train_booster(
        self, params: dict, rounds: int, train: BoostingRows, val: BoostingRows, report: RoundReport
    ) -> None:
        import xgboost as xgb

        # no feature names: XGBoost then calls them f0.. in its dumps, which is what the ONNX
        # converter reads, and does not re-validate both eval sets' names every round
        dtrain = xgb.DMatrix(train.X, label=train.y, qid=train.qid)
        dval = xgb.DMatrix(val.X, label=val.y, qid=val.qid)
        self.booster_ = xgb.train(
            params,
            dtrain,
            num_boost_round=rounds,
            evals=[(dtrain, "train"), (dval, "val")],
            early_stopping_rounds=self.early_stopping_rounds,
            callbacks=[_reporting_callback(report)],
            verbose_eval=False,
        )
        self.best_iteration_ = int(self.booster_.best_iteration)
        self.booster_.set_param({"device": "cpu"})  # predict wherever the model is loaded

    def rounds_used(self) -> int:
        return self.best_iteration_ + 1  # XGBoost counts its best iteration from 0

    def rounds_trained(self) -> int:
        return int(self.booster_.num_boosted_rounds())

    def predict(self, X: np.ndarray) -> np.ndarray:
        raw = self.booster_.inplace_predict(X, iteration_range=(0, self.best_iteration_ + 1))
        return as_probabilities(raw, self.task_)

    def feature_importance(self) -> dict[str, float]:
        return {k: float(v) for k, v in self.booster_.get_score(importance_type="gain").items()}

    def save(self, directory: Path) -> list[Path]:
        from tabpipe.io import write_atomic

        path = Path(directory) / "model.xgb.json"
        return [write_atomic(path, lambda tmp: self.booster_.save_model(str(tmp)))]
