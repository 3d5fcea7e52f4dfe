"""`tabpipe predict`: streaming batch scoring, equal to online serving and evaluation."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest

from helpers import QUICK, ROOT, cli_env, compose_config
from serving_helpers import running_server
from tabpipe.errors import DataValidationError

pytestmark = pytest.mark.slow
CHURN = ROOT / "src/tabpipe/datasets/telco_churn.csv"


@pytest.fixture(scope="module")
def trained(binary_bundle):
    """The session's churn model, registered as telco_churn:1."""
    return {"run": binary_bundle.result, "root": binary_bundle.registry}


def predict(trained, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "tabpipe.cli.main",
            "predict",
            "bundle=telco_churn:1",
            f"registry_root={trained['root']}",
            "progress=false",
            *args,
        ],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=600,
    )


def test_batch_equals_evaluation_and_passes_ids_through(trained, tmp_path: Path) -> None:
    expected = pd.read_parquet(trained["run"].output_dir / "predictions" / "test.parquet")
    raw = pd.read_csv(CHURN)
    rows = raw.set_index("customer_id").loc[expected["customer_id"]].reset_index()
    source = tmp_path / "test.parquet"
    rows.to_parquet(source)
    done = predict(trained, f"input={source}", f"output={tmp_path / 'out.parquet'}", "chunk_rows=100")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["rows_scored"] == len(rows) and summary["rows_rejected"] == 0
    scored = pd.read_parquet(tmp_path / "out.parquet")
    assert list(scored.columns) == ["customer_id", "label", "proba_No", "proba_Yes"]
    assert (scored["customer_id"] == expected["customer_id"]).all()
    assert (scored["label"] == expected["y_pred"]).all()
    assert np.array_equal(scored["proba_Yes"].to_numpy(np.float64), expected["proba_Yes"].to_numpy())


def test_batch_equals_online_for_the_same_rows(trained, tmp_path: Path) -> None:
    rows = pd.read_csv(CHURN).drop(columns=["churn"]).sample(300, random_state=0)
    source = tmp_path / "rows.csv"
    rows.to_csv(source, index=False)
    assert predict(trained, f"input={source}", f"output={tmp_path / 'out.csv'}").returncode == 0
    batch = pd.read_csv(tmp_path / "out.csv")
    records = [
        {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
        for r in rows.to_dict(orient="records")
    ]
    with running_server(
        ["bundle=telco_churn:1", f"registry_root={trained['root']}"], tmp_path / "server.log"
    ) as url:
        online = httpx.post(f"{url}/predict", json=records).json()["predictions"]
    assert [p["label"] for p in online] == batch["label"].tolist()
    assert np.array_equal(
        [np.float32(p["probabilities"]["Yes"]) for p in online], batch["proba_Yes"].to_numpy(np.float32)
    )


def test_bad_rows_are_rejected_with_their_row_number(trained, tmp_path: Path) -> None:
    rows = pd.read_csv(CHURN).head(50).astype({"tenure": object, "partner": object})
    rows.loc[7, "tenure"] = "seven"
    rows.loc[20, "partner"] = "perhaps"
    source = tmp_path / "bad.csv"
    rows.to_csv(source, index=False)
    out = tmp_path / "out.parquet"
    done = predict(trained, f"input={source}", f"output={out}", "chunk_rows=16")
    assert done.returncode == 0, done.stderr
    assert len(pd.read_parquet(out)) == 48
    rejects = pd.read_csv(tmp_path / "out.rejects.csv")
    assert rejects["row_number"].tolist() == [7, 20]
    assert rejects["customer_id"].tolist() == [8, 21]
    assert rejects["reason"].tolist() == [
        "column 'tenure': non-numeric value 'seven'",
        "column 'partner': not a boolean 'perhaps'",
    ]
    failing = predict(trained, f"input={source}", f"output={tmp_path / 'fail.parquet'}", "on_bad_row=fail")
    assert failing.returncode == 2
    assert failing.stderr.strip().splitlines() == ["error: row 7: column 'tenure': non-numeric value 'seven'"]
    assert not (tmp_path / "fail.parquet").exists()
    assert not list(tmp_path.glob(".fail.parquet*"))  # no temporary left behind


def test_directory_input_and_bad_inputs(trained, tmp_path: Path) -> None:
    rows = pd.read_csv(CHURN)
    folder = tmp_path / "parts"
    folder.mkdir()
    for i in range(3):
        rows.iloc[i * 100 : (i + 1) * 100].to_parquet(folder / f"part-{i}.parquet")
    done = predict(trained, f"input={folder}", f"output={tmp_path / 'all.parquet'}")
    assert done.returncode == 0 and len(pd.read_parquet(tmp_path / "all.parquet")) == 300
    missing = predict(trained, f"input={tmp_path / 'nope.csv'}", f"output={tmp_path / 'x.parquet'}")
    assert missing.returncode == 2 and "no such file" in missing.stderr
    rows.drop(columns=["tenure"]).head(5).to_csv(tmp_path / "cols.csv", index=False)
    wrong = predict(trained, f"input={tmp_path / 'cols.csv'}", f"output={tmp_path / 'x.parquet'}")
    assert wrong.returncode == 2
    assert wrong.stderr.strip().splitlines() == ["error: column 'tenure': missing from the input"]
    rows.head(0).to_csv(tmp_path / "empty.csv", index=False)
    empty = predict(trained, f"input={tmp_path / 'empty.csv'}", f"output={tmp_path / 'x.parquet'}")
    assert empty.returncode == 2 and "no rows" in empty.stderr


def peak_rss_mb(trained, source: Path, out: Path) -> float:
    code = (
        "import resource, sys; from tabpipe.cli.main import main; main(sys.argv[1:]); "
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"
    )
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            "predict",
            "bundle=telco_churn:1",
            f"registry_root={trained['root']}",
            f"input={source}",
            f"output={out}",
            "chunk_rows=20000",
            "progress=false",
        ],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=900,
    )
    assert done.returncode == 0, done.stderr
    return float(done.stdout.strip().splitlines()[-1])


