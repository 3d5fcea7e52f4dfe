"""The config groups of a project's ``conf/`` and of the packaged defaults (read from the
directories, without composing): the options of each group, for ``--help`` and for the early
check of ``group=option`` overrides that the CLI and the DVC stages both make."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tabpipe.config.project import find_project
from tabpipe.errors import ConfigError

# the packaged defaults (``pkg://tabpipe.conf``): src/tabpipe/conf, inside the installed package
PACKAGED_DIR = Path(__file__).resolve().parents[1] / "conf"

GROUPS = (
    "data",
    "features",
    "split",
    "model",
    "trainer",
    "logger",
    "callbacks",
    "paths",
    "hydra",
    "experiment",
    "hparams_search",
    "debug",
)


def config_dirs(own: Path | None = None) -> list[Path]:
    """The config directories, first wins: ``own`` (default: the discovered project's
    ``conf/``, if any), then the packaged defaults."""
    if own is None:
        own = find_project().conf_dir
    return [own, PACKAGED_DIR] if own is not None and own.resolve() != PACKAGED_DIR else [PACKAGED_DIR]


def group_options(dirs: Sequence[Path] | None = None) -> dict[str, list[str]]:
    """Each group's options: the union of its files in ``dirs`` (default :func:`config_dirs`)."""
    dirs = config_dirs() if dirs is None else dirs
    options: dict[str, list[str]] = {}
    for group in GROUPS:
        names = {p.stem for root in dirs for p in (root / group).glob("*.yaml")}
        if names:
            options[group] = sorted(names)
    return options


def check_group_choices(overrides: list[str], dirs: Sequence[Path] | None = None) -> None:
    """``model=nope`` -> one line naming the group and its available options."""
    options = group_options(dirs)
    for override in overrides:
        key, sep, value = override.lstrip("+~").partition("=")
        if not sep or key not in options or not value or value == "null":
            continue
        if "(" in value:  # a sweep function such as choice(...) or glob(...): Hydra checks it
            continue
        # `[a,b]` selects several configs; `a,b` sweeps them under -m
        choices = [v.strip() for v in value.strip("[]").split(",")]
        for choice in choices:
            if choice and choice not in options[key]:
                plural = key if key.endswith("s") else f"{key}s"
                raise ConfigError(
                    f"{key}={choice}: unknown option; available {plural}: {', '.join(options[key])}"
                )
