"""The files DVC reads (params.yaml, pipeline/config/) stay equal to the composition of conf/
(DVC's `dvc repro` reads them as they are)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from configobj import ConfigObj

from helpers import CONF, ROOT, cli_env
from tabpipe.cli.stage import params_main
from tabpipe.config.params_file import OVERRIDES_KEY, load_params
from tabpipe.pipeline import dvc_params


def test_params_yaml_equals_the_composition_of_conf() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "write_params.py"), "--check"],
        capture_output=True,
        text=True,
        env=cli_env(),
    )
    assert done.returncode == 0, done.stderr
    assert "model:" in (ROOT / "params.yaml").read_text()
    assert "registry:" in (ROOT / dvc_params.CONFIG).read_text()


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
    # the plugin writes pipeline/config/ in the DVC project of the working directory
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=cli_env(), cwd=output.parent
    )


def _yaml(path: Path) -> object:
    from omegaconf import OmegaConf

    return OmegaConf.to_container(OmegaConf.load(path))


def test_an_experiments_params_are_not_drift_but_a_hand_edit_is(tmp_path: Path, capsys) -> None:
    params = tmp_path / "params.yaml"
    overrides = ["model=lgbm", "model.num_leaves=15"]
    assert _dvc_compose(params, overrides).returncode == 0
    # params.yaml: the model group and the model's keys only (what `dvc exp show` lists); the
    # composition (interpolations kept, not resolved where DVC ran) and the overrides beside it
    wanted = dvc_params.generated(dvc_params.compose(CONF, overrides))
    assert _yaml(params) == wanted[dvc_params.PARAMS]
    assert set(_yaml(params)) == {"model_group", "model"} and _yaml(params)["model_group"] == "lgbm"
    config = tmp_path / dvc_params.CONFIG
    assert _yaml(config)[OVERRIDES_KEY] == overrides and "${" in config.read_text()
    for path, data in wanted.items():
        assert _yaml(tmp_path / path) == data, path
    check = ["--check", "--conf", str(CONF), "--root", str(tmp_path)]
    params_main(check)
    assert "up to date (written by `dvc exp run` with model=lgbm model.num_leaves=15 from conf/)" in (
        capsys.readouterr().out
    )
    assert load_params(config).model.num_leaves == 15 and OVERRIDES_KEY not in load_params(config)
    written = config.read_text()
    config.write_text(written.replace("num_leaves: 15", "num_leaves: 16"))
    with pytest.raises(SystemExit) as stale:
        params_main(check)
    assert stale.value.code == 1 and f"at {dvc_params.CONFIG}:model.num_leaves;" in capsys.readouterr().err
    config.write_text(written)
    params.write_text(params.read_text().replace("num_leaves: 15", "num_leaves: 16"))
    with pytest.raises(SystemExit):
        params_main(check)
    assert "at params.yaml:model.num_leaves;" in capsys.readouterr().err
    # `tabpipe params` (no overrides), then conf/ changed since
    params_main(["--conf", str(CONF), "--root", str(tmp_path)])
    params_main(check)
    assert "up to date (written by `tabpipe params` (no overrides) from conf/)" in capsys.readouterr().out
    train = tmp_path / dvc_params.stage_file("train")
    train.write_text(train.read_text().replace("max_depth: 6", "max_depth: 5"))
    with pytest.raises(SystemExit):
        params_main(check)
    assert "at pipeline/config/train.yaml:model.max_depth;" in capsys.readouterr().err


def test_a_bad_exp_run_override_is_tabpipes_one_line_as_a_dvc_error(tmp_path: Path) -> None:
    failed = _dvc_compose(tmp_path / "params.yaml", ["model.num_leaves=7"])  # the model is xgb
    assert failed.returncode == 1 and list(tmp_path.iterdir()) == []  # nothing written
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
        assert list(tmp_path.iterdir()) == []


def test_a_stage_refuses_params_out_of_range_before_it_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    from omegaconf import OmegaConf

    from tabpipe.cli.stage import stage_main

    params = tmp_path / "config.yaml"
    cfg = OmegaConf.load(ROOT / dvc_params.CONFIG)
    OmegaConf.update(cfg, "model.learning_rate", -1)
    OmegaConf.update(cfg, "split.val_fraction", 1.5)
    params.write_text(OmegaConf.to_yaml(cfg))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exited:
        stage_main(["ingest", "--config", str(params)])
    assert exited.value.code == 2
    assert capsys.readouterr().err.splitlines() == [
        f"error: {params}: split.val_fraction=1.5: out of range; must be > 0 and < 1",
        f"error: {params}: model.learning_rate=-1.0: out of range; must be > 0",
    ]
    assert list(tmp_path.iterdir()) == [params]  # nothing ran


def test_a_stage_refuses_a_dependency_file_that_is_not_its_slice_of_the_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """DVC reruns a stage when its pipeline/config/<stage>.yaml changes, and the stage runs
    with config.yaml: a hand edit of one without the other would run a config DVC did not hash."""
    from tabpipe.cli.stage import stage_main

    params_main(["--conf", str(CONF), "--root", str(tmp_path)])
    config = tmp_path / dvc_params.CONFIG
    config.write_text(config.read_text().replace("max_depth: 6", "max_depth: 4"))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exited:
        stage_main(["train"])
    assert exited.value.code == 2
    assert capsys.readouterr().err.splitlines() == [
        "error: pipeline/config/train.yaml differs from pipeline/config/config.yaml at model.max_depth; "
        "the generated files disagree: run `tabpipe params` (or `dvc exp run -S ...`), never edit them "
        "by hand"
    ]
    assert not (tmp_path / "pipeline" / "train").exists()  # nothing ran
