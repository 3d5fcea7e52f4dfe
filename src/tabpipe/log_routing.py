"""Where a log record goes: every line reaches the console once.

* A record logged with ``extra=FILE_ONLY`` goes to the run's log file but not to the
  console, for a line that the process prints itself in another form (the ``error: …``
  line of :func:`tabpipe.cli.fail`). ``conf/hydra/default.yaml`` puts :class:`SkipFileOnly`
  on Hydra's console handler.
* Lightning adds its own ``INFO: …`` console handler to the ``lightning`` logger and also
  lets records propagate to the root, so every Lightning line would be printed twice;
  :func:`route_lightning_to_root` leaves the root's handlers (console and run log) alone.
"""

from __future__ import annotations

import logging

FILE_ONLY = {"file_only": True}


class SkipFileOnly(logging.Filter):
    """Drops records logged with ``extra=FILE_ONLY`` (put on console handlers)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(record, "file_only", False)


def route_lightning_to_root() -> None:
    """Remove the console handlers that ``import lightning`` attaches to its loggers when
    the root logger already has handlers (Hydra's console and run log file), so that each
    Lightning message is printed once, formatted like every other line. Without root
    handlers (a bare library call) Lightning keeps its own."""
    if not logging.getLogger().hasHandlers():
        return
    for name in ("lightning", "lightning.pytorch", "lightning.fabric"):
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            if type(handler) is logging.StreamHandler:
                logger.removeHandler(handler)
        logger.propagate = True
