"""The sweeper's search space: the official hydra-optuna-sweeper's expressions become the
same Optuna distributions; bad entries get one line naming them."""

from __future__ import annotations

import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from tabpipe.errors import ConfigError
from tabpipe.tuning.search_space import build_search_space


def test_official_expressions_become_optuna_distributions() -> None:
    space = build_search_space(
        {
            "model.learning_rate": "tag(log, interval(1e-4, 1e-1))",
            "model.max_depth": "range(3, 10)",
            "model.n_estimators": "range(100, 1000, step=100)",
            "model.subsample": "interval(0.5, 1.0)",
            "model.min_child_weight": "tag(int, interval(1, 8))",
            "model.module.hidden_dims": "choice([64, 32], [128, 64])",
            "model.batch_size": "choice(64, 128)",
            "data.name": "shuffle(range(1, 4))",
            "seed": 7,
        },
        [],
    )
    d = space.distributions
    assert d["model.learning_rate"] == FloatDistribution(1e-4, 1e-1, log=True)
    # as in the official plugin, range's upper end is included
    assert d["model.max_depth"] == IntDistribution(3, 10)
    assert d["model.n_estimators"] == IntDistribution(100, 1000, step=100)
    assert d["model.subsample"] == FloatDistribution(0.5, 1.0)
    assert d["model.min_child_weight"] == IntDistribution(1, 8)
    assert d["model.module.hidden_dims"] == CategoricalDistribution(["[64,32]", "[128,64]"])
    assert d["model.batch_size"] == CategoricalDistribution([64, 128])
    assert d["data.name"] == CategoricalDistribution([1, 2, 3])
    assert space.fixed == {"seed": "seed=7"}
    overrides = space.overrides({"model.learning_rate": 0.00123, "model.module.hidden_dims": "[64,32]"})
    assert overrides == ["seed=7", "model.learning_rate=0.00123", "model.module.hidden_dims=[64,32]"]


def test_the_command_line_wins_over_the_search_file() -> None:
    space = build_search_space(
        {"model.max_depth": "range(3, 10)", "model.n_estimators": "range(100, 1000, step=100)"},
        ["hparams_search=xgb_optuna", "model.n_estimators=50", "model.max_depth=choice(4, 6)"],
    )
    assert space.distributions == {"model.max_depth": CategoricalDistribution([4, 6])}
    assert list(space.fixed.values()) == ["hparams_search=xgb_optuna", "model.n_estimators=50"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"model.max_depth": "range(3,"}, "hydra.sweeper.params.model.max_depth: malformed sweep expression"),
        ({"a": "interval(1)"}, "hydra.sweeper.params.a: malformed sweep expression"),
        ({"a": "tag(lgo, interval(1, 2))"}, "hydra.sweeper.params.a: unknown tag 'lgo'"),
        ({"a": "tag(log, interval(0, 1))"}, "hydra.sweeper.params.a:"),
        ({"a": "interval(2.0, 1.0)"}, "hydra.sweeper.params.a:"),
        ({"a": "tag(int, interval(1.5, 3))"}, "whole-number bounds"),
        ({"a": "glob(*)"}, "hydra.sweeper.params.a: Glob is not supported"),
        ({"a": 5}, "empty search space"),
        ({}, "empty search space"),
    ],
)
def test_bad_entries_get_one_line(params: dict, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        build_search_space(params, [])
    assert message in str(caught.value)
    assert len(str(caught.value).splitlines()) == 1
