"""The task strategies (tabpipe.tasks) on small real frames: no training, no graphs."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import tabpipe
from tabpipe.config.schema import Task as TaskEnum
from tabpipe.data.sources import bundled_dataset_path
from tabpipe.errors import ConfigError, DataValidationError
from tabpipe.evaluation.metrics import METRICS, compute_metrics
from tabpipe.tasks import TASKS, get_task

ROWS = 300


@pytest.fixture(scope="module")
def churn() -> pd.DataFrame:
    return pd.read_csv(bundled_dataset_path("telco_churn")).head(ROWS)


@pytest.fixture(scope="module")
def weather() -> pd.DataFrame:
    return pd.read_csv(bundled_dataset_path("seattle_weather")).head(ROWS)


def test_get_task_takes_names_enums_and_strategies_and_refuses_others():
    assert sorted(TASKS) == ["binary", "multiclass", "ranking", "regression"]
    for member in TaskEnum:
        assert get_task(member) is get_task(member.value) is get_task(get_task(member.value))
        assert get_task(member).name == member.value
    with pytest.raises(ConfigError, match=r"data.task='survival': not a task; use one of \['binary'"):
        get_task("survival")


def test_binary_target_puts_the_positive_class_last_and_encodes_indices(churn):
    task = get_task("binary")
    assert task.target_problems(churn, "churn", None, "Yes") == []
    target, classes = task.prepare_target(churn["churn"], "Yes")
    assert classes == ["No", "Yes"]
    y = task.encode_target(target, classes)
    assert y.dtype == np.int64 and np.array_equal(y, (churn["churn"] == "Yes").to_numpy())
    _, classes = task.prepare_target(churn["churn"], "No")
    assert classes == ["Yes", "No"]  # P(positive) is column 1, whichever class it is


def test_classification_target_rules_name_the_column(churn, weather):
    assert get_task("binary").target_problems(weather, "weather", None, None) == [
        "column 'weather' (target): task=binary needs exactly 2 classes, found 5"
    ]
    assert get_task("multiclass").target_problems(churn, "churn", None, None) == [
        "column 'churn' (target): task=multiclass needs 3 or more classes, found 2"
    ]
    problems = get_task("binary").target_problems(churn, "churn", None, "Maybe")
    assert problems == ["data.positive_class='Maybe': not a class of column 'churn'; classes: 'No', 'Yes'"]
    with pytest.raises(DataValidationError, match="column 'weather' \\(target\\): class 'sun' is not one"):
        get_task("multiclass").encode_target(weather["weather"], ["drizzle", "fog", "rain", "snow"])


def test_multiclass_and_regression_targets(weather):
    multiclass = get_task("multiclass")
    target, classes = multiclass.prepare_target(weather["weather"], None)
    assert classes == sorted(weather["weather"].unique())
    assert np.array_equal(np.asarray(classes)[multiclass.encode_target(target, classes)], weather["weather"])
    regression = get_task("regression")
    assert regression.target_problems(weather, "temp_max", None, None) == []
    assert regression.target_problems(weather, "weather", None, None) == [
        "column 'weather' (target): non-numeric value 'drizzle'; task=regression needs numbers"
    ]
    target, classes = regression.prepare_target(weather["temp_max"], None)
    assert classes is None and regression.encode_target(target, None).dtype == np.float64


def test_ranking_target_is_relevance_within_queries(churn):
    ranking = get_task("ranking")
    assert ranking.target_problems(churn, "churn", "tenure", "Yes") == []
    assert ranking.target_problems(churn, "churn", None, "Yes") == [
        "data.task=ranking: needs data.group_column, the query id column"
    ]
    target, classes = ranking.prepare_target(churn["churn"], "Yes")
    assert classes is None and set(ranking.encode_target(target, None)) == {0.0, 1.0}


def test_each_task_names_its_metrics_primary_and_headline():
    assert get_task("binary").primary_metric(None) == "auc"
    assert get_task("multiclass").primary_metric(None) == "f1_macro"
    assert get_task("regression").primary_metric(None) == "rmse"
    assert get_task("ranking").primary_metric(None, [3, 7]) == "ndcg@7"
    assert get_task("ranking").metric_names([3, 7]) == ["ndcg@3", "ndcg@7", "map@3", "map@7"]
    assert get_task("regression").headline_metrics("mae") == ["mae", "r2"]
    with pytest.raises(ConfigError, match=r"eval\.primary_metric=.auc.: not a regression metric"):
        get_task("regression").primary_metric("auc")
    for task in TASKS.values():  # every fixed metric a task names is computed by evaluation
        assert set(task.metrics) <= set(METRICS)


def test_metric_choice_follows_the_task_on_real_rows(churn):
    task = get_task("binary")
    y = task.encode_target(*task.prepare_target(churn["churn"], "Yes"))
    p = np.clip(churn["monthly_charges"].to_numpy() / 120.0, 0, 1)
    metrics = compute_metrics("binary", y, np.column_stack([1 - p, p]))
    assert list(metrics) == list(task.metrics) and 0.5 < metrics["auc"] < 1


def test_baselines(weather):
    prior = get_task("multiclass")
    assert prior.baseline == "prior" and "class priors" in prior.baseline_description
    assert prior.baseline_scores([0.2, 0.8], 3).shape == (3, 2)
    mean = get_task("regression")
    assert mean.baseline == "mean" and mean.baseline_scores([4.5], 3).tolist() == [4.5, 4.5, 4.5]
    assert mean.baseline_values(np.full(5, 4.5)) == [4.5]
    ranking = get_task("ranking")
    assert ranking.baseline == "best_feature" and ranking.baseline_values(np.arange(5.0)) is None


def test_graph_outputs_and_prediction_frames(churn, weather):
    ids = churn[["customer_id"]]
    binary = get_task("binary")
    assert binary.output_names() == ["label", "probabilities"]
    p = np.linspace(0, 1, len(churn))
    scores = np.column_stack([1 - p, p])
    labels = (p >= 0.7).astype(np.int64)
    frame = binary.prediction_frame(ids, churn["churn"].to_numpy(), scores, labels, ["No", "Yes"], fold=2)
    assert list(frame.columns) == ["customer_id", "fold", "y_true", "y_pred", "proba_No", "proba_Yes"]
    assert (frame["y_pred"] == np.where(p >= 0.7, "Yes", "No")).all()  # the labels, not the argmax
    batch = binary.output_columns({"probabilities": scores}, ["No", "Yes"])
    assert list(batch) == ["label", "proba_No", "proba_Yes"]
    regression = get_task("regression")
    assert regression.output_specs(None) == [{"name": "prediction", "type": "float32", "shape": ["N"]}]
    frame = regression.prediction_frame(
        weather[["date"]], weather["temp_max"], weather["temp_min"], None, None
    )
    assert list(frame.columns) == ["date", "y_true", "y_pred"]
    assert get_task("ranking").records({"score": np.array([0.5, 1.5])}, None) == [
        {"score": 0.5},
        {"score": 1.5},
    ]
    classes = ["drizzle", "fog", "rain", "snow", "sun"]
    specs = get_task("multiclass").output_specs(classes)
    assert specs[1]["shape"] == ["N", 5] and specs[0]["values"] == classes


def test_plots_and_capabilities():
    assert get_task("binary").plots == ("confusion", "binary_curves")
    assert get_task("regression").plots == ("regression",)
    assert get_task("ranking").plots == ("ranking_at_k", "query_distribution")
    assert [t.name for t in TASKS.values() if t.decision_threshold] == ["binary"]
    assert [t.name for t in TASKS.values() if t.needs_groups] == ["ranking"]
    assert get_task("binary").model_output(np.array([0.25])).tolist() == [[0.75, 0.25]]


def _names_a_task(node: ast.AST) -> bool:
    """``task``, ``self.task_``, ``dataset.task``, ``inputs.task``, ..."""
    name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")
    return name.rstrip("_").endswith("task")


def _task_literals(node: ast.AST) -> bool:
    values = node.elts if isinstance(node, (ast.Tuple, ast.List, ast.Set)) else [node]
    return any(isinstance(v, ast.Constant) and v.value in TASKS for v in values)


def test_no_branch_on_a_task_name_outside_the_task_strategies():
    """Adding a task is adding one class: the pipeline asks the strategy, it never compares
    a task with a task's name (``task == "ranking"``, ``task in ("binary", "multiclass")``)."""
    package = Path(tabpipe.__file__).parent
    found = []
    for path in sorted(package.rglob("*.py")):
        if path.parent.name == "tasks":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Compare):
                sides = [node.left, *node.comparators]
                if any(map(_names_a_task, sides)) and any(map(_task_literals, sides)):
                    found.append(f"{path.relative_to(package)}:{node.lineno}")
    assert found == []
