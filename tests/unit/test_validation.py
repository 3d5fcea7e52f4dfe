"""Every validation rule: one line naming the column and the rule, before any fitting."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import compose_config
from tabpipe.data.ingestion import ingest
from tabpipe.data.sources import bundled_dataset_path
from tabpipe.errors import DataValidationError


@pytest.fixture(scope="module")
def churn() -> pd.DataFrame:
    return pd.read_csv(bundled_dataset_path("telco_churn")).head(400)


def data_cfg(path: Path, *extra: str, task: str = "binary", target: str = "churn"):
    overrides = [
        "data=csv",
        f"data.path={path}",
        f"data.target={target}",
        f"data.task={task}",
        "data.id_columns=[customer_id]",
        *extra,
    ]
    return compose_config(overrides).data


def problems_for(frame: pd.DataFrame, tmp_path: Path, *extra: str, **kwargs) -> list[str]:
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(DataValidationError) as info:
        ingest(data_cfg(path, *extra, **kwargs))
    return info.value.problems


def test_valid_data_passes_and_types_are_inferred(churn: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "ok.csv"
    churn.to_csv(path, index=False)
    dataset = ingest(data_cfg(path))
    types = {name: spec.type for name, spec in dataset.schema.items()}
    assert types["tenure"] == "numeric"
    assert types["partner"] == "boolean"
    assert types["contract"] == "categorical"
    assert "customer_id" not in types and "churn" not in types
    assert dataset.classes == ["No", "Yes"]


def test_datetime_columns_are_inferred(tmp_path: Path) -> None:
    dataset = ingest(compose_config(["data=seattle_weather"]).data)
    assert dataset.schema["date"].type == "datetime"
    assert dataset.time is not None and dataset.time.is_monotonic_increasing


def test_missing_column(churn: pd.DataFrame, tmp_path: Path) -> None:
    problems = problems_for(churn.drop(columns=["tenure"]), tmp_path, "data.drop_columns=[tenure]")
    assert problems == ["column 'tenure' (from data.drop_columns): missing from the dataset"]


def test_missing_target_column(churn: pd.DataFrame, tmp_path: Path) -> None:
    problems = problems_for(churn, tmp_path, target="label")
    assert problems == ["column 'label' (from data.target): missing from the dataset"]


def test_target_with_missing_values(churn: pd.DataFrame, tmp_path: Path) -> None:
    frame = churn.copy()
    frame.loc[[3, 7], "churn"] = np.nan
    assert problems_for(frame, tmp_path) == [
        "column 'churn' (target): 2 missing values; the target must be complete"
    ]


def test_single_class_target(churn: pd.DataFrame, tmp_path: Path) -> None:
    frame = churn.assign(churn="No")
    assert problems_for(frame, tmp_path) == [
        "column 'churn' (target): task=binary needs exactly 2 classes, found 1"
    ]


def test_non_numeric_regression_target(churn: pd.DataFrame, tmp_path: Path) -> None:
    problems = problems_for(churn, tmp_path, task="regression")
    assert problems == ["column 'churn' (target): non-numeric value 'No'; task=regression needs numbers"]


def test_empty_dataset(churn: pd.DataFrame, tmp_path: Path) -> None:
    problems = problems_for(churn.head(0), tmp_path)
    assert len(problems) == 1 and "empty (0 rows)" in problems[0]


def test_duplicate_id(churn: pd.DataFrame, tmp_path: Path) -> None:
    frame = churn.copy()
    frame.loc[5, "customer_id"] = frame.loc[4, "customer_id"]
    assert problems_for(frame, tmp_path) == [
        "column(s) 'customer_id': 1 duplicate ids (first: 5); ids must be unique"
    ]


def test_pinned_range_and_category_set(churn: pd.DataFrame, tmp_path: Path) -> None:
    problems = problems_for(
        churn,
        tmp_path,
        "+data.schema.tenure={type: numeric, min: 0, max: 24}",
        "+data.schema.contract={type: categorical, categories: [Month-to-month, One year]}",
    )
    assert problems == [
        "column 'tenure': value 72.0 above the pinned max 24.0",
        "column 'contract': value 'Two year' not in the pinned category set",
    ]


def test_all_null_feature(churn: pd.DataFrame, tmp_path: Path) -> None:
    assert problems_for(churn.assign(empty=np.nan), tmp_path) == [
        "column 'empty': all values are missing; drop it (data.drop_columns) or fix the source"
    ]


def test_non_numeric_value_in_pinned_numeric_column(churn: pd.DataFrame, tmp_path: Path) -> None:
    frame = churn.astype({"tenure": object})
    frame.loc[2, "tenure"] = "twelve"
    problems = problems_for(frame, tmp_path, "+data.schema.tenure={type: numeric}")
    assert problems == ["column 'tenure': non-numeric value 'twelve' in a numeric column"]


def test_warnings_constant_leaky_high_cardinality(churn: pd.DataFrame, tmp_path: Path) -> None:
    frame = churn.assign(
        constant=1.5,
        leak=churn["churn"],
        leak_numeric=(churn["churn"] == "Yes").astype(float) * 10 + 1,
        code=[f"c{i}" for i in range(len(churn))],
    )
    path = tmp_path / "warn.csv"
    frame.to_csv(path, index=False)
    warnings = ingest(data_cfg(path, "data.high_cardinality=50")).report.warnings
    assert "column 'constant': constant; it carries no information" in warnings
    assert "column 'leak': identical to the target; likely leakage" in warnings
    assert any(w.startswith("column 'leak_numeric': correlation +1.000") for w in warnings)
    assert any(w.startswith("column 'code': high-cardinality categorical (400") for w in warnings)


def test_pinned_schema_from_an_earlier_run(churn: pd.DataFrame, tmp_path: Path) -> None:
    """The schema.json a run saves can be pinned with data.schema_path."""
    from tabpipe.data.column_schema import save_schema

    path = tmp_path / "ok.csv"
    churn.to_csv(path, index=False)
    schema_path = tmp_path / "schema.json"
    save_schema(ingest(data_cfg(path)).schema, schema_path)
    drifted = churn.copy()
    drifted.loc[0, "payment_method"] = "Crypto"
    problems = problems_for(drifted, tmp_path, f"data.schema_path={schema_path}")
    assert problems == ["column 'payment_method': value 'Crypto' not in the pinned category set"]


def test_text_in_a_numeric_column_is_a_warning_naming_a_sample(churn: pd.DataFrame, tmp_path: Path) -> None:
    """Two text values used to turn `tenure` into a categorical without a word."""
    frame = churn.astype({"tenure": object})
    frame.loc[[2, 9], "tenure"] = "unknown"
    frame.loc[4, "tenure"] = "?"
    path = tmp_path / "drift.csv"
    frame.to_csv(path, index=False)
    dataset = ingest(data_cfg(path))
    assert dataset.schema["tenure"].type == "categorical"
    assert dataset.report.warnings[0] == (
        "column 'tenure': 3 of 400 values are not numbers in a mostly numeric column "
        "(sample: 'unknown', '?'); read as categorical (data.strict_types=true makes this an error)"
    )
    # a column forced categorical is what the user asked for: no warning
    forced = ingest(data_cfg(path, "data.categorical_columns=[tenure]"))
    assert not any("tenure" in w for w in forced.report.warnings)


def test_infinite_values_are_missing_under_the_missing_policy(churn: pd.DataFrame, tmp_path: Path) -> None:
    frame = churn.copy()
    frame.loc[[1, 2], "monthly_charges"] = [np.inf, -np.inf]
    path = tmp_path / "inf.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(DataValidationError) as info:
        ingest(data_cfg(path))  # the default policy: error
    assert info.value.problems == [
        "column 'monthly_charges': 2 infinite values (inf/-inf); fix the source, or set "
        "data.on_infinite=missing to impute them like blanks"
    ]
    dataset = ingest(data_cfg(path, "data.on_infinite=missing"))
    assert dataset.features["monthly_charges"].isna().sum() == 2
    assert np.isfinite(dataset.features["monthly_charges"].dropna()).all()
    assert dataset.schema["monthly_charges"].max < np.inf
    assert "column 'monthly_charges': 2 infinite values treated as missing (data.on_infinite=missing)" in (
        dataset.report.warnings
    )


def test_infinite_regression_target(churn: pd.DataFrame, tmp_path: Path) -> None:
    frame = churn.assign(total_charges=churn["monthly_charges"])
    frame.loc[0, "monthly_charges"] = np.inf
    problems = problems_for(frame, tmp_path, task="regression", target="monthly_charges")
    assert problems == ["column 'monthly_charges' (target): 1 infinite values; the target must be finite"]