def test_batch_memory_stays_bounded(trained, tmp_path: Path) -> None:
    rows = pd.read_csv(CHURN)
    small, large = tmp_path / "small.parquet", tmp_path / "large.parquet"
    rows.sample(40_000, replace=True, random_state=0).to_parquet(small, row_group_size=20_000)
    rows.sample(400_000, replace=True, random_state=1).to_parquet(large, row_group_size=20_000)
    small_mb = peak_rss_mb(trained, small, tmp_path / "s.parquet")
    large_mb = peak_rss_mb(trained, large, tmp_path / "l.parquet")
    assert len(pd.read_parquet(tmp_path / "l.parquet", columns=["label"])) == 400_000
    assert large_mb <= 1.2 * small_mb, (small_mb, large_mb)


def test_ray_engine_in_local_mode_equals_the_local_engine(trained, tmp_path: Path) -> None:
    rows = pd.read_csv(CHURN).head(3000).astype({"tenure": str})  # a text column in Parquet
    rows.loc[11, "tenure"] = "eleven"
    source = tmp_path / "rows.parquet"
    rows.to_parquet(source)
    local = predict(trained, f"input={source}", f"output={tmp_path / 'local.parquet'}")
    ray = predict(
        trained, f"input={source}", f"output={tmp_path / 'ray.parquet'}", "engine=ray", "chunk_rows=500"
    )
    assert local.returncode == 0 and ray.returncode == 0, ray.stderr[-2000:]
    expected = pd.read_parquet(tmp_path / "local.parquet")
    got = pd.read_parquet(tmp_path / "ray.parquet").sort_values("customer_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    rejects = pd.read_csv(tmp_path / "ray.rejects.csv")
    assert rejects.to_dict(orient="records") == [
        {"customer_id": 12, "reason": "column 'tenure': non-numeric value 'eleven'"}
    ]
    assert not list(tmp_path.glob(".ray.parquet*"))


def test_out_of_range_and_relative_dates_go_to_the_rejects(multiclass_bundle, tmp_path: Path) -> None:
    """Dates pandas cannot hold in nanoseconds (and "now"/"today") are bad rows like any other:
    rejected with their reason, never a traceback; ``on_bad_row=fail`` stops with one line."""
    from tabpipe.serving.batch import score_files
    from tabpipe.serving.loaded_model import load_model

    rows = pd.read_csv(ROOT / "src/tabpipe/datasets/seattle_weather.csv").head(40).drop(columns=["weather"])
    bad = {3: "0001-01-01", 9: "9999-12-31", 12: "1677-09-21", 20: "2262-04-12", 25: "now", 31: "Today"}
    for row, value in bad.items():
        rows.loc[row, "date"] = value
    source = tmp_path / "days.csv"
    rows.to_csv(source, index=False)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tabpipe.cli.main",
            "predict",
            "bundle=seattle_weather:1",
            f"registry_root={multiclass_bundle.registry}",
            f"input={source}",
            f"output={tmp_path / 'out.parquet'}",
            "progress=false",
        ],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=600,
    )
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert len(pd.read_parquet(tmp_path / "out.parquet")) == 40 - len(bad)
    rejects = pd.read_csv(tmp_path / "out.rejects.csv")
    assert rejects["row_number"].tolist() == list(bad)
    assert rejects["reason"].tolist() == [
        "column 'date': timestamp '0001-01-01' outside 1677-09-22 to 2262-04-10",
        "column 'date': timestamp '9999-12-31' outside 1677-09-22 to 2262-04-10",
        "column 'date': timestamp '1677-09-21' outside 1677-09-22 to 2262-04-10",
        "column 'date': timestamp '2262-04-12' outside 1677-09-22 to 2262-04-10",
        "column 'date': relative date 'now' (send an absolute timestamp)",
        "column 'date': relative date 'Today' (send an absolute timestamp)",
    ]
    model = load_model("seattle_weather:1", multiclass_bundle.registry, ["CPUExecutionProvider"])
    with pytest.raises(DataValidationError) as failed:
        score_files(model, [source], tmp_path / "fail.parquet", 16, "fail", None, progress=False)
    assert failed.value.problems == [
        "row 3: column 'date': timestamp '0001-01-01' outside 1677-09-22 to 2262-04-10"
    ]
    assert not (tmp_path / "fail.parquet").exists()


