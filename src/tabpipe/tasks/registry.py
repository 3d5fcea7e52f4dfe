"""The tasks by name: ``get_task("binary")``, ``get_task(Task.binary)`` (the config enum)."""

from __future__ import annotations

from enum import Enum

from tabpipe.errors import ConfigError
from tabpipe.tasks.base import Task
from tabpipe.tasks.classification import BinaryTask, MulticlassTask
from tabpipe.tasks.ranking import RankingTask
from tabpipe.tasks.regression import RegressionTask

# one instance per task (they hold no state); a new task registers its class here
TASKS: dict[str, Task] = {
    task.name: task for task in (BinaryTask(), MulticlassTask(), RegressionTask(), RankingTask())
}


def get_task(task: str | Enum | Task) -> Task:
    """The strategy of ``task``: its name, the config's ``Task`` enum, or a strategy."""
    if isinstance(task, Task):
        return task
    name = str(task.value if isinstance(task, Enum) else task)
    try:
        return TASKS[name]
    except KeyError:
        raise ConfigError(f"data.task={name!r}: not a task; use one of {sorted(TASKS)}") from None
