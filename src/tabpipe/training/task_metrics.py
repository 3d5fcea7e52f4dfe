"""Route evaluation by task: ranking (per-query metrics, which need the query ids) to
:mod:`tabpipe.training.ranking_metrics`, every other task to :mod:`tabpipe.training.evaluate`."""

from __future__ import annotations

from typing import Any

import numpy as np

from tabpipe.data.ingestion import Dataset
from tabpipe.data.splits import Split
from tabpipe.errors import ConfigError
from tabpipe.training import evaluate
from tabpipe.training.ranking_metrics import check_ks, compute_ranking_metrics, ranking_primary_metric


def primary_metric(task: str, eval_cfg: Any) -> str:
    if task == "ranking":
        return ranking_primary_metric(eval_cfg.primary_metric, eval_cfg.ranking_k)
    return evaluate.primary_metric(task, eval_cfg.primary_metric)


def compute(
    dataset: Dataset, eval_cfg: Any, rows: np.ndarray, y: np.ndarray, scores: np.ndarray
) -> dict[str, float]:
    """The task's metrics of ``scores`` on the dataset rows ``rows`` (targets ``y``)."""
    if dataset.task == "ranking":
        groups = dataset.groups.iloc[rows].to_numpy()
        return compute_ranking_metrics(y, scores, groups, check_ks(eval_cfg.ranking_k))
    return evaluate.compute_metrics(dataset.task, y, scores)


def ranking_fit_data(dataset: Dataset, split: Split, eval_cfg: Any) -> dict[str, Any]:
    """The extra :class:`~tabpipe.models.base.FitData` fields of a ranking fit (else none):
    the query ids of train and val, and the k that early stopping watches (val/ndcg@k)."""
    if dataset.task != "ranking":
        return {}
    groups = dataset.groups.to_numpy()
    return {
        "groups_train": groups[split.train],
        "groups_val": groups[split.val],
        "ranking_k": check_ks(eval_cfg.ranking_k)[-1],
    }


def check_supports_task(model: Any, task: str) -> Any:
    if task == "ranking" and not getattr(model, "supports_ranking", False):
        raise ConfigError(
            f"model ({type(model).__name__}): task=ranking needs a ranking model; use model=xgb, "
            "model=lgbm or model=baseline"
        )
    return model
