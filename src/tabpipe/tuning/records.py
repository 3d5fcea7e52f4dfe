"""What a sweep leaves behind: ``optimization_results.yaml`` in the sweep directory (best
parameters and value, trial counts, where the study lives) and the best-params experiment
(:mod:`tabpipe.tuning.best_experiment`)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import optuna
from optuna.trial import TrialState

from tabpipe.tuning import study as studies
from tabpipe.tuning.best_experiment import write_best_experiment
from tabpipe.tuning.storage import dashboard_command
from tabpipe.tuning.summary import RESULTS_NAME, SweepSummary, TrialCounts

if TYPE_CHECKING:
    from tabpipe.tuning.sweep import OptunaSweep

log = logging.getLogger(__name__)

COUNTED = ("complete", "pruned", "failed", "interrupted", "running", "waiting")


def best_trial(study: optuna.Study) -> optuna.trial.FrozenTrial | None:
    if not study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        return None
    return study.best_trial


def finish(sweep: OptunaSweep, study: optuna.Study) -> SweepSummary:
    """Write the results file (and the best-params experiment); log where everything is."""
    counts = studies.tally(study)
    summary = SweepSummary(
        study_name=study.study_name,
        storage=sweep.location,
        direction=study.direction.name.lower(),
        optimized_metric=sweep.optimized_metric,
        n_trials=sweep.options.n_trials,
        trials=TrialCounts(**{state: counts[state] for state in COUNTED}),
        dashboard=dashboard_command(sweep.location),
    )
    best = best_trial(study)
    if best is not None:
        summary.best_trial = best.number
        summary.best_value = float(best.value)
        summary.best_params = dict(best.params)
        summary.best_run_dir = best.user_attrs.get(studies.RUN_DIR)
        summary.best_experiment = write_best_experiment(sweep, study, best)
    path = summary.write(sweep.sweep_dir / RESULTS_NAME)
    _log_summary(summary, path)
    return summary


def _log_summary(summary: SweepSummary, path: Any) -> None:
    trials = summary.trials
    log.info(
        "study %s: %d complete, %d pruned, %d failed%s",
        summary.study_name,
        trials.complete,
        trials.pruned,
        trials.failed,
        f", {trials.interrupted} interrupted (re-run)" if trials.interrupted else "",
    )
    if summary.best_trial is not None:
        log.info(
            "best: trial %d, %s=%.6g, %s",
            summary.best_trial,
            summary.optimized_metric or "objective",
            summary.best_value,
            " ".join(f"{k}={v}" for k, v in summary.best_params.items()),
        )
    if summary.best_experiment:
        log.info("re-run the best parameters: %s", summary.best_experiment.command)
    log.info("results: %s; dashboard: %s", path, summary.dashboard)
