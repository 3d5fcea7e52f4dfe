"""Train a tabular model from composed Hydra configs.

Recipes::

    python train.py                                   # bundled churn data, xgb, test metrics
    python train.py model=lgbm split=kfold            # 5-fold CV, mean ± std
    python train.py model=mlp trainer.max_epochs=20 seed=7
    python train.py model=xgb trainer=gpu             # CUDA (exit 4 without one)
    python train.py data=csv data.path=my.csv data.target=churn data.task=binary
    python train.py experiment=churn_xgb              # a complete named recipe
    python train.py debug=fdr                         # fast dev run
    python train.py logger=[wandb,mlflow,csv] tags=[v2] tracking.group=ablation
    python train.py --cfg job                         # print the composed config
    python train.py -m hparams_search=xgb_optuna      # Optuna sweep (resumable; see README)
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING

from tabpipe.cli import fail, take_project_flag
from tabpipe.cli.groups import check_composes, check_overrides_parse, help_text
from tabpipe.config import is_sweep_trial
from tabpipe.config.groups import check_group_choices
from tabpipe.config.project import find_project, main_config_path
from tabpipe.errors import ConfigError, TabpipeError
from tabpipe.log_routing import FILE_ONLY

if TYPE_CHECKING:
    from omegaconf import DictConfig

log = logging.getLogger("tabpipe")


def _objective(optimized_metric: str | None, metrics: dict[str, float], default: float) -> float:
    """What a multirun sweep optimizes: ``optimized_metric`` (e.g. ``val/auc``), else
    ``val/<primary metric>``. With ``split=kfold`` the plain key is the mean over folds."""
    name = optimized_metric
    if not name:
        return default
    if name not in metrics:
        known = ", ".join(sorted(k for k in metrics if k.startswith(("val/", "test/")) and "_std" not in k))
        raise ConfigError(f"optimized_metric={name!r}: not a metric of this run; one of: {known}")
    return metrics[name]


def check_job(cfg: DictConfig) -> None:
    """The checks of :func:`check_composes`, on the config of this job: a multirun that
    sweeps on the command line (``seed=0,1,2``) composes one per job."""
    from hydra.core.hydra_config import HydraConfig

    from tabpipe.config.checks import config_problems

    overrides = list(HydraConfig.get().overrides.task) if HydraConfig.initialized() else []
    problems = config_problems(cfg, overrides)
    if problems:
        raise ConfigError("\n".join(problems))


def _task(composed: DictConfig) -> float:
    trial = is_sweep_trial(composed)
    # imported here so that --help and config errors never pay for pandas or sklearn
    if "tabpipe.training.train" not in sys.modules and not trial:
        log.info("loading the training libraries (pandas, scikit-learn, ONNX, the model's library)")
    from tabpipe.training.train import run_training
    from tabpipe.tuning.trial_logger import trial_loggers  # optuna only once a trial opens

    try:
        check_job(composed)
        # a sweep trial's Optuna logger (it prunes) is given to training, which knows no tuning;
        # run_training types the config, once
        result = run_training(composed, trial_loggers if trial else None)
        return _objective(composed.optimized_metric, result.metrics, result.objective)
    except TabpipeError as error:
        if trial:
            log.error("%s", error)
            raise  # a sweep trial: the sweeper records the failure and goes on
        log.error("%s", error, extra=FILE_ONLY)  # in the run's log; the console gets fail()'s line
        fail(error)


def main(argv: list[str] | None = None, program: str = "train.py") -> None:
    """Run the training app on ``argv`` (default: ``sys.argv[1:]``)."""
    import hydra

    from tabpipe.config.store import register_configs

    args = take_project_flag(sys.argv[1:] if argv is None else list(argv))
    if any(flag in args for flag in ("--help", "-h")):
        print(help_text(program, __doc__ or ""))
        return
    register_configs()
    try:
        check_group_choices(args)
        check_overrides_parse(args)
        check_composes(args)
    except TabpipeError as error:
        fail(error)
    sys.argv = [program, *args]
    config_path = main_config_path(find_project())
    hydra.main(version_base="1.3", config_path=config_path, config_name="train")(_task)()


if __name__ == "__main__":
    main()
