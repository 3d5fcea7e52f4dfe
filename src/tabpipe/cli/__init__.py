"""Command-line entry points. Nothing here imports an ML library at module level."""

from __future__ import annotations

import sys
from typing import NoReturn

from tabpipe.errors import TabpipeError


def fail(error: TabpipeError) -> NoReturn:
    """Print ``error`` as ``error: <line>`` lines on stderr and exit with its code."""
    for line in str(error).splitlines():
        print(f"error: {line}", file=sys.stderr)
    sys.exit(error.exit_code)
