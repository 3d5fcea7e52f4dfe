"""The user's project: its root (where runs, the registry and monitoring state go) and its
``conf/`` directory, in front of tabpipe's own configs on Hydra's search path.

A stand-in with today's behaviour (the configs of this checkout, ``$TABPIPE_CONF_DIR``, and
``$TABPIPE_ROOT`` or the working directory as the root) until the packaged configs and the
project discovery replace it; the interface is theirs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from tabpipe.config.groups import conf_dir
from tabpipe.errors import ConfigError

ROOT_ENV = "TABPIPE_ROOT"
ENV = "TABPIPE_PROJECT"


@dataclass(frozen=True)
class Project:
    """A project directory and its own config directory (None: tabpipe's configs only)."""

    root: Path
    conf_dir: Path | None


def find_project(project: str | Path | None = None, start: Path | None = None) -> Project:
    """``project`` or ``$TABPIPE_PROJECT`` (a directory, its ``conf/`` used when it holds a
    ``train.yaml``), else ``$TABPIPE_ROOT``, else ``start`` (default: the working directory)."""
    project = project if project not in (None, "") else os.environ.get(ENV) or None
    if project is not None:
        root = Path(project).expanduser().resolve()
        if not root.is_dir():
            raise ConfigError(f"project={str(project)!r}: no such directory")
        own = root / "conf"
        return Project(root, own if (own / "train.yaml").is_file() else None)
    root = Path(os.environ.get(ROOT_ENV) or start or Path.cwd()).resolve()
    return Project(root, conf_dir())


def config_search_path(project: Project) -> list[str]:
    """Hydra's config search path: the project's ``conf/`` first, then tabpipe's own."""
    own = [f"file://{project.conf_dir}"] if project.conf_dir else []
    packaged = f"file://{conf_dir()}"
    return own + ([packaged] if packaged not in own else [])
