"""The user's project: where its configs are read from and where its runs are written.

The rule (README "Your own project"), first match wins:

1. an explicit ``project`` argument (the Python API), ``--project DIR`` on the command line,
   or the ``TABPIPE_PROJECT`` environment variable: that directory;
2. the nearest directory, from the working directory upward, holding ``conf/train.yaml`` or a
   ``tabpipe.yaml`` marker file;
3. else the working directory, with the packaged configs only.

The project's ``conf/`` (if it has one) comes first on Hydra's search path, the packaged
defaults (``pkg://tabpipe.conf``, shipped in the wheel) after it: a project file with the same
group and name wins, a new file in a project group is one more option of that group. Every run
writes under :attr:`Project.root` (runs, registry, sweeps, the best-params experiment,
monitoring state), never into the installed package.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tabpipe.errors import ConfigError

ENV = "TABPIPE_PROJECT"
MARKER = "tabpipe.yaml"
PACKAGED = "pkg://tabpipe.conf"


@dataclass(frozen=True)
class Project:
    """A directory the user owns: configs in ``conf_dir``, everything a run writes under ``root``."""

    root: Path  # runs, registry, sweeps, monitoring state go under it
    conf_dir: Path | None  # the user's conf/ (first on the search path); None: packaged only


def _is_project(directory: Path) -> bool:
    return (directory / "conf" / "train.yaml").is_file() or (directory / MARKER).is_file()


def _at(root: Path) -> Project:
    conf = root / "conf"
    return Project(root=root, conf_dir=conf if conf.is_dir() else None)


def find_project(project: str | Path | None = None, start: Path | None = None) -> Project:
    """The project for ``project`` (explicit), else ``$TABPIPE_PROJECT``, else the nearest
    directory from ``start`` (default: the working directory) upward with ``conf/train.yaml``
    or ``tabpipe.yaml``, else ``start`` itself with the packaged configs only."""
    chosen = project if project not in (None, "") else os.environ.get(ENV) or None
    if chosen is not None:
        root = Path(chosen).expanduser().resolve()
        if not root.is_dir():
            source = "TABPIPE_PROJECT" if project in (None, "") else "project"
            raise ConfigError(f"{source}={chosen}: not a directory")
        return _at(root)
    here = Path(start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        if _is_project(directory):
            return _at(directory)
    return Project(root=here, conf_dir=None)


def config_search_path(project: Project) -> list[str]:
    """Hydra's config sources for ``project``, first wins: its ``conf/``, then the packaged defaults."""
    own = [f"file://{project.conf_dir.resolve()}"] if project.conf_dir is not None else []
    return [*own, PACKAGED]


def main_config_path(project: Project) -> str:
    """The first source of :func:`config_search_path` as Hydra's ``config_path`` takes it (an
    absolute directory or ``pkg://...``); the Hydra plugin ``tabpipe_configs`` appends the
    packaged defaults behind it in every Hydra process."""
    return str(project.conf_dir.resolve()) if project.conf_dir is not None else PACKAGED


def initialize_hydra(project: Project) -> Any:
    """Hydra's ``initialize_config_dir`` / ``initialize_config_module`` for ``project``: the
    context in which ``hydra.compose()`` composes as the CLI does."""
    from hydra import initialize_config_dir, initialize_config_module

    if project.conf_dir is not None:
        return initialize_config_dir(str(project.conf_dir.resolve()), version_base="1.3")
    return initialize_config_module(PACKAGED.removeprefix("pkg://"), version_base="1.3")


def output_root() -> Path:
    """Where this process writes what has no configured path: ``$TABPIPE_ROOT`` (as
    ``paths.root_dir``), else the discovered project's root."""
    pinned = os.environ.get("TABPIPE_ROOT")
    return Path(pinned) if pinned else find_project().root
