"""Fault injection for the crash tests: ``$TABPIPE_FAULT_AT=<point>`` makes the process
SIGKILL itself when it reaches the named point, so a test kills a run exactly there instead
of racing a timer. Unset (always, outside the tests), a point costs one environment lookup.

Points: ``train.ingest``, ``train.fit``, ``train.evaluate``, ``train.parity`` (the graph passed
its gate; bundle and registration follow), ``registry.reserved``, ``registry.copying`` (the
first file of the bundle copied into staging), ``registry.assembled`` (staging complete, not
yet renamed into place).
"""

from __future__ import annotations

import os
import signal

FAULT_ENV = "TABPIPE_FAULT_AT"


def fault_point(name: str) -> None:
    """SIGKILL this process if ``$TABPIPE_FAULT_AT`` names this point."""
    if os.environ.get(FAULT_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
