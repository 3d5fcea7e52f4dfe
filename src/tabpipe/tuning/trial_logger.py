"""The trial job's end of a sweep: a metrics logger that feeds the per-step metric stream
(boosting rounds, Lightning epochs) to the job's Optuna trial and prunes.

The sweeper passes the trial's identity as overrides (``optuna.storage``,
``optuna.study_name``, ``optuna.trial_number``). The job opens that trial, records its run
directory and pid on it, reports ``pruning_metric`` at every step and raises
``optuna.TrialPruned`` when the study's pruner says so; the sweeper then stores the trial
as PRUNED. k-fold runs report the first fold (``fold_0/...``). Optuna is imported only here,
and only in a trial job.
"""

from __future__ import annotations

import logging
import os
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tabpipe.config.schema import OptunaTrialConfig

log = logging.getLogger(__name__)


def trial_loggers(identity: OptunaTrialConfig, output_dir: str) -> list[Any]:
    """``[OptunaTrialLogger]`` inside a sweep trial (``identity`` is the ``optuna`` config
    the sweeper sets), else ``[]``."""
    if identity.trial_number is None:
        return []
    return [
        OptunaTrialLogger.open(
            str(identity.storage), str(identity.study_name), int(identity.trial_number), output_dir
        )
    ]


class OptunaTrialLogger:
    def __init__(self, trial: Any, pruning_metric: str | None) -> None:
        self.trial = trial
        self.metric = pruning_metric
        self.fold: str | None = None
        self.reported = 0

    @classmethod
    def open(cls, location: str, study_name: str, number: int, output_dir: Any) -> OptunaTrialLogger:
        import optuna
        from hydra.utils import instantiate

        from tabpipe.tuning import study as studies
        from tabpipe.tuning.storage import open_storage

        storage = open_storage(location)
        attrs = storage.get_study_user_attrs(storage.get_study_id_from_name(study_name))
        spec = attrs.get(studies.PRUNER)
        pruner = instantiate(spec) if spec else optuna.pruners.NopPruner()
        study = optuna.load_study(
            study_name=study_name, storage=storage, sampler=optuna.samplers.RandomSampler(), pruner=pruner
        )
        trial = optuna.trial.Trial(study, studies.trial_id(storage, study_name, number))
        trial.set_user_attr(studies.RUN_DIR, str(output_dir))
        trial.set_user_attr(studies.JOB_PID, os.getpid())
        trial.set_user_attr(studies.JOB_STARTED, time.time())
        prunes = not isinstance(pruner, optuna.pruners.NopPruner)
        return cls(trial, attrs.get(studies.PRUNING_METRIC) if prunes else None)

    def _value(self, metrics: dict[str, float]) -> float | None:
        if self.metric in metrics:
            return metrics[self.metric]
        for key, value in metrics.items():
            fold, _, name = key.partition("/")
            if name == self.metric and fold.startswith("fold_"):
                self.fold = self.fold or fold
                return value if fold == self.fold else None
        return None

    def log_metrics(self, metrics: dict[str, float], step: int) -> None:
        if self.metric is None:
            return
        value = self._value(metrics)
        if value is None:
            return
        import optuna

        self.trial.report(float(value), step)
        self.reported += 1
        if self.trial.should_prune():
            raise optuna.TrialPruned(f"{self.metric}={value:.6g} at step {step}")

    def log_summary(self, metrics: dict[str, float]) -> None:
        """The sweeper records the objective; nothing to add here."""

    def finalize(self, status: str) -> None:
        from tabpipe.tuning import study as studies

        self.trial.set_user_attr(studies.JOB_FINISHED, time.time())
        if self.metric is not None and self.reported == 0:
            log.warning(
                "pruning: this model's per-step metrics carry no %r, so the trial could not be "
                "pruned; set hydra.sweeper.pruning_metric to one they carry (e.g. val/loss)",
                self.metric,
            )
