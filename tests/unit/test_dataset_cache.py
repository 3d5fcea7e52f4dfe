"""The process keeps the last validated dataset: a sweep's trials read an unchanged source once."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
from omegaconf import OmegaConf

from helpers import compose_config
from tabpipe.data.dataset_cache import ingest_once


def data_cfg(tmp_path: Path, path: Path, **extra: object):
    overrides = ["data=csv", f"data.path={path}", "data.target=y", "data.task=binary"]
    overrides += [f"data.{key}={value}" for key, value in extra.items()]
    return compose_config(overrides, tmp_path / "run").data


def write(path: Path, rows: int) -> None:
    frame = pd.DataFrame({"x": range(rows), "c": ["a", "b"] * (rows // 2), "y": [0, 1] * (rows // 2)})
    frame.to_csv(path, index=False)


def test_an_unchanged_source_is_validated_once(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    write(path, 40)
    first = ingest_once(data_cfg(tmp_path, path))
    assert ingest_once(data_cfg(tmp_path, path)) is first


def test_a_changed_file_or_config_is_ingested_again(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    write(path, 40)
    first = ingest_once(data_cfg(tmp_path, path))
    dropped = ingest_once(data_cfg(tmp_path, path, drop_columns="[c]"))
    assert dropped is not first and list(dropped.features.columns) == ["x"]
    write(path, 60)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    again = ingest_once(data_cfg(tmp_path, path))
    assert again.n_rows == 60 and again.source.sha256 != first.source.sha256


def test_the_key_is_the_resolved_data_config(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    write(path, 40)
    cfg = data_cfg(tmp_path, path)
    plain = OmegaConf.create(OmegaConf.to_container(cfg, resolve=True))
    assert ingest_once(plain) is ingest_once(cfg)


def test_splits_are_reused_for_the_same_dataset_config_and_seed(tmp_path: Path) -> None:
    from tabpipe.data.dataset_cache import splits_once

    path = tmp_path / "d.csv"
    write(path, 400)
    cfg = compose_config(["data=csv", f"data.path={path}", "data.target=y", "data.task=binary"], tmp_path)
    dataset = ingest_once(cfg.data)
    first = splits_once(dataset, cfg.split, 42)
    assert splits_once(dataset, cfg.split, 42) is first
    other_seed = splits_once(dataset, cfg.split, 7)
    assert other_seed is not first and not (other_seed[0].test == first[0].test).all()
    cfg.split.test_fraction = 0.3
    assert len(splits_once(dataset, cfg.split, 7)[0].test) == 120


def test_a_copy_that_keeps_size_and_mtime_is_still_seen(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    write(path, 40)
    first = ingest_once(data_cfg(tmp_path, path))
    stat = path.stat()
    path.write_text(path.read_text().replace("a,0", "b,0"))  # same size, other content
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # as cp -p / rsync -t leave it
    assert path.stat().st_size == stat.st_size and path.stat().st_mtime_ns == stat.st_mtime_ns
    again = ingest_once(data_cfg(tmp_path, path))
    assert again is not first and again.source.sha256 != first.source.sha256
