"""One train/val/test partition of row positions, and the rule on the split fractions that
both the row splits (:mod:`tabpipe.data.splits`) and the query splits
(:mod:`tabpipe.data.group_splits`) check."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from tabpipe.errors import ConfigError


@dataclass(frozen=True)
class Split:
    """Positional row indices of one train/val/test partition (``fold`` for k-fold)."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    fold: int = 0


def check_fractions(split_cfg: Any, need_test: bool) -> None:
    val, test = split_cfg.val_fraction, split_cfg.test_fraction if need_test else 0.0
    if not 0 < val < 1 or (need_test and not 0 < test < 1) or val + test >= 1:
        raise ConfigError(
            f"split.val_fraction={val}, split.test_fraction={test}: each must be in (0, 1) "
            "and together below 1"
        )
