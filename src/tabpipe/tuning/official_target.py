"""Search files written for the official hydra-optuna-sweeper often pin its class:
``hydra.sweeper._target_: hydra_plugins.hydra_optuna_sweeper.optuna_sweeper.OptunaSweeper``.

With ``override /hydra/sweeper: tabpipe_optuna`` and that plugin not installed (it pins
optuna<3), this Hydra callback (conf/hydra/default.yaml) points ``_target_`` at tabpipe's
sweeper before Hydra builds it, so such a file works by changing the override alone.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, read_write

OFFICIAL = "hydra_plugins.hydra_optuna_sweeper.optuna_sweeper.OptunaSweeper"
TABPIPE = "hydra_plugins.tabpipe_optuna_sweeper.optuna_sweeper.TabpipeOptunaSweeper"


class OfficialSweeperTarget(Callback):
    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        sweeper = config.hydra.sweeper
        # only tabpipe's sweeper node has a pruner: the file chose tabpipe_optuna
        if sweeper.get("_target_") != OFFICIAL or "pruner" not in sweeper:
            return
        if importlib.util.find_spec("hydra_plugins.hydra_optuna_sweeper") is not None:
            return  # the official plugin is installed: leave the user's choice alone
        with read_write(sweeper):
            sweeper._target_ = TABPIPE
