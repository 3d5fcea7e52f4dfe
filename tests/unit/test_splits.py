"""Stratified, k-fold and temporal splits."""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers import compose_config
from tabpipe.data.ingestion import ingest
from tabpipe.data.splits import make_splits


def test_stratified_fractions_and_class_balance() -> None:
    cfg = compose_config([])
    dataset = ingest(cfg.data)
    (split,) = make_splits(dataset, cfg.split, cfg.seed)
    n = dataset.n_rows
    assert len(split.test) == round(0.15 * n) or abs(len(split.test) - 0.15 * n) <= 1
    assert abs(len(split.val) - 0.15 * n) <= 2
    assert len(np.intersect1d(split.train, split.test)) == 0
    assert len(set(split.train) | set(split.val) | set(split.test)) == n
    overall = (dataset.target == "Yes").mean()
    for part in (split.train, split.val, split.test):
        assert abs((dataset.target.iloc[part] == "Yes").mean() - overall) < 0.01


def test_kfold_tests_every_row_once() -> None:
    cfg = compose_config(["split=kfold", "split.n_folds=4"])
    dataset = ingest(cfg.data)
    folds = make_splits(dataset, cfg.split, cfg.seed)
    assert len(folds) == 4
    tested = np.concatenate([fold.test for fold in folds])
    assert sorted(tested.tolist()) == list(range(dataset.n_rows))
    for fold in folds:
        assert not set(fold.test) & (set(fold.train) | set(fold.val))


def test_temporal_split_never_trains_on_the_future() -> None:
    cfg = compose_config(["data=seattle_weather", "split=temporal"])
    dataset = ingest(cfg.data)
    (split,) = make_splits(dataset, cfg.split, cfg.seed)
    time = dataset.time
    assert time.iloc[split.train].max() < time.iloc[split.val].min()
    assert time.iloc[split.val].max() < time.iloc[split.test].min()
    assert time.iloc[split.test].max() == time.max()


def test_temporal_split_keeps_equal_timestamps_together() -> None:
    cfg = compose_config(["data=seattle_weather", "split=temporal"])
    dataset = ingest(cfg.data)
    dataset.time = pd.Series(np.repeat(pd.date_range("2024-01-01", periods=10), 10))
    (split,) = make_splits(dataset, cfg.split, cfg.seed)
    assert dataset.time.iloc[split.train].max() < dataset.time.iloc[split.test].min()
    assert dataset.time.iloc[split.val].max() < dataset.time.iloc[split.test].min()


def test_same_seed_same_split_and_seed_zero_is_valid() -> None:
    cfg = compose_config(["seed=0"])
    dataset = ingest(cfg.data)
    first = make_splits(dataset, cfg.split, 0)[0]
    again = make_splits(dataset, cfg.split, 0)[0]
    other = make_splits(dataset, cfg.split, 1)[0]
    assert np.array_equal(first.test, again.test)
    assert not np.array_equal(first.test, other.test)
