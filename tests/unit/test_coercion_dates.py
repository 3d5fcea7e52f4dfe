"""The shared coercion refuses timestamps datetime64[ns] cannot hold and relative dates, with
one line naming the column (training, batch and serving all read dates through it)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tabpipe.data.coercion import coerce_columns, coerce_rows
from tabpipe.errors import DataValidationError

RANGE = "1677-09-22 to 2262-04-10"


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (
            "0001-01-01",
            f"column 'day': value '0001-01-01' is outside the supported timestamp range {RANGE}",
        ),
        (
            "9999-12-31",
            f"column 'day': value '9999-12-31' is outside the supported timestamp range {RANGE}",
        ),
        ("now", "column 'day': value 'now' is a relative date; send an absolute timestamp"),
        (" Today ", "column 'day': value ' Today ' is a relative date; send an absolute timestamp"),
    ],
)
def test_unholdable_and_relative_dates_are_one_line(value: str, problem: str) -> None:
    frame = pd.DataFrame({"day": ["2012-01-01", value, None]})
    with pytest.raises(DataValidationError) as refused:
        coerce_columns(frame, {"day": "datetime"})
    assert refused.value.problems == [problem]


def test_dates_at_the_edges_of_the_range_are_kept() -> None:
    frame = pd.DataFrame(
        {"day": ["1677-09-22", "2262-04-10T23:59:59", "1678-01-01T00:00+14:00", "2012/01/01"]}
    )
    days = coerce_columns(frame, {"day": "datetime"})["day"]
    assert days.dtype == "datetime64[ns]" and days.notna().all()
    assert days[2] == pd.Timestamp("1677-12-31 10:00")  # converted to UTC, still in range


def test_a_microsecond_parquet_column_out_of_range_is_rejected_per_row() -> None:
    stamps = pd.Series(np.array(["0001-01-01", "2012-01-01"], dtype="datetime64[us]"))
    coerced, reasons = coerce_rows(pd.DataFrame({"day": stamps}), {"day": "datetime"})
    assert coerced["day"].isna().tolist() == [True, False]
    assert reasons.tolist()[1] == "" and "outside 1677-09-22 to 2262-04-10" in reasons.tolist()[0]
