"""The configuration reference (docs/reference/config.md, generated at every docs build by
docs/hooks/tabpipe_docgen): every key of every registered schema has a description, and a key
without one fails the check that fails the build."""

from __future__ import annotations

import dataclasses
import importlib
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

HOOKS = Path(__file__).resolve().parents[2] / "docs" / "hooks"


def _docgen(name: str) -> ModuleType:
    if str(HOOKS) not in sys.path:
        sys.path.insert(0, str(HOOKS))
    return importlib.import_module(f"tabpipe_docgen.{name}")


def test_every_key_of_every_registered_schema_has_a_description() -> None:
    config_page = _docgen("config_page")
    schemas = config_page.registered_schemas()
    names = {cls.__name__ for cls in schemas.values()}
    # the walk reaches every family: train groups, models, commands, the sweeper and its parts
    assert {"TrainConfig", "DataConfig", "XGBModelConfig", "ServeConfig", "MonitorConfig"} <= names
    assert {"TabpipeOptunaSweeperConf", "TPESamplerConfig", "MedianPrunerConfig"} <= names
    assert _docgen("config_keys").undescribed(schemas.values()) == []
    config_page.check_descriptions(schemas)  # what the docs build runs: passes


def test_a_key_without_a_description_fails_the_check_naming_it(tmp_path: Path, monkeypatch) -> None:
    source = '''
        from dataclasses import dataclass, field

        @dataclass
        class Inner:
            depth: int = 3
            """Described."""
            width: int = 8

        @dataclass
        class Outer:
            inner: Inner = field(default_factory=Inner)
            """Described too."""
            rate: float = 0.1
    '''
    (tmp_path / "undescribed_schema.py").write_text(textwrap.dedent(source))
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("undescribed_schema")
    with pytest.raises(ValueError, match="without a description") as failed:
        _docgen("config_page").check_descriptions({"schema/x": module.Outer})
    assert "undescribed_schema.Inner.width" in str(failed.value)
    assert "undescribed_schema.Outer.rate" in str(failed.value)
    assert "depth" not in str(failed.value) and "inner" not in str(failed.value)


def test_keys_carry_type_default_range_and_the_declaring_class_description() -> None:
    from tabpipe.config.app_schema import MonitorConfig
    from tabpipe.config.schema import TrainConfig

    keys = {key.path: key for key in _docgen("config_keys").schema_keys(TrainConfig)}
    seed = keys["seed"]
    assert (seed.type, seed.default, seed.range) == ("int", 42, ">= 0 and < 4294967296")
    strategy = keys["eval.threshold.strategy"]
    assert strategy.type == "one of: default, f1, cost" and strategy.description.startswith("default:")
    assert keys["eval.threshold"].section and keys["data"].required
    # an inherited field (DriftThresholds.epsilon) keeps the base class's description
    monitor = {key.path: key for key in _docgen("config_keys").schema_keys(MonitorConfig)}
    assert monitor["epsilon"].description.startswith("Empty bins") and monitor["epsilon"].range == "> 0"
    assert dataclasses.is_dataclass(MonitorConfig) and monitor["bundle"].required
