"""What a ranking fit (task=ranking) adds to an ordinary one: the query ids of the train and
val rows, the k that early stopping watches, and a model that has a ranking objective."""

from __future__ import annotations

from typing import Any

from tabpipe.data.ingestion import Dataset
from tabpipe.data.splits import Split
from tabpipe.errors import ConfigError
from tabpipe.tasks import get_task
from tabpipe.tasks.ranking import check_ks


def ranking_fit_data(dataset: Dataset, split: Split, eval_cfg: Any) -> dict[str, Any]:
    """The extra :class:`~tabpipe.models.base.FitData` fields of a ranking fit (else none):
    the query ids of train and val, and the k that early stopping watches (val/ndcg@k)."""
    if not get_task(dataset.task).needs_groups:
        return {}
    groups = dataset.groups.to_numpy()
    return {
        "groups_train": groups[split.train],
        "groups_val": groups[split.val],
        "ranking_k": check_ks(eval_cfg.ranking_k)[-1],
    }


def check_supports_task(model: Any, task: str) -> Any:
    """A task whose rows belong to queries needs a model that ranks within them."""
    if get_task(task).needs_groups and not getattr(model, "supports_ranking", False):
        raise ConfigError(
            f"model ({type(model).__name__}): task={task} needs a ranking model; use model=xgb, "
            "model=lgbm or model=baseline"
        )
    return model
