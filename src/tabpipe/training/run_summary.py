"""The one-line facts a run prints before its metrics: the data, the split, the model.

Each is a plain string so that the lines read the same in the console, the run's log file
and a test. The model line reads the fitted state each kind of model keeps: a boosted
model's ``best_iteration_`` (the rounds its graph uses), a network's ``module_``
parameters, a linear model's coefficients, the baseline's constant.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np

from tabpipe.config import is_sweep_trial
from tabpipe.data.ingestion import Dataset
from tabpipe.data.splits import Split
from tabpipe.models.boosting import GradientBoostingModel

log = logging.getLogger("tabpipe.training")


def data_line(dataset: Dataset, name: str | None) -> str:
    """``data: telco_churn: 7043 rows, 19 feature columns, task binary (classes No, Yes)``."""
    task = f"task {dataset.task}"
    if dataset.classes:
        task += f" (classes {', '.join(map(str, dataset.classes))})"
    elif dataset.groups is not None:  # task=ranking: the rows' queries
        task += f" ({dataset.groups.nunique()} queries)"
    label = f"{name}: " if name else ""
    return f"data: {label}{dataset.n_rows} rows, {dataset.features.shape[1]} feature columns, {task}"


def _sizes(values: list[int]) -> str:
    low, high = min(values), max(values)
    return f"{low}" if low == high else f"{low}-{high}"


def split_line(splits: list[Split], kind: Any) -> str:
    """``split: stratified: train 4929, val 1057, test 1057 rows``; k-fold gives the size
    range per fold. ``kind``: ``split.kind`` (an enum in the validated config)."""
    kind = getattr(kind, "value", kind)
    label = f"{kind}: " if kind else ""
    if len(splits) == 1:
        split = splits[0]
        return f"split: {label}train {len(split.train)}, val {len(split.val)}, test {len(split.test)} rows"
    train, val, test = ([len(getattr(split, part)) for split in splits] for part in ("train", "val", "test"))
    return (
        f"split: {label}{len(splits)} folds: train {_sizes(train)}, val {_sizes(val)}, "
        f"test {_sizes(test)} rows per fold"
    )


def _parameter_count(model: Any) -> str | None:
    module = getattr(model, "module_", None)
    if module is not None and hasattr(module, "parameters"):
        count = sum(p.numel() for p in module.parameters() if p.requires_grad)
        return f"{count:,} trainable parameters"
    estimator = getattr(model, "estimator_", None)
    if estimator is not None and hasattr(estimator, "coef_"):
        count = int(np.size(estimator.coef_) + np.size(getattr(estimator, "intercept_", 0)))
        return f"{count:,} parameters ({type(estimator).__name__} coefficients and intercept)"
    return None


def model_line(model: Any, name: str, fold: int | None = None) -> str:
    """``model: XGBoostModel: best iteration 87 of 137 trained (n_estimators=500,
    early_stopping_rounds=50)``, or the parameter count of a network or a linear model."""
    prefix = f"fold {fold} model" if fold is not None else "model"
    if isinstance(model, GradientBoostingModel):
        return f"{prefix}: {name}: {model.early_stopping_summary()}"
    count = _parameter_count(model)
    if count is not None:
        return f"{prefix}: {name}: {count}"
    if type(model).__name__ == "BaselineModel":
        return f"{prefix}: {name}: the baseline, no trainable parameters"
    return f"{prefix}: {name}"


def announcer(cfg: Any) -> Callable[..., None]:
    """How a run says what it is doing: ``log.info``, or ``log.debug`` in a sweep trial
    (a trial prints only its own result line)."""
    return log.debug if is_sweep_trial(cfg) else log.info
