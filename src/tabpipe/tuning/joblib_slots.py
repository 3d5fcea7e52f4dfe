"""The joblib launcher as the sweep's parallel slots: when it can refill them, how its
workers are stopped, and its per-launch log lines (each slot launches one job at a time, so
joblib would number every trial ``#0``; the sweep logs ``#<trial number>`` instead)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# the module that logs "Joblib.Parallel(...) is launching 1 jobs" and "#0 : <overrides>"
LAUNCH_LOGGER = "hydra_plugins.hydra_joblib_launcher._core"


def refills_slots(launcher: Any, n_jobs: int) -> bool:
    """Launchers whose ``launch`` may run from several threads at once, each call one job in
    its own worker process: joblib with at least ``n_jobs`` workers (with fewer, joblib would
    run a job in the calling thread, inside the sweep process). Others get the official
    plugin's batches of ``n_jobs``."""
    if type(launcher).__name__ != "JoblibLauncher":
        return False
    from joblib import effective_n_jobs

    return effective_n_jobs(launcher.joblib.get("n_jobs", -1)) >= n_jobs > 1


def stop_workers() -> None:
    """Kill the worker processes of the pool that joblib's ``Parallel`` calls share (asking
    ``get_reusable_executor()`` for it with other arguments would first wait for it)."""
    from joblib.externals.loky import reusable_executor

    executor = reusable_executor._executor
    if executor is not None:
        executor.shutdown(wait=False, kill_workers=True)


class _DropLaunchLines(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.INFO


@contextmanager
def own_launch_lines() -> Iterator[None]:
    """Silence the launcher's INFO lines (three per one-job launch, each numbered ``#0``)
    while the sweep logs one ``#<trial number> : <overrides>`` line per trial itself."""
    logger = logging.getLogger(LAUNCH_LOGGER)
    dropper = _DropLaunchLines()
    logger.addFilter(dropper)
    try:
        yield
    finally:
        logger.removeFilter(dropper)