def test_files_arrow_cannot_read_are_one_line(trained, tmp_path: Path) -> None:
    """Not UTF-8, ragged rows, random bytes (named .parquet or .csv): one printable ASCII line
    naming the file, no raw bytes, no output."""
    from tabpipe.serving.batch import score_files
    from tabpipe.serving.loaded_model import load_model

    header = ",".join(pd.read_csv(CHURN, nrows=1).drop(columns=["churn"]).columns)
    row = "1,1,0,1,0,1,0,No,DSL,No,Yes,No,No,No,No,Month\xff,1,Electronic check,29.85,29.85"
    files = {
        "latin1.csv": f"{header}\n{row}\n".encode("latin-1"),
        "ragged.csv": b"customer_id,tenure\n1,2,3\n",
        "noise.parquet": bytes(range(256)) * 4,
        "random.csv": np.random.default_rng(0).bytes(3000),  # Arrow quotes the raw bytes
    }
    model = load_model("telco_churn:1", trained["root"], ["CPUExecutionProvider"])
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(DataValidationError) as refused:
            score_files(
                model, [tmp_path / name], tmp_path / "out.parquet", 100, "reject", None, progress=False
            )
        [line] = refused.value.problems
        assert line.startswith(f"input {str(tmp_path / name)!r}: unreadable {name.split('.')[1]} file: ")
        assert line.isascii() and line.isprintable() and len(line) < 400, line  # one printable line
    assert not list(tmp_path.glob("*out*"))


