"""`tabpipe init`: a project whose conf/ composes in front of the packaged defaults, and no
scaffolding over a directory that holds something."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose
from omegaconf import OmegaConf

from tabpipe.cli.init import main as init_main
from tabpipe.config.project import find_project, initialize_hydra
from tabpipe.pipeline import dvc_params
from tabpipe.pipeline.scaffold import EXAMPLES, write_project


def test_init_refuses_a_non_empty_directory(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(SystemExit) as exited:
        init_main([str(tmp_path)])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert (
        err
        == f"error: {tmp_path}: not empty; give an empty or new directory, or --force to scaffold into it\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


@pytest.mark.parametrize(
    ("example", "data", "split"),
    [("weather", "weather", "temporal"), ("none", "telco_churn", "stratified")],
)
def test_each_example_composes_with_its_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, example: str, data: str, split: str
) -> None:
    monkeypatch.setenv("TABPIPE_PROJECT", "")
    written = write_project(tmp_path, EXAMPLES.get(example))
    assert dvc_params.PARAMS in written and (tmp_path / dvc_params.CONFIG).is_file()
    monkeypatch.chdir(tmp_path)
    with initialize_hydra(find_project()):
        cfg = compose("train", overrides=["experiment=example"], return_hydra_config=True)
    assert cfg.hydra.runtime.choices.data == data and cfg.split.kind.value == split
    assert cfg.hydra.runtime.choices.model == "lgbm" and cfg.model.num_leaves == 15  # the example experiment
    if example == "weather":
        assert OmegaConf.select(cfg, "data.path", throw_on_missing=True).endswith("/data/seattle_weather.csv")
        assert (tmp_path / "data" / "seattle_weather.csv").is_file()
        assert "data/seattle_weather.csv" in (tmp_path / "dvc.yaml").read_text()
    else:
        assert cfg.data.source.value == "bundled" and not any((tmp_path / "data").iterdir())
    assert "src/" not in (tmp_path / "dvc.yaml").read_text()  # deps that exist in a user's project
