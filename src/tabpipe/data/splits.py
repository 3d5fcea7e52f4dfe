"""Split row positions into train/val/test: stratified, k-fold or temporal; with query ids
(task=ranking), whole queries (:mod:`tabpipe.data.group_splits`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split

from tabpipe.config import option_value
from tabpipe.data.group_splits import group_splits
from tabpipe.data.partition import Split, check_fractions
from tabpipe.errors import ConfigError
from tabpipe.tasks import get_task


def _stratify(target: pd.Series, task: str) -> pd.Series | None:
    return target if get_task(task).stratify else None


def _train_val(positions: np.ndarray, target: pd.Series, task: str, fraction: float, seed: int):
    strat = _stratify(target.iloc[positions], task)
    return train_test_split(positions, test_size=fraction, random_state=seed, stratify=strat)


def stratified_split(target: pd.Series, task: str, split_cfg: Any, seed: int) -> list[Split]:
    check_fractions(split_cfg, need_test=True)
    positions = np.arange(len(target))
    rest, test = train_test_split(
        positions,
        test_size=split_cfg.test_fraction,
        random_state=seed,
        stratify=_stratify(target, task),
    )
    val_share = split_cfg.val_fraction / (1 - split_cfg.test_fraction)
    train, val = _train_val(rest, target, task, val_share, seed)
    return [Split(np.sort(train), np.sort(val), np.sort(test))]


def kfold_split(target: pd.Series, task: str, split_cfg: Any, seed: int) -> list[Split]:
    if split_cfg.n_folds < 2:
        raise ConfigError(f"split.n_folds={split_cfg.n_folds}: needs at least 2 folds")
    check_fractions(split_cfg, need_test=False)
    splitter = (
        StratifiedKFold(split_cfg.n_folds, shuffle=True, random_state=seed)
        if get_task(task).stratify
        else KFold(split_cfg.n_folds, shuffle=True, random_state=seed)
    )
    folds = []
    for fold, (rest, test) in enumerate(splitter.split(np.zeros(len(target)), target)):
        train, val = _train_val(rest, target, task, split_cfg.val_fraction, seed + fold)
        folds.append(Split(np.sort(train), np.sort(val), np.sort(test), fold))
    return folds


def temporal_split(time: pd.Series | None, split_cfg: Any) -> list[Split]:
    """Test = the latest rows, val = the period before; rows sharing a timestamp stay together."""
    if time is None:
        raise ConfigError("split=temporal: needs data.time_column")
    check_fractions(split_cfg, need_test=True)
    order = np.argsort(time.to_numpy(), kind="stable")
    stamps = time.to_numpy()[order]
    n = len(order)

    def boundary(fraction_before: float) -> int:
        cut = round(n * fraction_before)
        # move the cut so that equal timestamps never straddle it
        return int(np.searchsorted(stamps, stamps[min(cut, n - 1)], side="left"))

    test_start = boundary(1 - split_cfg.test_fraction)
    val_start = boundary(1 - split_cfg.test_fraction - split_cfg.val_fraction)
    if not 0 < val_start < test_start < n:
        raise ConfigError("split=temporal: too few distinct timestamps for the val and test fractions")
    return [Split(order[:val_start], order[val_start:test_start], order[test_start:])]


def make_splits(dataset: Any, split_cfg: Any, seed: int) -> list[Split]:
    if getattr(dataset, "groups", None) is not None:
        return group_splits(dataset.groups, split_cfg, seed)
    kind = option_value(split_cfg.kind)
    if kind == "stratified":
        return stratified_split(dataset.target, dataset.task, split_cfg, seed)
    if kind == "kfold":
        return kfold_split(dataset.target, dataset.task, split_cfg, seed)
    return temporal_split(dataset.time, split_cfg)
