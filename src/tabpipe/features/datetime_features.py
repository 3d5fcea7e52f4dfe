"""Calendar features from datetime columns: parts, cyclical sin/cos, holiday flags."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

# period of each part, for the cyclical encoding
PERIODS = {"hour": 24, "dayofweek": 7, "day": 31, "month": 12}


class DatetimeFeatures(TransformerMixin, BaseEstimator):
    """Turn ``datetime64`` columns into numbers.

    Per column and part: the raw part, plus ``sin``/``cos`` of ``2*pi*part/period`` when
    ``cyclical``; plus ``is_holiday`` for ``holidays_country`` (from the maintained
    ``holidays`` package). The holiday calendar is fixed at fit time for the train years
    from one year before to ``holiday_horizon_years`` after, so the ONNX graph can carry it
    as a table. NaT gives NaN, imputed after.
    """

    def __init__(
        self,
        parts: Sequence[str] = ("hour", "dayofweek", "day", "month"),
        cyclical: bool = True,
        holidays_country: str | None = "US",
        holiday_horizon_years: int = 10,
    ) -> None:
        self.parts = parts
        self.cyclical = cyclical
        self.holidays_country = holidays_country
        self.holiday_horizon_years = holiday_horizon_years

    def fit(self, X: pd.DataFrame, y: object = None) -> DatetimeFeatures:
        unknown = sorted(set(self.parts) - set(PERIODS))
        if unknown:
            raise ValueError(f"features.datetime_parts: unknown part {unknown[0]!r}; use {sorted(PERIODS)}")
        self.feature_names_in_ = np.asarray(list(X.columns), dtype=object)
        names = []
        for column in X.columns:
            for part in self.parts:
                names.append(f"{column}__{part}")
                if self.cyclical:
                    names += [f"{column}__{part}_sin", f"{column}__{part}_cos"]
            if self.holidays_country:
                names.append(f"{column}__is_holiday")
        self.feature_names_out_ = np.asarray(names, dtype=object)
        self.holiday_days_ = np.empty(0, dtype=np.int64)
        if self.holidays_country:
            import holidays

            years = pd.concat([pd.to_datetime(X[c]).dt.year for c in X.columns]).dropna()
            first = int(years.min()) - 1 if len(years) else 1970
            last = int(years.max()) + self.holiday_horizon_years if len(years) else 1970
            calendar = holidays.country_holidays(self.holidays_country, years=range(first, last + 1))
            stamps = pd.to_datetime(sorted(calendar.keys()))
            self.holiday_days_ = stamps.values.astype("datetime64[D]").astype(np.int64)
        return self

    def _holiday_flags(self, stamps: pd.Series) -> np.ndarray:
        days = stamps.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]").astype(np.int64)
        flags = np.isin(days, self.holiday_days_).astype(np.float64)
        flags[stamps.isna().to_numpy()] = np.nan
        return flags

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        columns = []
        for name in self.feature_names_in_:
            stamps = pd.to_datetime(X[name])
            for part in self.parts:
                values = getattr(stamps.dt, part).to_numpy(dtype=np.float64, na_value=np.nan)
                columns.append(values)
                if self.cyclical:
                    angle = 2 * np.pi * values / PERIODS[part]
                    columns += [np.sin(angle), np.cos(angle)]
            if self.holidays_country:
                columns.append(self._holiday_flags(stamps))
        return np.column_stack(columns) if columns else np.empty((len(X), 0))

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return self.feature_names_out_