def test_ray_engine_coerces_dates_like_the_local_engine(tmp_path: Path) -> None:
    """A datetime feature read by Ray (CSV inferred as date32, blank dates) is coerced by the
    same function on the same dtypes as the local engine: equal outputs and rejects."""
    from tabpipe.training.train import run_training

    rows = pd.read_csv(CHURN).head(1500)
    rows["signup"] = pd.date_range("2020-01-01", periods=len(rows), freq="D").strftime("%Y-%m-%d")
    rows.to_csv(tmp_path / "dates.csv", index=False)
    data = [f"data.path={tmp_path / 'dates.csv'}", "data.target=churn", "data.task=binary"]
    overrides = ["data=csv", *data, "data.id_columns=[customer_id]", "registry.name=dates"]
    run_training(compose_config([*QUICK, *overrides, "model=xgb", "model.n_estimators=20"], tmp_path / "run"))
    batch = rows.head(60).drop(columns=["churn"])
    batch.loc[4, "signup"] = None  # blank: missing, as locally
    batch.loc[7, "signup"] = "not a date"
    batch.to_csv(tmp_path / "in.csv", index=False)
    results = {}
    for engine in ("local", "ray"):
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "tabpipe.cli.main",
                "predict",
                "bundle=dates:1",
                f"registry_root={tmp_path / 'registry'}",
                f"input={tmp_path / 'in.csv'}",
                f"output={tmp_path / engine}.parquet",
                f"engine={engine}",
                "progress=false",
            ],
            capture_output=True,
            text=True,
            env=cli_env(),
            timeout=600,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        scored = pd.read_parquet(tmp_path / f"{engine}.parquet")
        results[engine] = scored.sort_values("customer_id").reset_index(drop=True)
        rejects = pd.read_csv(tmp_path / f"{engine}.rejects.csv")
        assert rejects[["customer_id", "reason"]].to_dict(orient="records") == [
            {"customer_id": 8, "reason": "column 'signup': not a parseable timestamp 'not a date'"}
        ]
    assert len(results["local"]) == 59
    pd.testing.assert_frame_equal(results["ray"], results["local"], check_dtype=False)


def predict_in_process(capsys, trained, *args: str) -> tuple[int, str]:
    """``tabpipe predict`` in-process: (exit code, stderr)."""
    from tabpipe.cli.main import main

    argv = ["predict", "bundle=telco_churn:1", f"registry_root={trained['root']}", "progress=false"]
    try:
        main([*argv, *args])
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    return code, capsys.readouterr().err


def test_outputs_that_would_clobber_inputs_or_cannot_be_created_are_one_line(
    trained, tmp_path: Path, capsys
) -> None:
    """An output (or reject file) that is an input, lies in the input directory, holds an input
    (Ray replaces its output directory), sits under a regular file, or is a directory: one
    line naming the key, exit 2, and every input left as it was."""
    rows = pd.read_csv(CHURN).head(20).drop(columns=["churn"])
    folder, blocker = tmp_path / "inputs", tmp_path / "plain_file"
    folder.mkdir()
    source = folder / "in.csv"
    rows.to_csv(source, index=False)
    blocker.write_text("not a directory")
    (tmp_path / "taken.csv").mkdir()
    content = source.read_bytes()
    cases = {
        (f"input={source}", f"output={source}"): f"output={str(source)!r}: is an input file",
        (f"input={folder}", f"output={folder / 'scored.csv'}"): "lies inside the input directory",
        (f"input={source}", f"output={tmp_path}/x.csv", f"reject_path={source}"): (
            f"reject_path={str(source)!r}: is an input file"
        ),
        (f"input={source}", f"output={blocker / 'x.csv'}"): f"{str(blocker)!r} is a file, not a directory",
        (f"input={source}", f"output={tmp_path / 'o.csv'}", f"reject_path={blocker / 'r.csv'}"): (
            f"reject_path={str(blocker / 'r.csv')!r}: {str(blocker)!r} is a file"
        ),
        (f"input={source}", f"output={tmp_path / 'taken.csv'}"): "is a directory; expected a file path",
        (f"input={source}", f"output={folder}", "engine=ray"): f"output={str(folder)!r}: holds an input file",
    }
    for args, fragment in cases.items():
        code, err = predict_in_process(capsys, trained, *args)
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1 and fragment in lines[0], (args, err)
        assert source.read_bytes() == content and sorted(p.name for p in folder.iterdir()) == ["in.csv"]
    assert not (tmp_path / "o.csv").exists() and not (tmp_path / "x.csv").exists()
