"""The last validated dataset (and its splits), kept by the process: the trials of a sweep
run in one process (or in a few reused joblib workers) and would otherwise read, hash,
validate and split an unchanged source once per trial.

A hit needs the same ``data`` config and, for a file, the same path, inode, size,
modification and status-change times (a copy that keeps the size and mtime still changes
the ctime); the splits, the same dataset object,
``split`` config and seed. Datasets and splits are never modified after they are made, so
the same objects are handed out again.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from tabpipe.config import option_value
from tabpipe.config.schema import DataConfig, SplitConfig
from tabpipe.config.typed import as_dict
from tabpipe.data.ingestion import Dataset, ingest
from tabpipe.data.sources import bundled_dataset_path
from tabpipe.data.splits import Split, make_splits

log = logging.getLogger(__name__)

_last: dict[str, Any] = {}


def _file(data_cfg: DataConfig) -> Path | None:
    source = option_value(data_cfg.source)
    if source in ("csv", "parquet") and data_cfg.path:
        return Path(str(data_cfg.path)).expanduser()
    if source == "bundled":
        return bundled_dataset_path(str(data_cfg.name))
    return None


def _settings(cfg: DataConfig | SplitConfig) -> dict[str, Any]:
    return as_dict(cfg)


def source_key(data_cfg: DataConfig) -> str | None:
    """What identifies the validated result; ``None`` when the source cannot be fingerprinted."""
    settings = _settings(data_cfg)
    path = _file(data_cfg)
    if path is not None:
        if not path.is_file():
            return None  # ingest reports it
        stat = path.stat()
        # ctime too: copies that keep the size and set the mtime (cp -p, rsync -t) change it
        fingerprint: Any = [str(path.resolve()), stat.st_ino, stat.st_size]
        fingerprint += [stat.st_mtime_ns, stat.st_ctime_ns]
    elif option_value(data_cfg.source) == "sklearn":
        fingerprint = ["sklearn", str(data_cfg.name)]
    else:
        return None
    return json.dumps([settings, fingerprint], sort_keys=True, default=str)


def ingest_once(data_cfg: DataConfig) -> Dataset:
    """:func:`ingest`, or the dataset this process last validated from the unchanged source."""
    key = source_key(data_cfg)
    if key is not None and _last.get("key") == key:
        log.info("dataset: %s, validated earlier in this process (unchanged)", _last["dataset"].source.uri)
        return _last["dataset"]
    dataset = ingest(data_cfg)
    _last.clear()
    if key is not None:
        _last.update(key=key, dataset=dataset)
    return dataset


def splits_once(dataset: Dataset, split_cfg: SplitConfig, seed: int) -> list[Split]:
    """:func:`make_splits`, or the splits this process last made of the same dataset object."""
    key = json.dumps([_settings(split_cfg), seed], sort_keys=True, default=str)
    if _last.get("dataset") is dataset and _last.get("splits_key") == key:
        return _last["splits"]
    splits = make_splits(dataset, split_cfg, seed)
    if _last.get("dataset") is dataset:
        _last.update(splits_key=key, splits=splits)
    return splits
