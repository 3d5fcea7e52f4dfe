"""The study behind a sweep: created or resumed, checked against the sweep's settings, and
cleared of trials that an ended sweep left RUNNING.

What a study records (user attributes) so that a re-run resumes it faithfully:

* ``tabpipe:search_space`` / ``tabpipe:optimized_metric``: a re-run with a different search
  space or objective is refused (a new ``study_name`` starts a new study);
* ``tabpipe:pruner`` / ``tabpipe:pruning_metric``: read by the trial jobs to prune;
* per trial: ``tabpipe:owner`` (host and pid of the sweep process that asked for it),
  ``tabpipe:sampler_seed`` (see :mod:`tabpipe.tuning.samplers`), ``tabpipe:fail_reason``,
  ``tabpipe:interrupted``, ``tabpipe:retry_of``, and from the job itself
  ``tabpipe:run_dir`` and ``tabpipe:job_pid``.
"""

from __future__ import annotations

import logging
import os
import socket
from collections import Counter
from dataclasses import dataclass
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from tabpipe.errors import ConfigError
from tabpipe.tuning.search_space import SearchSpace

log = logging.getLogger(__name__)

SEARCH_SPACE = "tabpipe:search_space"
OPTIMIZED_METRIC = "tabpipe:optimized_metric"
PRUNER = "tabpipe:pruner"
PRUNING_METRIC = "tabpipe:pruning_metric"
OWNER = "tabpipe:owner"
FAIL_REASON = "tabpipe:fail_reason"
INTERRUPTED = "tabpipe:interrupted"
RETRY_OF = "tabpipe:retry_of"
RUN_DIR = "tabpipe:run_dir"
OVERRIDES = "tabpipe:overrides"
JOB_PID = "tabpipe:job_pid"
JOB_STARTED = "tabpipe:job_started"
JOB_FINISHED = "tabpipe:job_finished"
SAMPLER_SEED = "tabpipe:sampler_seed"


@dataclass(frozen=True)
class StudySettings:
    name: str
    direction: str
    optimized_metric: str | None
    pruner_spec: dict[str, Any] | None
    pruning_metric: str | None


def this_owner() -> dict[str, Any]:
    return {"host": socket.gethostname(), "pid": os.getpid()}


def open_study(storage: Any, settings: StudySettings, sampler: Any, space: SearchSpace) -> optuna.Study:
    """Create the study or load it; refuse a changed direction, objective or search space."""
    study = optuna.create_study(
        storage=storage,
        study_name=settings.name,
        direction=settings.direction,
        sampler=sampler,
        load_if_exists=True,
    )
    _check_unchanged(study, settings, space)
    study.set_user_attr(SEARCH_SPACE, space.signature())
    study.set_user_attr(OPTIMIZED_METRIC, settings.optimized_metric)
    study.set_user_attr(PRUNER, settings.pruner_spec)
    study.set_user_attr(PRUNING_METRIC, settings.pruning_metric)
    return study


def _check_unchanged(study: optuna.Study, settings: StudySettings, space: SearchSpace) -> None:
    suggestion = (
        f"start a new study with hydra.sweeper.study_name=<new name> (this one is {study.study_name!r})"
    )
    direction = study.direction.name.lower()
    if direction != settings.direction:
        raise ConfigError(
            f"hydra.sweeper.direction={settings.direction}: study {study.study_name!r} was created "
            f"to {direction}; {suggestion}"
        )
    attrs = study.user_attrs
    metric = attrs.get(OPTIMIZED_METRIC, settings.optimized_metric)
    if metric != settings.optimized_metric:
        raise ConfigError(
            f"optimized_metric={settings.optimized_metric}: study {study.study_name!r} optimizes "
            f"{metric}; {suggestion}"
        )
    stored = attrs.get(SEARCH_SPACE)
    if stored is None or stored == space.signature():
        return
    current = space.signature()
    changed = sorted(k for k in set(stored) | set(current) if stored.get(k) != current.get(k))
    first = changed[0]
    was, now = _short(stored.get(first)), _short(current.get(first))
    raise ConfigError(
        f"hydra.sweeper.params: the search space differs from study {study.study_name!r} "
        f"({first}: {was} -> {now}); {suggestion}"
    )


