"""Where a study lives.

``hydra.sweeper.storage``:

* ``null`` (the default): ``<sweep dir>/optuna.journal``, an Optuna journal file. Several
  processes on one machine (``hydra/launcher=joblib``) share it safely, it survives a
  SIGKILL, and ``optuna-dashboard <file>`` opens it.
* a path: a journal file there.
* a SQLAlchemy URL (``sqlite:///...``, ``postgresql://user:pw@host/db``): Optuna's RDB
  storage, e.g. for workers on several machines sharing one study.

A storage is opened once per process and reused, so trials that run in the sweeper's
own process (the basic launcher) share the sweeper's connection and journal replay.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tabpipe.errors import ConfigError, first_line

JOURNAL_NAME = "optuna.journal"

_OPENED: dict[str, Any] = {}


def is_url(location: str) -> bool:
    return "://" in location


def storage_location(spec: str | None, sweep_dir: str | Path) -> str:
    """The storage URL, or the absolute journal path (so that every job finds it)."""
    if spec is None or not str(spec).strip():
        return os.path.abspath(Path(sweep_dir) / JOURNAL_NAME)
    spec = str(spec).strip()
    return spec if is_url(spec) else os.path.abspath(spec)


def open_storage(location: str) -> Any:
    """An Optuna storage for ``location`` (see :func:`storage_location`)."""
    if location in _OPENED:
        return _OPENED[location]
    storage = _open_rdb(location) if is_url(location) else _open_journal(location)
    _OPENED[location] = storage
    return storage


def _open_journal(path: str) -> Any:
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return JournalStorage(JournalFileBackend(path))
    except OSError as exc:
        raise ConfigError(f"hydra.sweeper.storage={path!r}: cannot open the journal file ({exc})") from exc


def _open_rdb(url: str) -> Any:
    from optuna.storages import RDBStorage
    from sqlalchemy.exc import SQLAlchemyError

    try:
        return RDBStorage(url)
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise ConfigError(f"hydra.sweeper.storage={url!r}: {first_line(exc, type(exc).__name__)}") from exc


def dashboard_command(location: str) -> str:
    """How to open the study in optuna-dashboard (it takes a journal path or an RDB URL)."""
    return f"optuna-dashboard {location}"
