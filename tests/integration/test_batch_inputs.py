"""Batch scoring (``score_files``, in process, real bundle and ONNX Runtime) refuses numbers
the graph's float32 inputs cannot hold: such a row goes to the rejects with its reason, it is
never scored as inf."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import ROOT
from tabpipe.errors import DataValidationError

pytestmark = pytest.mark.slow
# row -> (column, value written to the file, the reason's rule)
OUT_OF_FLOAT32 = {
    2: ("monthly_charges", "1e39", "value '1e39' outside float32's range"),
    5: ("tenure", "-1e300", "value '-1e300' outside float32's range"),
    9: ("total_charges", "3.5e38", "value '3.5e38' outside float32's range"),
    11: ("monthly_charges", "inf", "non-finite value 'inf'"),
    14: ("tenure", "-Infinity", "non-finite value '-Infinity'"),
}


@pytest.fixture(scope="module")
def model(binary_bundle):
    from tabpipe.serving.loaded_model import load_model

    return load_model("telco_churn:1", binary_bundle.registry, ["CPUExecutionProvider"])


def _rows() -> pd.DataFrame:
    return pd.read_csv(ROOT / "src/tabpipe/datasets/telco_churn.csv").drop(columns=["churn"]).head(20)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_numbers_beyond_float32_are_rejected_not_scored_as_inf(model, tmp_path: Path, suffix: str) -> None:
    from tabpipe.serving.batch import score_files

    rows = _rows().astype({"tenure": object, "monthly_charges": object, "total_charges": object})
    for row, (column, value, _) in OUT_OF_FLOAT32.items():
        rows.loc[row, column] = value
    rows.loc[17, "tenure"] = "NaN"  # a NaN literal is a missing value, imputed like a blank
    source = tmp_path / f"rows{suffix}"
    if suffix == ".csv":
        rows.to_csv(source, index=False)
    else:  # numbers as numbers: the float64 values themselves
        numeric = ["tenure", "monthly_charges", "total_charges"]
        rows[numeric] = rows[numeric].apply(pd.to_numeric, errors="coerce")
        rows.to_parquet(source)
    summary = score_files(model, [source], tmp_path / "out.parquet", 8, "reject", None, progress=False)
    assert (summary.rows_scored, summary.rows_rejected) == (20 - len(OUT_OF_FLOAT32), len(OUT_OF_FLOAT32))
    scored = pd.read_parquet(tmp_path / "out.parquet")
    assert 18 in scored["customer_id"].tolist()  # row 17 (customer 18) has its NaN tenure imputed
    assert np.isfinite(scored["proba_Yes"].to_numpy()).all()
    rejects = pd.read_csv(tmp_path / "out.rejects.csv")
    assert rejects["row_number"].tolist() == list(OUT_OF_FLOAT32)
    for reason, (column, _, rule) in zip(rejects["reason"], OUT_OF_FLOAT32.values(), strict=True):
        assert reason.startswith(f"column {column!r}: "), reason
        assert "float32's range" in reason
        if suffix == ".csv":
            assert rule in reason, reason
    with pytest.raises(DataValidationError) as failed:
        score_files(model, [source], tmp_path / "fail.parquet", 8, "fail", None, progress=False)
    assert failed.value.problems[0].startswith("row 2: column 'monthly_charges': value ")
    assert not (tmp_path / "fail.parquet").exists()


def test_a_frame_evaluated_through_the_graph_refuses_numbers_beyond_float32(binary_bundle) -> None:
    """``tabpipe eval``/``compare`` on a file and the parity check score through
    ``graph_inputs``: one line per column, never a row scored as inf."""
    from tabpipe.export.inputs import graph_inputs

    schema = tabpipe_schema(binary_bundle)
    rows = _rows()[list(schema)]
    assert set(graph_inputs(rows, schema)) == set(schema)  # the clean rows build their feeds
    rows["monthly_charges"] = rows["monthly_charges"].astype(object)
    rows.loc[[2, 7], "monthly_charges"] = ["1e39", "-inf"]
    with pytest.raises(DataValidationError) as refused:
        graph_inputs(rows, schema)
    assert refused.value.problems == [
        "column 'monthly_charges': 2 value(s) beyond float32, the first: "
        "value '1e39' outside float32's range (+-3.4e38), the graph's input type"
    ]


def tabpipe_schema(trained) -> dict:
    from tabpipe.export.bundle import load_bundle

    return {name: {"type": kind} for name, kind in load_bundle(trained.bundle).schema.input_types.items()}