def _short(distribution_json: str | None) -> str:
    if distribution_json is None:
        return "absent"
    from optuna.distributions import json_to_distribution

    return repr(json_to_distribution(distribution_json))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_orphan(trial: FrozenTrial) -> bool:
    """A RUNNING trial whose sweep process (on this host) no longer exists."""
    owner = trial.user_attrs.get(OWNER)
    if not owner or owner.get("host") != socket.gethostname():
        return False
    return owner.get("pid") != os.getpid() and not _alive(int(owner["pid"]))


def recover_interrupted(study: optuna.Study, storage: Any) -> list[int]:
    """Mark trials left RUNNING by an ended sweep (e.g. SIGKILL) as FAIL and enqueue their
    parameters again; returns their numbers. Trials of live sweeps, here or on other hosts,
    are left alone (several workers may share a study). An interrupted trial whose re-run
    was never enqueued (a sweep killed in between) gets it now."""
    recovered = []
    for trial in study.get_trials(deepcopy=False):
        if trial.state == TrialState.RUNNING and is_orphan(trial):
            owner = trial.user_attrs[OWNER]
            reason = f"interrupted: sweep process {owner['pid']} on {owner['host']} ended during the trial"
            abandon(study, storage, trial.number, trial.params, reason)
            recovered.append(trial.number)
        elif (
            trial.state == TrialState.FAIL
            and trial.user_attrs.get(INTERRUPTED)
            and _enqueue_retry(study, trial.number, trial.params)
        ):
            recovered.append(trial.number)
    if recovered:
        log.warning(
            "study %s: trials %s were interrupted; marked FAIL and their parameters enqueued again",
            study.study_name,
            recovered,
        )
    return recovered


def trial_id(storage: Any, study_name: str, number: int) -> int:
    """The storage's id of trial ``number`` (public storage API; trial objects hide it)."""
    study_id = storage.get_study_id_from_name(study_name)
    return storage.get_trial_id_from_study_id_trial_number(study_id, number)


def abandon(study: optuna.Study, storage: Any, number: int, params: dict[str, Any], reason: str) -> None:
    """FAIL an unfinished trial as interrupted, and enqueue its parameters for a re-run."""
    ident = trial_id(storage, study.study_name, number)
    if storage.get_trial(ident).state.is_finished():
        return
    storage.set_trial_user_attr(ident, INTERRUPTED, True)
    storage.set_trial_user_attr(ident, FAIL_REASON, reason)
    study.tell(number, state=TrialState.FAIL)
    _enqueue_retry(study, number, params)


def _enqueue_retry(study: optuna.Study, number: int, params: dict[str, Any]) -> bool:
    """Enqueue the re-run of interrupted trial ``number`` unless the study has one: each
    interrupted trial is run again exactly once (a re-run that is itself interrupted gets
    its own re-run)."""
    if any(t.user_attrs.get(RETRY_OF) == number for t in study.get_trials(deepcopy=False)):
        return False
    study.enqueue_trial(dict(params), user_attrs={RETRY_OF: number})
    return True


def tally(study: optuna.Study) -> Counter:
    """Trial counts: complete, pruned, failed (real failures), interrupted, running, waiting."""
    counts: Counter = Counter()
    for trial in study.get_trials(deepcopy=False):
        if trial.state == TrialState.FAIL and trial.user_attrs.get(INTERRUPTED):
            counts["interrupted"] += 1
        else:
            counts[_STATE_NAMES[trial.state]] += 1
    return counts


_STATE_NAMES = {
    TrialState.COMPLETE: "complete",
    TrialState.PRUNED: "pruned",
    TrialState.FAIL: "failed",
    TrialState.RUNNING: "running",
    TrialState.WAITING: "waiting",
}


def finished(counts: Counter) -> int:
    """Trials that count towards ``n_trials`` (interrupted ones are re-run instead)."""
    return counts["complete"] + counts["pruned"] + counts["failed"]


def running_elsewhere(study: optuna.Study) -> int:
    """RUNNING trials that another live sweep owns (they will finish and count)."""
    me = this_owner()
    return sum(
        1
        for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
        if t.user_attrs.get(OWNER) != me and not is_orphan(t)
    )
