"""A user's project: found by the documented rule, its conf/ in front of the packaged defaults
(a same-named file wins, a new file is one more option), its root where every run writes."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose
from omegaconf import OmegaConf

from helpers import PACKAGED_CONF
from tabpipe.cli import take_project_flag
from tabpipe.cli.groups import help_text
from tabpipe.config.groups import check_group_choices, group_options
from tabpipe.config.project import Project, config_search_path, find_project, initialize_hydra
from tabpipe.config.store import register_configs
from tabpipe.errors import ConfigError
from tabpipe.pipeline.scaffold import train_yaml


def make_project(root: Path) -> Path:
    """A project as `tabpipe init --example none` writes its conf/train.yaml, plus two model files."""
    model = root / "conf" / "model"
    model.mkdir(parents=True)
    (root / "conf" / "train.yaml").write_text(train_yaml(None))
    # same group and name as a packaged file: replaces it
    (model / "xgb.yaml").write_text((PACKAGED_CONF / "model" / "xgb.yaml").read_text() + "max_depth: 2\n")
    # a new option of the group
    (model / "my_lgbm.yaml").write_text(
        "defaults:\n  - /schema/model/lgbm@_here_\n  - _self_\nnum_leaves: 7\n"
    )
    return root


@pytest.fixture(autouse=True)
def no_project_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # set, so that the test's end restores them (--project sets TABPIPE_PROJECT); "" is unset
    monkeypatch.setenv("TABPIPE_PROJECT", "")
    monkeypatch.delenv("TABPIPE_ROOT", raising=False)


def test_the_nearest_project_upward_from_the_working_directory(tmp_path: Path) -> None:
    project = make_project(tmp_path / "project")
    deep = project / "notebooks" / "eda"
    deep.mkdir(parents=True)
    assert find_project(start=deep) == Project(root=project, conf_dir=project / "conf")
    # a tabpipe.yaml marker makes a project without conf/train.yaml; nearer wins
    marked = deep / "inner"
    marked.mkdir()
    (marked / "tabpipe.yaml").write_text("")
    assert find_project(start=marked) == Project(root=marked, conf_dir=None)
    # a conf/ without train.yaml is not a project: the working directory, packaged configs only
    lone = tmp_path / "lone"
    (lone / "conf").mkdir(parents=True)
    assert find_project(start=lone) == Project(root=lone, conf_dir=None)


def test_explicit_project_then_the_environment_win_over_discovery(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    one, two = make_project(tmp_path / "one"), make_project(tmp_path / "two")
    monkeypatch.chdir(one)
    assert find_project().root == one
    monkeypatch.setenv("TABPIPE_PROJECT", str(two))
    assert find_project().root == two
    assert find_project(one).root == one
    monkeypatch.setenv("TABPIPE_PROJECT", str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match=r"^TABPIPE_PROJECT=.*/missing: not a directory$"):
        find_project()


def test_the_project_conf_is_first_on_the_search_path(tmp_path: Path) -> None:
    project = find_project(make_project(tmp_path))
    assert config_search_path(project) == [f"file://{tmp_path / 'conf'}", "pkg://tabpipe.conf"]
    assert config_search_path(Project(root=tmp_path, conf_dir=None)) == ["pkg://tabpipe.conf"]


def test_a_project_file_replaces_the_packaged_one_and_a_new_one_is_an_option(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = make_project(tmp_path)
    monkeypatch.chdir(project)
    register_configs()
    with initialize_hydra(find_project()):
        default = compose("train")
        mine = compose("train", overrides=["model=my_lgbm"])
        other = compose("serve", overrides=["bundle=x"])  # the packaged app configs, behind it
    assert default.model.max_depth == 2
    assert mine.model.num_leaves == 7 and mine.model._target_.endswith("LightGBMModel")
    # everything a run writes goes under the project's root
    assert OmegaConf.select(default, "paths.root_dir") == str(project)
    assert default.registry.root == f"{project}/registry"
    assert other.registry_root == f"{project}/registry"

    assert "my_lgbm" in group_options()["model"] and "xgb" in group_options()["model"]
    check_group_choices(["model=my_lgbm"])  # selectable beside the packaged options
    assert "my_lgbm" in help_text("tabpipe train", "")
    monkeypatch.chdir(tmp_path.parent)  # another directory: no such option
    with pytest.raises(ConfigError, match="model=my_lgbm: unknown option; available models: baseline"):
        check_group_choices(["model=my_lgbm"])


def test_project_flag_sets_the_project_for_the_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    project = make_project(tmp_path / "p")
    assert take_project_flag(["--project", str(project), "model=xgb"]) == ["model=xgb"]
    assert find_project().root == project
    assert take_project_flag([f"--project={tmp_path}", "seed=1"]) == ["seed=1"]
    assert find_project().root == tmp_path
    with pytest.raises(SystemExit) as exited:
        take_project_flag(["--project", str(tmp_path / "nope")])
    assert exited.value.code == 2
    assert capsys.readouterr().err == f"error: --project {tmp_path / 'nope'}: not a directory\n"


def test_the_registry_commands_default_to_the_projects_registry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tabpipe.export.registry import default_root

    project = make_project(tmp_path)
    (project / "notebooks").mkdir()
    monkeypatch.chdir(project / "notebooks")
    monkeypatch.delenv("TABPIPE_REGISTRY", raising=False)
    assert default_root() == project / "registry"
    monkeypatch.setenv("TABPIPE_REGISTRY", str(tmp_path / "shared"))
    assert default_root() == tmp_path / "shared"


def test_monitor_state_defaults_to_the_projects_monitoring_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tabpipe.config.app_schema import MonitorConfig
    from tabpipe.monitoring.run import _report_paths

    project = make_project(tmp_path)
    (project / "data").mkdir()
    monkeypatch.chdir(project / "data")
    state_dir, report_dir = _report_paths(MonitorConfig(bundle="churn:1", current="x.csv"), "churn")
    assert state_dir == project / "monitoring" / "churn" and report_dir.parent == state_dir
