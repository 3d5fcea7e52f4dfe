"""Every config group composes and is validated by its schema."""

from __future__ import annotations

import pytest
from hydra.errors import ConfigCompositionException
from omegaconf import OmegaConf

from helpers import compose_config
from tabpipe.config import schema
from tabpipe.config.groups import group_options

SELECTABLE = [
    (group, option)
    for group, options in group_options().items()
    for option in options
    if group not in ("hydra", "paths")
]


@pytest.mark.parametrize(("group", "option"), SELECTABLE)
def test_every_group_option_composes(group: str, option: str) -> None:
    overrides = [f"{group}={option}"]
    if group == "data" and option in ("csv", "parquet"):
        overrides += ["data.path=x.csv", "data.target=y", "data.task=binary"]
    cfg = compose_config(overrides, output_dir="/tmp/x")
    assert OmegaConf.to_container(cfg, resolve=True)  # fully resolvable
    for key in ("data", "features", "split", "model", "trainer", "paths"):
        assert cfg[key] is not None


@pytest.mark.parametrize(
    ("option", "schema_class"),
    [
        ("xgb", schema.XGBModelConfig),
        ("lgbm", schema.LGBMModelConfig),
        ("linear", schema.LinearModelConfig),
        ("baseline", schema.BaselineModelConfig),
        ("mlp", schema.LightningModelConfig),
    ],
)
def test_models_are_typed_by_their_schema(option: str, schema_class: type) -> None:
    cfg = compose_config([f"model={option}"])
    assert OmegaConf.get_type(cfg.model) is schema_class


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ("model.max_dept=3", "max_dept"),
        ("data.targte=x", "targte"),
        ("features.scalling=none", "scalling"),
        ("split.n_fold=3", "n_fold"),
        ("trainer.max_epoch=3", "max_epoch"),
        ("eval.require_beat=false", "require_beat"),
    ],
)
def test_unknown_key_fails_with_its_name(override: str, named: str) -> None:
    with pytest.raises(ConfigCompositionException) as info:
        compose_config([override])
    assert named in str(info.value) + str(info.value.__cause__)


def test_wrong_type_and_enum_values_fail() -> None:
    with pytest.raises(ConfigCompositionException):
        compose_config(["model.max_depth=deep"])
    with pytest.raises(ConfigCompositionException) as info:
        compose_config(["features.scaling=minmax"])
    assert "standard" in str(info.value.__cause__)


def test_experiment_overlay_is_a_complete_recipe() -> None:
    cfg = compose_config(["experiment=weather_lgbm"])
    assert cfg.data.name == "seattle_weather"
    assert cfg.split.kind.value == "temporal"
    assert cfg.model._target_.endswith("LightGBMModel")
    assert cfg.model.num_leaves == 15


def test_experiment_file_typo_is_caught(tmp_path) -> None:
    """A user's own experiment file is checked against the schemas too."""
    import shutil

    from hydra import compose, initialize_config_dir

    from helpers import CONF

    conf = tmp_path / "conf"
    shutil.copytree(CONF, conf)
    (conf / "experiment").mkdir(exist_ok=True)
    (conf / "experiment" / "typo.yaml").write_text("# @package _global_\nmodel:\n  max_dpth: 3\n")
    with (
        initialize_config_dir(str(conf), version_base="1.3"),
        pytest.raises(ConfigCompositionException) as info,
    ):
        compose("train", overrides=["experiment=typo"])
    assert "max_dpth" in str(info.value) + str(info.value.__cause__)


def test_debug_presets_disable_the_gate() -> None:
    for preset in ("fdr", "limit", "overfit"):
        cfg = compose_config([f"debug={preset}"])
        assert cfg.eval.require_beat_baseline is False
        assert cfg.task_name == "debug"
    assert compose_config(["debug=fdr"]).trainer.fast_dev_run is True


@pytest.mark.parametrize(("group", "option"), SELECTABLE)
def test_every_group_option_is_within_its_declared_ranges(group: str, option: str) -> None:
    from tabpipe.config.ranges import range_problems

    overrides = [f"{group}={option}"]
    if group == "data" and option in ("csv", "parquet"):
        overrides += ["data.path=x.csv", "data.target=y", "data.task=binary"]
    assert range_problems(compose_config(overrides, output_dir="/tmp/x")) == []


def test_every_numeric_model_and_trainer_key_declares_a_range() -> None:
    """The hyperparameters a user mistypes most: each numeric one has its natural range."""
    import dataclasses

    from tabpipe.config.ranges import field_rules

    unranged = {"max_depth", "n_jobs"}  # lgbm: -1 = no limit; 0 = all cores
    for cls in (schema.XGBModelConfig, schema.LGBMModelConfig, schema.LinearModelConfig, schema.SplitConfig):
        numeric = {
            f.name for f in dataclasses.fields(cls) if f.type in (int, float) or "Annotated" in str(f.type)
        }
        assert numeric - unranged <= set(field_rules(cls)), cls.__name__


@pytest.mark.parametrize(
    "override",
    ["+data.schema.tenure={type: numeric, min: 0}", "+logger.tb={_target_: x.Y}", "+tags=[a]", "++seed=3"],
)
def test_appending_to_free_form_nodes_is_allowed(override: str) -> None:
    from tabpipe.config.checks import config_problems

    assert config_problems(compose_config([override], output_dir="/tmp/x"), [override]) == []
