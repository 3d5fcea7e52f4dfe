"""Command-line entry points. Nothing here imports an ML library at module level."""

from __future__ import annotations

import sys
from typing import NoReturn

from tabpipe.errors import ConfigError, TabpipeError


def fail(error: TabpipeError) -> NoReturn:
    """Print ``error`` as ``error: <line>`` lines on stderr and exit with its code."""
    for line in str(error).splitlines():
        print(f"error: {line}", file=sys.stderr)
    sys.exit(error.exit_code)


def take_project_flag(args: list[str]) -> list[str]:
    """``args`` without ``--project DIR`` / ``--project=DIR``, which becomes ``TABPIPE_PROJECT``
    for this process and its children (sweep workers, DVC stages, ``tabpipe reproduce``); the
    project must be a directory (one ``error:`` line, exit 2, otherwise)."""
    import os
    from pathlib import Path

    from tabpipe.config.project import ENV, find_project

    rest, args_iter = [], iter(args)
    for arg in args_iter:
        if arg == "--project" or arg.startswith("--project="):
            value = arg.partition("=")[2] if "=" in arg else next(args_iter, "")
            if not value:
                fail(ConfigError("--project: give the project's directory (--project DIR)"))
            if not Path(value).is_dir():
                fail(ConfigError(f"--project {value}: not a directory"))
            os.environ[ENV] = str(Path(value).resolve())  # children may run elsewhere
        else:
            rest.append(arg)
    if os.environ.get(ENV):
        try:
            find_project()
        except TabpipeError as error:
            fail(error)
    return rest
