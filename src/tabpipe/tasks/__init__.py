"""One strategy per task (binary, multiclass, regression, ranking): see :mod:`.base`."""

from tabpipe.tasks.base import LABEL, PREDICTION, PROBABILITIES, SCORE, Task
from tabpipe.tasks.registry import TASKS, get_task

__all__ = ["LABEL", "PREDICTION", "PROBABILITIES", "SCORE", "TASKS", "Task", "get_task"]
