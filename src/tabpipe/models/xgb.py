"""XGBoost through native ``xgboost.train`` with early stopping on the val split."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from tabpipe.models.base import FitData, RunContext, as_probabilities
from tabpipe.models.boosting import GradientBoostingModel
from tabpipe.models.progress import round_bar
from tabpipe.models.ranking import check_objective, query_sorted

_OBJECTIVES = {
    "binary": ("binary:logistic", ["auc", "logloss"]),
    "multiclass": ("multi:softprob", ["mlogloss"]),
    "regression": ("reg:squarederror", ["rmse"]),
}
RANK_OBJECTIVES = ("rank:ndcg", "rank:pairwise", "rank:map")


def _reporting_callback(data: FitData, bar: Any) -> Any:
    import xgboost as xgb

    class _Report(xgb.callback.TrainingCallback):
        def after_iteration(self, model: Any, epoch: int, evals_log: dict) -> bool:
            metrics = {
                f"{split}/{name}": float(values[-1])
                for split, by_metric in evals_log.items()
                for name, values in by_metric.items()
            }
            data.report(metrics, epoch)
            bar.update(1)
            return False

    return _Report()


class XGBoostModel(GradientBoostingModel):
    RANK_OBJECTIVES = RANK_OBJECTIVES

    def booster_params(
        self, task: str, n_classes: int, seed: int, accelerator: str, ranking_k: int = 10
    ) -> dict:
        if task == "ranking":
            objective, metrics = self.rank_objective, [f"ndcg@{ranking_k}"]
        else:
            objective, metrics = _OBJECTIVES[task]
        params = {
            **self.params,
            "objective": objective,
            "eval_metric": metrics,
            "tree_method": "hist",
            "device": "cuda" if accelerator == "gpu" else "cpu",
            "seed": seed,
            "nthread": self.threads(),
        }
        if task == "multiclass":
            params["num_class"] = n_classes
        return params

    def fit(self, data: FitData, context: RunContext) -> XGBoostModel:
        import xgboost as xgb

        self.task_ = data.task
        params = self.booster_params(
            data.task, data.n_classes, context.seed, str(context.trainer.accelerator), data.ranking_k
        )
        rounds = self.rounds(context)
        # no feature names: XGBoost then calls them f0.. in its dumps, which is what the ONNX
        # converter reads, and does not re-validate both eval sets' names every round
        if data.task == "ranking":
            check_objective(self.rank_objective, RANK_OBJECTIVES, "model.rank_objective", data.y_train)
            X, y, qid, _ = query_sorted(data.X_train, data.y_train, data.groups_train)
            dtrain = xgb.DMatrix(X, label=y, qid=qid)
            X, y, qid, _ = query_sorted(data.X_val, data.y_val, data.groups_val)
            dval = xgb.DMatrix(X, label=y, qid=qid)
        else:
            dtrain = xgb.DMatrix(data.X_train, label=data.y_train)
            dval = xgb.DMatrix(data.X_val, label=data.y_val)
        with round_bar(rounds, "xgb") as bar:
            self.booster_ = xgb.train(
                params,
                dtrain,
                num_boost_round=rounds,
                evals=[(dtrain, "train"), (dval, "val")],
                early_stopping_rounds=self.early_stopping_rounds,
                callbacks=[_reporting_callback(data, bar)],
                verbose_eval=False,
            )
        self.best_iteration_ = int(self.booster_.best_iteration)
        self.booster_.set_param({"device": "cpu"})  # predict wherever the model is loaded
        return self

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
