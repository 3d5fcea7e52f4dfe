"""Resuming a study: a sweep killed mid-trial (SIGKILL) or topped up runs each interrupted
trial's parameters exactly once more and never repeats a parameter set (real Optuna, real
journal storage, sweeps as subprocesses: the process boundary is what is tested)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sweep_helpers import (
    XGB_NO_PRUNING,
    app_command,
    copy_conf,
    load_study,
    results,
    run_app,
    run_train,
    sigkill_when_exists,
    states,
    sweep_env,
    train_command,
)


@pytest.mark.slow
def test_sigkill_mid_trial_then_resume_reruns_only_the_interrupted_trial(tmp_path: Path) -> None:
    conf = copy_conf(tmp_path)
    sweep_dir = tmp_path / "sweep"
    args = [
        *XGB_NO_PRUNING,
        "hydra.sweeper.n_trials=4",
        f"hydra.sweep.dir={sweep_dir}",
    ]
    sigkill_when_exists(train_command(args), sweep_env(conf), sweep_dir / "2")
    interrupted = load_study(sweep_dir, "xgb_optuna")
    assert [t.state.name for t in interrupted.trials] == ["COMPLETE", "COMPLETE", "RUNNING"]

    done = run_train(args, conf)
    assert done.returncode == 0, done.stderr[-3000:]
    study = load_study(sweep_dir, "xgb_optuna")
    by_state = states(study)
    assert by_state == {"COMPLETE": 4, "FAIL": 1}, by_state
    failed = study.trials[2]
    assert failed.state.name == "FAIL" and failed.user_attrs["tabpipe:interrupted"] is True
    assert "interrupted" in failed.user_attrs["tabpipe:fail_reason"]
    retry = study.trials[3]
    assert retry.user_attrs["tabpipe:retry_of"] == 2 and retry.params == failed.params
    # the two finished trials kept their values and were not repeated
    assert [t.value for t in study.trials[:2]] == [t.value for t in interrupted.trials[:2]]
    complete = [tuple(sorted(t.params.items())) for t in study.trials if t.state.name == "COMPLETE"]
    assert len(set(complete)) == 4
    assert results(sweep_dir)["trials"]["interrupted"] == 1


@pytest.mark.slow
@pytest.mark.parametrize("sampler", ["tpe", "random", "cmaes"])
def test_resumed_and_topped_up_studies_never_repeat_parameters(tmp_path: Path, sampler: str) -> None:
    """A seeded sampler in a new process replays its draws unless its seed moves on: a
    SIGKILL mid-trial, a resume and a top-up must still give every trial new parameters,
    and the interrupted trial's parameters run exactly once more."""
    sweep_dir = tmp_path / "sweep"
    base = [
        "-m",
        "+hparams=plane",
        f"hydra/sweeper/sampler={sampler}",
        "hydra.sweeper.sampler.seed=42",
        f"hydra.sweep.dir={sweep_dir}",
    ]
    # trial 2 sleeps until it is killed
    killed = [*base, "hydra.sweeper.n_trials=4", "sleep_s_by_trial=[0,0,120]"]
    sigkill_when_exists(app_command(killed), sweep_env(), sweep_dir / "2")
    for n_trials in (4, 7):  # resume, then top up
        done = run_app([*base, f"hydra.sweeper.n_trials={n_trials}"])
        assert done.returncode == 0, done.stderr[-3000:]
    trials = load_study(sweep_dir, "app").trials
    interrupted = [t for t in trials if t.user_attrs.get("tabpipe:interrupted")]
    assert [t.number for t in interrupted] == [2]
    [retry] = [t for t in trials if t.user_attrs.get("tabpipe:retry_of") == 2]
    assert retry.params == interrupted[0].params and retry.state.name == "COMPLETE"
    run = [t for t in trials if not t.user_attrs.get("tabpipe:interrupted")]
    assert [t.state.name for t in run] == ["COMPLETE"] * 7
    drawn = [tuple(sorted(t.params.items())) for t in run]
    assert len(set(drawn)) == len(drawn), drawn


def test_an_interrupted_trial_gets_exactly_one_rerun(tmp_path: Path) -> None:
    """Killed between storing the FAIL and enqueuing the re-run: the next recovery enqueues
    it; a recovery after that (or of a trial that has its re-run) enqueues nothing."""
    import optuna

    from tabpipe.tuning import study as studies
    from tabpipe.tuning.storage import open_storage

    storage = open_storage(str(tmp_path / "optuna.journal"))
    study = optuna.create_study(storage=storage, study_name="s")
    trial = study.ask({"x": optuna.distributions.FloatDistribution(0, 1)})
    trial.set_user_attr(studies.INTERRUPTED, True)
    study.tell(trial, state=optuna.trial.TrialState.FAIL)
    assert studies.recover_interrupted(study, storage) == [0]
    assert studies.recover_interrupted(study, storage) == []
    studies.abandon(study, storage, 0, trial.params, "again")  # finished: nothing to do
    [retry] = study.get_trials(states=(optuna.trial.TrialState.WAITING,))
    assert retry.user_attrs[studies.RETRY_OF] == 0 and len(study.trials) == 2


def test_a_resumed_sampler_gets_a_seed_of_its_own_per_stored_count() -> None:
    import optuna

    from tabpipe.errors import ConfigError
    from tabpipe.tuning.samplers import resumed_sampler

    spec = {"_target_": "optuna.samplers.RandomSampler", "seed": 42}
    built = optuna.samplers.RandomSampler(seed=42)
    assert resumed_sampler(built, spec, 0) == (built, 42)  # a new study: the configured seed
    seeds = {resumed_sampler(built, spec, n)[1] for n in range(1, 50)}
    assert len(seeds) == 49 and 42 not in seeds
    sampler, seed = resumed_sampler(built, spec, 6)
    assert isinstance(sampler, optuna.samplers.RandomSampler) and sampler is not built
    assert resumed_sampler(built, spec, 6)[1] == seed  # deterministic
    assert resumed_sampler(built, {**spec, "seed": None}, 6) == (built, None)
    with pytest.raises(ConfigError, match=r"hydra.sweeper.sampler.seed=-1: use a non-negative integer"):
        resumed_sampler(built, {**spec, "seed": -1}, 6)
