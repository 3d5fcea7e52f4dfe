"""What a sweep optimizes, settled before the first trial.

For tabpipe's training app (a config with ``data.task``) the objective is
``optimized_metric`` when the config sets it, else ``val/<primary metric>`` (what a trial
returns then: ``eval.primary_metric`` or the task's default, e.g. ``val/auc`` for binary,
``val/rmse`` for regression). The name must be a metric that such a run produces; a wrong
one (``val/auc`` on a regression task) stops the sweep with one line instead of failing
every trial after it trained. ``hydra.sweeper.direction`` defaults to the metric's own:
minimize for losses and errors (``log_loss``, ``rmse``, ...), maximize for the rest.

Any other Hydra app keeps the official plugin's rules: the task's return value is the
objective and the direction defaults to minimize.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from omegaconf import OmegaConf

from tabpipe.config import option_value
from tabpipe.errors import ConfigError

log = logging.getLogger(__name__)

# the official hydra-optuna-sweeper's default
DEFAULT_DIRECTION = "minimize"
# the keys of a run's metrics.json: fold_<k>/ (k-fold), baseline/, the split, _std (k-fold)
_METRIC_KEY = re.compile(r"^(?:fold_\d+/)?(?:baseline/)?(?:val|test)/(?P<name>.+?)(?:_std)?$")


@dataclass(frozen=True)
class Objective:
    metric: str | None  # None: the task's return value, whatever it is
    direction: str  # minimize | maximize


def _configured_direction(direction: Any) -> str | None:
    if direction is None:
        return None
    if OmegaConf.is_list(direction) or isinstance(direction, list | tuple):
        if len(direction) != 1:
            raise ConfigError(
                f"hydra.sweeper.direction={list(direction)}: one objective only "
                "(the task returns one optimized_metric)"
            )
        direction = direction[0]
    text = str(getattr(direction, "name", direction)).lower()
    if text not in ("minimize", "maximize"):
        raise ConfigError(f"hydra.sweeper.direction={direction!r}: use minimize or maximize")
    return text


def resolve_objective(trial_config: Any, direction: Any) -> Objective:
    """The metric and direction of a sweep whose trials compose to ``trial_config``."""
    configured = _configured_direction(direction)
    metric = OmegaConf.select(trial_config, "optimized_metric", default=None)
    task = OmegaConf.select(trial_config, "data.task", default=None)
    if task is None:  # not tabpipe's training app
        return Objective(str(metric) if metric else None, configured or DEFAULT_DIRECTION)
    from tabpipe.evaluation.metrics import LOWER_IS_BETTER, metric_names, primary_metric

    task = option_value(task)
    ranking_k = OmegaConf.select(trial_config, "eval.ranking_k", default=None)
    primary = primary_metric(task, OmegaConf.select(trial_config, "eval.primary_metric"), ranking_k)
    metric = str(metric) if metric else f"val/{primary}"
    names = metric_names(task, ranking_k)
    match = _METRIC_KEY.match(metric)
    if match is None or match["name"] not in names:
        raise ConfigError(
            f"optimized_metric={metric!r}: not a metric of a {task} run; use val/<metric> "
            f"with one of {', '.join(names)} (unset: val/{primary})"
        )
    natural = "minimize" if match["name"] in LOWER_IS_BETTER else "maximize"
    if configured is not None and configured != natural:
        log.warning(
            "hydra.sweeper.direction=%s for %s, which is better %s",
            configured,
            metric,
            "lower" if natural == "minimize" else "higher",
        )
    return Objective(metric, configured or natural)
