"""The Hydra Sweeper: Hydra builds it from ``hydra.sweeper`` (the sampler and pruner come
instantiated), hands it the launcher's context, and calls :meth:`sweep` with the command
line's task overrides. The work is done by :class:`tabpipe.tuning.sweep.OptunaSweep`.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from hydra.core.plugins import Plugins
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf, open_dict, read_write

log = logging.getLogger(__name__)


class TabpipeOptunaSweeper(Sweeper):
    def __init__(
        self,
        sampler: Any,
        direction: Any,
        storage: str | None,
        study_name: str | None,
        n_trials: int,
        n_jobs: int,
        search_space: Any,
        params: Any,
        custom_search_space: str | None,
        pruner: Any,
        pruning_metric: str | None,
        max_failure_rate: float,
        trial_overrides: Any,
        best_experiment_dir: str | None,
    ) -> None:
        self.kwargs = {
            "sampler": sampler,
            "direction": direction,
            "storage": storage,
            "study_name": study_name,
            "n_trials": int(n_trials),
            "n_jobs": int(n_jobs),
            "search_space": search_space,
            "params": OmegaConf.to_container(params) if OmegaConf.is_config(params) else params,
            "custom_search_space": custom_search_space,
            "pruning_metric": pruning_metric,
            "max_failure_rate": float(max_failure_rate),
            "trial_overrides": [str(o) for o in trial_overrides or []],
            "best_experiment_dir": best_experiment_dir,
        }
        self.config: DictConfig | None = None
        self.launcher: Any = None
        self.hydra_context: HydraContext | None = None

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig) -> None:
        self.config = config
        self.hydra_context = hydra_context
        # jobs read the pruner from the study, so they need its config, not the object
        pruner = OmegaConf.select(config, "hydra.sweeper.pruner")
        self.kwargs["pruner_spec"] = OmegaConf.to_container(pruner, resolve=True) if pruner else None
        # a resumed study rebuilds the sampler with a seed of its own (tabpipe.tuning.samplers)
        sampler = OmegaConf.select(config, "hydra.sweeper.sampler")
        self.kwargs["sampler_spec"] = OmegaConf.to_container(sampler, resolve=True) if sampler else None
        launcher = config.hydra.launcher
        if "n_jobs" in launcher and launcher.n_jobs == -1:
            # a parallel launcher left at "all cores" runs exactly n_jobs trials at once
            with read_write(launcher), open_dict(launcher):
                launcher.n_jobs = self.kwargs["n_jobs"]
        from tabpipe.tuning.trial_configs import TrialConfigLoader

        # trials compose the defaults once per sweep, then apply their sampled values
        self.hydra_context = HydraContext(
            config_loader=TrialConfigLoader(hydra_context.config_loader), callbacks=hydra_context.callbacks
        )
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=self.hydra_context, task_function=task_function, config=config
        )

    def sweep(self, arguments: list[str]) -> Any:
        from tabpipe.errors import TabpipeError
        from tabpipe.tuning.sweep import OptunaSweep, SweepOptions

        assert self.config is not None and self.hydra_context is not None
        try:
            sweep = OptunaSweep(
                SweepOptions(**self.kwargs), self.config, self.launcher, self.hydra_context.config_loader
            )
            return sweep.run(arguments)
        except TabpipeError as error:
            # one line and the project's exit code, not Hydra's traceback
            for line in str(error).splitlines():
                print(f"error: {line}", file=sys.stderr)
            sys.exit(error.exit_code)
