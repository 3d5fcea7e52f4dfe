"""The fitted feature pipeline: train-only fitting, sentinels, calendar features."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers import compose_config
from tabpipe.data.column_schema import ColumnSchema
from tabpipe.features.datetime_features import DatetimeFeatures
from tabpipe.features.preprocessing import TabularPreprocessor

SCHEMA = {
    "amount": ColumnSchema("amount", "numeric"),
    "flag": ColumnSchema("flag", "boolean"),
    "plan": ColumnSchema("plan", "categorical"),
    "when": ColumnSchema("when", "datetime"),
}


def frame(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "amount": rng.normal(100, 10, rows),
            "flag": rng.integers(0, 2, rows).astype(float),
            "plan": rng.choice(["basic", "pro", "team"], rows).astype(object),
            "when": pd.to_datetime("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, rows), "D"),
        }
    )


def preprocessor(recipe: str, task: str = "binary") -> TabularPreprocessor:
    return TabularPreprocessor(compose_config([f"features={recipe}"]).features, SCHEMA, task, 0)


def test_imputation_statistics_come_from_train_only() -> None:
    train, test = frame(200), frame(50, seed=1)
    train.loc[:9, "amount"] = np.nan
    test["amount"] = np.nan  # all missing at apply time
    pre = preprocessor("trees")
    pre.fit_transform(train, np.zeros(200))
    out = pre.transform(test)
    column = pre.feature_names_.index("numeric__amount")
    assert np.allclose(out[:, column], np.nanmedian(train["amount"]).astype(np.float32))
    indicator = pre.feature_names_.index("numeric__missingindicator_amount")
    assert (out[:, indicator] == 1).all()


def test_unseen_and_missing_categories_go_to_the_sentinel() -> None:
    train = frame(200)
    test = frame(3, seed=2).assign(plan=["enterprise", None, "pro"])
    ordinal = preprocessor("trees")
    ordinal.fit_transform(train, np.zeros(200))
    codes = ordinal.transform(test)[:, ordinal.feature_names_.index("categorical_0__plan")]
    assert codes[0] == -1 and codes[1] == -1 and codes[2] >= 0
    onehot = preprocessor("default")
    onehot.fit_transform(train, np.zeros(200))
    plan_columns = [i for i, n in enumerate(onehot.feature_names_) if n.startswith("categorical_0__plan")]
    rows = onehot.transform(test)[:, plan_columns]
    assert rows[0].sum() == 0 and rows[1].sum() == 0 and rows[2].sum() == 1
    assert all(np.isfinite(onehot.transform(test)).ravel())


def test_target_encoding_is_out_of_fold_on_train() -> None:
    """fit_transform cross-fits: a train row is not encoded with its own target."""
    rng = np.random.default_rng(0)
    train = frame(400).assign(plan=[f"id{i}" for i in range(400)])  # unique per row
    y = rng.integers(0, 2, 400)
    pre = preprocessor("target_encoding")
    encoded = pre.fit_transform(train, y)[:, pre.feature_names_.index("categorical_0__plan")]
    # with in-sample encoding each unique id would map to (a shrunk) copy of its own label
    assert abs(np.corrcoef(encoded, y)[0, 1]) < 0.2
    unseen = pre.transform(train.head(5).assign(plan="never-seen"))
    assert np.allclose(
        unseen[:, pre.feature_names_.index("categorical_0__plan")],
        unseen[0, pre.feature_names_.index("categorical_0__plan")],
    )


def test_scaling_is_fitted_on_train() -> None:
    train = frame(300)
    pre = preprocessor("default")
    out = pre.fit_transform(train, np.zeros(300))
    column = pre.feature_names_.index("numeric__amount")
    assert abs(out[:, column].mean()) < 1e-5 and abs(out[:, column].std() - 1) < 1e-3
    robust = preprocessor("robust")
    out = robust.fit_transform(train, np.zeros(300))
    assert abs(np.median(out[:, robust.feature_names_.index("numeric__amount")])) < 1e-5


def test_output_is_float32() -> None:
    pre = preprocessor("default")
    assert pre.fit_transform(frame(50), np.zeros(50)).dtype == np.float32


def test_datetime_parts_cyclical_and_holidays() -> None:
    stamps = pd.DataFrame({"when": pd.to_datetime(["2024-07-04 18:00", "2024-07-05 06:00", None])})
    features = DatetimeFeatures(["hour", "month"], cyclical=True, holidays_country="US").fit(stamps)
    out = pd.DataFrame(features.transform(stamps), columns=features.get_feature_names_out())
    assert out["when__hour"].tolist()[:2] == [18.0, 6.0]
    assert out["when__hour_sin"].iloc[0] == pytest.approx(np.sin(2 * np.pi * 18 / 24))
    assert out["when__month_cos"].iloc[0] == pytest.approx(np.cos(2 * np.pi * 7 / 12))
    assert out["when__is_holiday"].tolist()[:2] == [1.0, 0.0]  # Independence Day
    assert out.iloc[2].isna().all()  # NaT -> NaN, imputed later by the pipeline


def test_holiday_country_is_configurable() -> None:
    stamps = pd.DataFrame({"when": pd.to_datetime(["2024-07-04", "2024-07-14"])})
    france = DatetimeFeatures(["day"], cyclical=False, holidays_country="FR").fit(stamps)
    assert france.transform(stamps)[:, -1].tolist() == [0.0, 1.0]  # Bastille Day


def test_strategy_is_described_for_the_run() -> None:
    pre = preprocessor("target_encoding")
    pre.fit_transform(frame(100), np.zeros(100))
    described = pre.describe()
    assert described["categorical_encoding"] == "target"
    assert described["columns_by_type"]["datetime"] == ["when"]
