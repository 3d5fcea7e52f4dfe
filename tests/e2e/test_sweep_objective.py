"""What a sweep optimizes and how it ends: the objective from the task's primary metric,
checked before the first trial; a sweep whose trials all failed exits 1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sweep_helpers import XGB_NO_PRUNING, error_lines, load_study, results, run_app, run_train, states

pytestmark = pytest.mark.slow


def test_a_sweep_in_which_every_trial_failed_exits_non_zero(tmp_path: Path) -> None:
    sweep_dir = tmp_path / "sweep"
    args = ["-m", "outcome=raise", "hydra.sweeper.n_trials=2", "hydra.sweeper.max_failure_rate=1.0"]
    done = run_app([*args, f"hydra.sweep.dir={sweep_dir}"])
    assert done.returncode == 1, done.stderr[-3000:]
    [line] = error_lines(done.stderr)
    assert line.startswith("error: sweep failed: all 2 trials run failed; last failure: trial 1:"), line
    assert results(sweep_dir)["trials"]["failed"] == 2  # the records are written first


REGRESSION = ["data=sklearn", "data.name=diabetes", "data.task=regression", "model.n_estimators=20"]


def test_a_regression_sweep_minimizes_the_primary_validation_metric(tmp_path: Path) -> None:
    """The search files name no metric: a regression task's sweep minimizes val/rmse."""
    sweep_dir = tmp_path / "sweep"
    args = [*XGB_NO_PRUNING, *REGRESSION, "hydra.sweeper.n_trials=2", f"hydra.sweep.dir={sweep_dir}"]
    done = run_train([*args, f"hydra.sweeper.best_experiment_dir={tmp_path}"])
    assert done.returncode == 0, done.stderr[-3000:]
    study = load_study(sweep_dir, "xgb_optuna")
    assert study.direction.name == "MINIMIZE" and states(study) == {"COMPLETE": 2}
    assert results(sweep_dir)["optimized_metric"] == "val/rmse"
    for trial in study.trials:
        metrics = json.loads((Path(trial.user_attrs["tabpipe:run_dir"]) / "metrics.json").read_text())
        assert trial.value == metrics["val/rmse"]


def test_an_optimized_metric_the_task_lacks_stops_before_the_first_trial(tmp_path: Path) -> None:
    sweep_dir = tmp_path / "sweep"
    args = [*XGB_NO_PRUNING, *REGRESSION, "optimized_metric=val/auc", f"hydra.sweep.dir={sweep_dir}"]
    done = run_train(args)
    assert done.returncode == 2, done.stderr[-3000:]
    [line] = error_lines(done.stderr)
    assert line.startswith("error: optimized_metric='val/auc': not a metric of a regression run;"), line
    assert "rmse" in line and "(unset: val/rmse)" in line
    assert not sweep_dir.exists()
