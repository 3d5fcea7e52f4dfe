"""The sweep loop: ask a batch of ``n_jobs`` trials, launch them through Hydra's launcher,
tell the study how each ended, until the study holds ``n_trials`` finished trials.

``n_trials`` counts the study's finished trials (complete, pruned, failed), not this
invocation's, which is what makes a re-run resume: a finished study runs nothing, a larger
``n_trials`` tops it up, and trials an ended sweep left RUNNING are failed as interrupted
and their parameters re-run (:func:`tabpipe.tuning.study.recover_interrupted`).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from numbers import Real
from pathlib import Path
from typing import Any

import optuna
from hydra.core.utils import JobReturn, JobStatus, filter_overrides
from omegaconf import DictConfig, OmegaConf

from tabpipe.errors import ConfigError, TabpipeError, first_line
from tabpipe.tuning import joblib_slots, records
from tabpipe.tuning import study as studies
from tabpipe.tuning.objective import resolve_objective
from tabpipe.tuning.samplers import resumed_sampler
from tabpipe.tuning.search_space import SearchSpace, build_search_space, describe, format_value
from tabpipe.tuning.storage import open_storage, storage_location
from tabpipe.tuning.trial_configs import TrialConfigLoader

log = logging.getLogger(__name__)

_STUDY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
# the overrides that change from trial to trial besides the sampled parameters
PER_TRIAL_KEYS = ("hydra.sweep.subdir", "optuna.trial_number", "tracking.run_name")
# failure rate is judged once this many trials have finished, so one early crash does not stop a sweep
MIN_TRIALS_FOR_FAILURE_RATE = 3


class SweepStopped(TabpipeError):
    """Too many trials failed (``max_failure_rate``), or every trial run failed; exit code 1."""

    exit_code = 1


@dataclass
class SweepOptions:
    """``hydra.sweeper`` as the sweep loop reads it (see the plugin's config schema)."""

    sampler: Any
    direction: Any
    storage: str | None
    study_name: str | None
    n_trials: int
    n_jobs: int
    params: dict[str, Any] | None
    custom_search_space: str | None
    search_space: Any
    pruner_spec: dict[str, Any] | None
    max_failure_rate: float
    pruning_metric: str | None
    trial_overrides: list[str] = field(default_factory=list)
    best_experiment_dir: str | None = None
    # hydra.sweeper.sampler as config: a resumed study's sampler is rebuilt from it
    sampler_spec: dict[str, Any] | None = None


def _quote(text: str) -> str:
    return "'" + str(text).replace("\\", "\\\\").replace("'", "\\'") + "'"


class OptunaSweep:
    def __init__(
        self, options: SweepOptions, config: DictConfig, launcher: Any, config_loader: TrialConfigLoader
    ) -> None:
        self.options = options
        self.config = config
        self.launcher = launcher
        self.config_loader = config_loader
        self.sweep_dir = Path(str(config.hydra.sweep.dir))
        self.optimized_metric: str | None = None  # settled by run() (tabpipe.tuning.objective)
        self.launched = self.failed = 0
        self.sampler_seed: int | None = None
        self.last_failure = ""

    # ---- settings, checked before any trial runs -------------------------------------------
    def _study_name(self) -> str:
        name = self.options.study_name
        if name is None:
            name = OmegaConf.select(self.config, "hydra.runtime.choices.hparams_search") or "study"
        name = str(name)
        if not _STUDY_NAME.match(name):
            raise ConfigError(
                f"hydra.sweeper.study_name={name!r}: use letters, digits, '_', '.' and '-' "
                "(it also names the best-params experiment file)"
            )
        return name

    def _check_options(self) -> None:
        if self.options.search_space is not None:
            raise ConfigError("hydra.sweeper.search_space: deprecated in the official plugin; use params")
        if self.options.n_jobs < 1:
            raise ConfigError(f"hydra.sweeper.n_jobs={self.options.n_jobs}: must be at least 1")
        if not 0.0 <= self.options.max_failure_rate <= 1.0:
            raise ConfigError(
                f"hydra.sweeper.max_failure_rate={self.options.max_failure_rate}: must be in [0, 1]"
            )

    def _custom_extender(self) -> Any:
        target = self.options.custom_search_space
        if not target:
            return None
        from hydra.utils import get_method

        try:
            return get_method(target)
        except (ImportError, ValueError) as exc:
            raise ConfigError(f"hydra.sweeper.custom_search_space={target!r}: cannot import ({exc})") from exc

    def _check_composes(self, space: SearchSpace) -> DictConfig:
        """Compose one trial's config: an unknown key or a bad value fails here, once."""
        from hydra.errors import HydraException
        from omegaconf.errors import OmegaConfBaseException

        from tabpipe.config.checks import describe as describe_error

        overrides = self.trial_overrides(self._study_name(), space.sample(), 0)
        self.config_loader.vary([*space.distributions, *PER_TRIAL_KEYS])  # the template: composed here
        try:
            return self.config_loader.load_sweep_config(self.config, overrides)
        except (HydraException, OmegaConfBaseException) as exc:
            raise ConfigError(f"hydra.sweeper.params: {describe_error(exc)}") from exc

    # ---- the loop -----------------------------------------------------------------------------
    def run(self, arguments: Sequence[str]) -> Any:
        optuna.logging.set_verbosity(optuna.logging.WARNING)  # the sweep logs each trial itself
        self._check_options()
        space = self.space = build_search_space(self.options.params, arguments)
        self.extender = self._custom_extender()
        self.location = storage_location(self.options.storage, self.sweep_dir)
        objective = resolve_objective(self._check_composes(space), self.options.direction)
        self.optimized_metric = objective.metric
        self.storage = open_storage(self.location)
        settings = studies.StudySettings(
            name=self._study_name(),
            direction=objective.direction,
            optimized_metric=self.optimized_metric,
            pruner_spec=self.options.pruner_spec,
            pruning_metric=self.options.pruning_metric or self.optimized_metric,
        )
        self.sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, self.sweep_dir / "multirun.yaml")
        study = studies.open_study(self.storage, settings, self.options.sampler, space)
        stored = len(study.get_trials(deepcopy=False))
        study.sampler, self.sampler_seed = resumed_sampler(
            self.options.sampler, self.options.sampler_spec, stored
        )
        studies.recover_interrupted(study, self.storage)
        log.info(
            "study %s (%s %s) in %s%s; search space:\n%s",
            study.study_name,
            settings.direction,
            self.optimized_metric or "the task's return value",
            self.location,
            _seed_note(self.sampler_seed, stored),
            describe(space),
        )
        if joblib_slots.refills_slots(self.launcher, self.options.n_jobs):
            self._run_refilling_slots(study)
        else:
            self._run_in_batches(study, space)
        if self.launched == 0:
            log.info(
                "study %s already holds %d finished trials (n_trials=%d): nothing to run",
                study.study_name,
                studies.finished(studies.tally(study)),
                self.options.n_trials,
            )
        summary = records.finish(self, study)
        if self.launched and self.failed == self.launched:
            raise SweepStopped(
                f"sweep failed: all {self.launched} trials run failed; last failure: {self.last_failure}"
            )
        return summary

    def _remaining(self, study: optuna.Study, in_flight: int = 0) -> int:
        counts = studies.tally(study)
        finished = studies.finished(counts) + studies.running_elsewhere(study) + in_flight
        return self.options.n_trials - finished

    def _run_in_batches(self, study: optuna.Study, space: SearchSpace) -> None:
        """The official plugin's loop: ask ``n_jobs`` trials, launch them, tell all, repeat."""
        while True:
            self._check_failure_rate(study)
            remaining = self._remaining(study)
            if remaining <= 0:
                return
            batch = [self._ask(study, space) for _ in range(min(self.options.n_jobs, remaining))]
            self._launch(study, space, batch)

    def _run_refilling_slots(self, study: optuna.Study) -> None:
        """``n_jobs`` trials in flight, each launched alone from its own thread: a slot that
        frees up takes the next trial at once, instead of waiting for the batch's slowest."""
        log.info("joblib: %d trials at once, sweep output dir : %s", self.options.n_jobs, self.sweep_dir)
        running: dict[Future, optuna.Trial] = {}
        pool = ThreadPoolExecutor(self.options.n_jobs, thread_name_prefix="tabpipe-trial")
        try:
            with joblib_slots.own_launch_lines():
                self._refill_until_done(study, pool, running)
        except BaseException as exc:  # Ctrl-C or a launcher crash: give the running back, re-raise
            for trial in running.values():
                reason = f"interrupted: {type(exc).__name__} in the sweep process"
                studies.abandon(study, self.storage, trial.number, trial.params, reason)
            joblib_slots.stop_workers()  # else the process would wait for their trials at exit
            raise
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    def _refill_until_done(
        self, study: optuna.Study, pool: ThreadPoolExecutor, running: dict[Future, optuna.Trial]
    ) -> None:
        while True:
            free = min(self.options.n_jobs - len(running), self._remaining(study, len(running)))
            if self._failure_rate_exceeded():
                free = 0  # let the running finish, then stop
            for _ in range(max(free, 0)):
                trial = self._ask(study, self.space)
                job = self._job(study, trial)
                log.info("\t#%d : %s", trial.number, " ".join(filter_overrides(job)))
                running[pool.submit(self.launcher.launch, [job], trial.number)] = trial
            if not running:
                self._check_failure_rate(study)
                return
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            self._tell_done(study, {future: running.pop(future) for future in done})

    def _tell_done(self, study: optuna.Study, done: dict[Future, optuna.Trial]) -> None:
        """Tell every finished launch; one that crashed gives its trial back, then raises."""
        first_error: BaseException | None = None
        for future, trial in done.items():
            error = future.exception()
            if error is None:
                self._tell(study, trial, future.result()[0])
                continue
            reason = f"interrupted: {type(error).__name__} in the launcher"
            studies.abandon(study, self.storage, trial.number, trial.params, reason)
            first_error = first_error or error
        if first_error is not None:
            raise first_error

    def _ask(self, study: optuna.Study, space: SearchSpace) -> optuna.Trial:
        trial = study.ask(fixed_distributions=space.distributions)
        if self.extender is not None:
            self.extender(self.config, trial)
        trial.set_user_attr(studies.OWNER, studies.this_owner())
        if self.sampler_seed is not None:
            trial.set_user_attr(studies.SAMPLER_SEED, self.sampler_seed)
        return trial

    def trial_overrides(self, study_name: str, params: dict[str, Any], number: int) -> list[str]:
        """A trial job's overrides; only its parameters and :data:`PER_TRIAL_KEYS` vary."""
        overrides = [*self.space.overrides(params), *self.options.trial_overrides]
        # trial directories are named by trial number, so a resumed sweep never reuses one
        overrides.append(f"hydra.sweep.subdir={number}")
        if OmegaConf.select(self.config, "optuna") is not None:
            overrides += [
                f"optuna.storage={_quote(self.location)}",
                f"optuna.study_name={_quote(study_name)}",
                f"optuna.trial_number={number}",
            ]
        tracking = OmegaConf.select(self.config, "tracking")
        if OmegaConf.is_dict(tracking):
            if "group" in tracking:
                overrides.append(f"tracking.group={_quote(study_name)}")
            if "run_name" in tracking:
                overrides.append(f"tracking.run_name={_quote(f'{study_name}-trial-{number}')}")
        return overrides

    def _job(self, study: optuna.Study, trial: optuna.Trial) -> list[str]:
        trial.set_user_attr(studies.OVERRIDES, self.space.overrides(trial.params))
        self.config_loader.vary(trial.params)  # custom_search_space may add parameters
        return self.trial_overrides(study.study_name, trial.params, trial.number)

    def _launch(self, study: optuna.Study, space: SearchSpace, batch: list[optuna.Trial]) -> None:
        jobs = [self._job(study, trial) for trial in batch]
        told: set[int] = set()
        try:
            returns = self.launcher.launch(jobs, initial_job_idx=batch[0].number)
            for trial, ret in zip(batch, returns, strict=True):
                self._tell(study, trial, ret)
                told.add(trial.number)
        except BaseException as exc:  # Ctrl-C or a launcher crash: give the batch back, re-raise
            for trial in batch:
                if trial.number not in told:
                    reason = f"interrupted: {type(exc).__name__} in the sweep process"
                    studies.abandon(study, self.storage, trial.number, trial.params, reason)
            raise

    def _tell(self, study: optuna.Study, trial: optuna.Trial, ret: JobReturn) -> None:
        self.launched += 1
        if ret.status == JobStatus.FAILED:
            error = ret._return_value
            if isinstance(error, optuna.TrialPruned):
                study.tell(trial, state=optuna.trial.TrialState.PRUNED)
                log.info("trial %d pruned (%s)", trial.number, error)
                return
            self._fail(study, trial, f"{type(error).__name__}: {first_line(error, '(no message)')}")
            return
        value = ret.return_value
        problem = _objective_problem(value)
        if problem:
            self._fail(study, trial, problem)
            return
        study.tell(trial, float(value))
        best = study.best_trial
        log.info(
            "trial %d complete: %s=%.6g (best %.6g, trial %d)",
            trial.number,
            self.optimized_metric or "objective",
            float(value),
            best.value,
            best.number,
        )

    def _fail(self, study: optuna.Study, trial: optuna.Trial, reason: str) -> None:
        self.failed += 1
        self.last_failure = f"trial {trial.number}: {reason}"
        trial.set_user_attr(studies.FAIL_REASON, reason)
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
        params = " ".join(f"{k}={format_value(v)}" for k, v in trial.params.items())
        log.warning("trial %d failed: %s [%s]", trial.number, reason, params)

    def _failure_rate_exceeded(self) -> bool:
        """Judged on this invocation's trials, so a fixed bug is not held against a re-run."""
        done = self.launched
        return done >= MIN_TRIALS_FOR_FAILURE_RATE and self.failed / done > self.options.max_failure_rate

    def _check_failure_rate(self, study: optuna.Study) -> None:
        if not self._failure_rate_exceeded():
            return
        done = self.launched
        records.finish(self, study)
        raise SweepStopped(
            f"sweep stopped: {self.failed} of the {done} trials run failed, more than "
            f"hydra.sweeper.max_failure_rate={self.options.max_failure_rate}; last failure: "
            f"{self.last_failure}"
        )


def _seed_note(seed: int | None, stored: int) -> str:
    if seed is None or stored == 0:
        return ""
    return f" (resumed with {stored} trials: sampler seed {seed}, so no earlier draw repeats)"


def _objective_problem(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, Real):
        return f"objective is not a number: {value!r} (set optimized_metric to a metric name)"
    if not math.isfinite(float(value)):
        return f"objective is {float(value)}"
    return None
