"""The config groups of ``conf/`` (read from the directory, without composing): the options
of each group, for ``--help`` and for the early check of ``group=option`` overrides that the
CLI and the DVC stages both make."""

from __future__ import annotations

import os
from pathlib import Path

from tabpipe.errors import ConfigError

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


def conf_dir() -> Path:
    """``$TABPIPE_CONF_DIR``, else the project's ``conf/`` (the repository root)."""
    override = os.environ.get("TABPIPE_CONF_DIR")
    return Path(override) if override else Path(__file__).resolve().parents[3] / "conf"


def group_options(root: Path | None = None) -> dict[str, list[str]]:
    root = root or conf_dir()
    return {
        group: sorted(p.stem for p in (root / group).glob("*.yaml"))
        for group in GROUPS
        if (root / group).is_dir()
    }


def check_group_choices(overrides: list[str], root: Path | None = None) -> None:
    """``model=nope`` -> one line naming the group and its available options."""
    options = group_options(root)
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
