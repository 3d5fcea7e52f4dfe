"""params.yaml stays equal to the composition of conf/ (DVC's `dvc repro` reads it as is)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from configobj import ConfigObj

from helpers import CONF, ROOT, cli_env
from tabpipe.cli.stage import params_main
from tabpipe.config.params_file import HEADER, OVERRIDES_KEY, composed, load_params


def test_params_yaml_equals_the_composition_of_conf() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "write_params.py"), "--check"],
        capture_output=True,
        text=True,
        env=cli_env(),
    )
    assert done.returncode == 0, done.stderr
    assert "model:" in (ROOT / "params.yaml").read_text()


def _dvc_compose(output: Path, overrides: list[str]) -> subprocess.CompletedProcess:
    """DVC's own composition for `dvc exp run -S ...` (`dvc.utils.hydra.compose_and_dump`, with
    `.dvc/config`'s plugins path). In a subprocess: DVC's plugin wraps Hydra for its process."""
    plugins = ROOT / ConfigObj(str(ROOT / ".dvc" / "config"))["hydra"]["plugins_path"]
    script = (
        "import sys\n"
        "from dvc.exceptions import DvcException\n"
        "from dvc.utils.hydra import compose_and_dump\n"
        "try:\n"
        f"    compose_and_dump({str(output)!r}, {str(CONF)!r}, None, 'train', {str(plugins)!r},"
        f" {overrides!r})\n"
        "except DvcException as error:\n"
        "    sys.exit(f'ERROR: {error}')\n"
    )
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=cli_env())


def test_an_experiments_params_are_not_drift_but_a_hand_edit_is(tmp_path: Path, capsys) -> None:
    params = tmp_path / "params.yaml"
    overrides = ["model=lgbm", "model.num_leaves=15"]
    assert _dvc_compose(params, overrides).returncode == 0
    # as `tabpipe params` writes it (interpolations kept, not resolved where DVC ran), plus the overrides
    recorded = "dvc_overrides:\n- model=lgbm\n- model.num_leaves=15\n"
    assert params.read_text() == composed(CONF, overrides).removeprefix(HEADER) + recorded
    params_main(["--check", "--conf", str(CONF), "--output", str(params)])
    assert "up to date (written by `dvc exp run` from conf/ with model=lgbm model.num_leaves=15)" in (
        capsys.readouterr().out
    )
    assert load_params(params).model.num_leaves == 15 and OVERRIDES_KEY not in load_params(params)
    params.write_text(params.read_text().replace("num_leaves: 15", "num_leaves: 16"))
    with pytest.raises(SystemExit) as stale:
        params_main(["--check", "--conf", str(CONF), "--output", str(params)])
    assert stale.value.code == 1 and "at model.num_leaves;" in capsys.readouterr().err
    committed = ROOT / "params.yaml"
    params.write_text(committed.read_text().replace("max_depth: 6", "max_depth: 5"))
    with pytest.raises(SystemExit):
        params_main(["--check", "--conf", str(CONF), "--output", str(params)])
    err = capsys.readouterr().err
    assert "(written by `tabpipe params` from conf/) differs from" in err and "at model.max_depth;" in err


def test_a_bad_exp_run_override_is_tabpipes_one_line_as_a_dvc_error(tmp_path: Path) -> None:
    failed = _dvc_compose(tmp_path / "params.yaml", ["model.num_leaves=7"])  # the model is xgb
    assert failed.returncode == 1 and not (tmp_path / "params.yaml").exists()
    assert failed.stderr == (
        "ERROR: model.num_leaves: unknown key of XGBModelConfig; keys: n_estimators, learning_rate, "
        "max_depth, min_child_weight, subsample, colsample_bytree, reg_lambda, reg_alpha, gamma, "
        "max_bin, early_stopping_rounds, n_jobs, rank_objective\n"
    )


def test_a_exp_run_override_out_of_range_fails_at_composition(tmp_path: Path) -> None:
    """`dvc exp run -S model.learning_rate=-1` ran ingest and split, then train died in XGBoost."""
    for overrides, line in (
        (["model.learning_rate=-1"], "ERROR: model.learning_rate=-1.0: out of range; must be > 0\n"),
        (["model=lgbm", "model.num_leaves=1"], "ERROR: model.num_leaves=1: out of range; must be >= 2\n"),
    ):
        failed = _dvc_compose(tmp_path / "params.yaml", overrides)
        assert failed.returncode == 1 and failed.stderr == line
        assert not (tmp_path / "params.yaml").exists()


def test_a_stage_refuses_params_out_of_range_before_it_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    from omegaconf import OmegaConf

    from tabpipe.cli.stage import stage_main

    params = tmp_path / "params.yaml"
    cfg = OmegaConf.load(ROOT / "params.yaml")
    OmegaConf.update(cfg, "model.learning_rate", -1)
    OmegaConf.update(cfg, "split.val_fraction", 1.5)
    params.write_text(OmegaConf.to_yaml(cfg))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exited:
        stage_main(["ingest", "--params", str(params)])
    assert exited.value.code == 2
    assert capsys.readouterr().err.splitlines() == [
        f"error: {params}: split.val_fraction=1.5: out of range; must be > 0 and < 1",
        f"error: {params}: model.learning_rate=-1.0: out of range; must be > 0",
    ]
    assert list(tmp_path.iterdir()) == [params]  # nothing ran
