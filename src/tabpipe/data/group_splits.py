"""Group-aware splits for task=ranking: every query (``data.group_column``) stays whole in
train, val or test, so a model is never tested on a query it has partly seen.

``split=stratified`` draws whole queries at random (``GroupShuffleSplit``; the fractions
count queries, not rows); ``split=kfold`` tests every query once (``GroupKFold`` with
shuffling) with val drawn as whole queries from the other folds. ``split=temporal`` is
refused: a query straddling the time cut would be split.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupKFold, GroupShuffleSplit

from tabpipe.config import option_value
from tabpipe.data.partition import Split, check_fractions
from tabpipe.errors import ConfigError


def _draw(positions: np.ndarray, codes: np.ndarray, fraction: float, seed: int) -> tuple:
    """(rest, drawn): ``fraction`` of the queries among ``positions``, drawn whole."""
    splitter = GroupShuffleSplit(n_splits=1, test_size=fraction, random_state=seed)
    rest, drawn = next(splitter.split(positions, groups=codes[positions]))
    return positions[rest], positions[drawn]


def group_splits(groups: pd.Series, split_cfg: Any, seed: int) -> list[Split]:
    kind = option_value(split_cfg.kind)
    codes = pd.factorize(groups)[0]
    n_queries = int(codes.max()) + 1
    positions = np.arange(len(codes))
    if kind == "temporal":
        raise ConfigError(
            "split=temporal: not available for task=ranking (a query would straddle the time cut); "
            "use split=stratified (whole queries at random) or split=kfold"
        )
    if kind == "stratified":
        check_fractions(split_cfg, need_test=True)
        if n_queries < 3:
            raise ConfigError(
                f"data.group_column: {n_queries} queries; a train/val/test split needs 3 or more"
            )
        rest, test = _draw(positions, codes, split_cfg.test_fraction, seed)
        train, val = _draw(rest, codes, split_cfg.val_fraction / (1 - split_cfg.test_fraction), seed)
        return [Split(np.sort(train), np.sort(val), np.sort(test))]
    check_fractions(split_cfg, need_test=False)
    if not 2 <= split_cfg.n_folds <= n_queries - 1:
        raise ConfigError(
            f"split.n_folds={split_cfg.n_folds}: needs 2 or more folds and fewer than the "
            f"{n_queries} queries of data.group_column"
        )
    folds = []
    splitter = GroupKFold(split_cfg.n_folds, shuffle=True, random_state=seed)
    for fold, (rest, test) in enumerate(splitter.split(positions, groups=codes)):
        train, val = _draw(rest, codes, split_cfg.val_fraction, seed + fold)
        folds.append(Split(np.sort(train), np.sort(val), np.sort(test), fold))
    return folds
