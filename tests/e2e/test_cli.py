"""The entry points as a user runs them: subprocesses of `python train.py` and `tabpipe`."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from helpers import ML_LIBRARIES, ROOT, cli_env, imported_modules, run_cli


def test_help_lists_groups_and_imports_no_ml_library() -> None:
    done = run_cli(["--help"], python_flags=["-X", "importtime"])
    assert done.returncode == 0
    for group, option in [
        ("model", "xgb"),
        ("model", "mlp"),
        ("data", "telco_churn"),
        ("split", "kfold"),
        ("trainer", "gpu"),
        ("debug", "fdr"),
        ("experiment", "churn_xgb"),
    ]:
        assert re.search(rf"^\s+{group}\s+.*\b{option}\b", done.stdout, re.M), (group, option)
    assert not imported_modules(done.stderr) & set(ML_LIBRARIES)


@pytest.mark.slow
def test_default_style_run_with_overrides_writes_run_outputs(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    done = run_cli(
        ["model=xgb", "model.n_estimators=60", "seed=0", f"hydra.run.dir={run_dir}"],
        python_flags=["-X", "importtime"],
    )
    assert done.returncode == 0, done.stderr[-2000:]
    # model=xgb never pays for torch or Lightning
    assert not imported_modules(done.stderr) & {"torch", "lightning", "pytorch_lightning"}
    metrics = json.loads((run_dir / "metrics.json").read_text())
    for key in (
        "test/auc",
        "val/auc",
        "baseline/test/auc",
        "test/f1_macro",
        "test/accuracy",
        "test/log_loss",
    ):
        assert key in metrics
    assert metrics["test/auc"] > 0.8 > metrics["baseline/test/auc"]
    predictions = pd.read_parquet(run_dir / "predictions" / "test.parquet")
    assert {"customer_id", "y_true", "y_pred", "proba_No", "proba_Yes"} <= set(predictions.columns)
    assert len(predictions) == json.loads((run_dir / "metadata.json").read_text())["splits"][0]["test"]
    for name in (
        "config_resolved.yaml",
        "schema.json",
        "validation_report.json",
        "features.json",
        "train.log",
        "model/model.xgb.json",
        "model/preprocessor.joblib",
        ".hydra/config.yaml",
    ):
        assert (run_dir / name).is_file(), name
    assert "seed: 0" in (run_dir / "config_resolved.yaml").read_text()
    assert "test/auc" in (run_dir / "train.log").read_text()


def test_unknown_model_is_one_line_listing_the_models() -> None:
    done = run_cli(["model=nope"])
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: model=nope: unknown option; available models: baseline, lgbm, lightning, linear, mlp, xgb"
    ]


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ("model.max_dept=3", "max_dept"),
        ("trainer.max_epochs=many", "max_epochs"),
        # Hydra itself printed a multi-line message (exit 1) or a traceback for these
        ("model.max_depth", "model.max_depth"),
        ("=3", "=3"),
    ],
)
def test_bad_key_or_value_is_one_line(override: str, named: str) -> None:
    done = run_cli([override])
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and named in lines[0] and "Traceback" not in done.stderr


def test_gpu_without_cuda_fails_with_one_line(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    done = run_cli(["trainer=gpu", "model=xgb", f"hydra.run.dir={run_dir}"])
    assert done.returncode == 4
    assert done.stderr.strip().splitlines() == [
        "error: trainer.accelerator=gpu: no CUDA device on this machine; use trainer=cpu"
    ]
    assert "no CUDA device" not in done.stdout  # printed once, as the error line
    assert "no CUDA device on this machine" in (run_dir / "train.log").read_text()
    assert not (run_dir / "metrics.json").exists()


def test_cfg_job_prints_the_composed_config() -> None:
    done = run_cli(["--cfg", "job", "model=lgbm", "seed=7"])
    assert done.returncode == 0
    assert "_target_: tabpipe.models.lgbm.LightGBMModel" in done.stdout
    assert "seed: 7" in done.stdout


def test_console_script_is_the_same_app() -> None:
    tabpipe = shutil.which("tabpipe", path=str(Path(sys.executable).parent))
    assert tabpipe, "the tabpipe console script is installed with the package"
    via_script = subprocess.run(
        [tabpipe, "train", "--cfg", "job", "model=linear"],
        capture_output=True,
        text=True,
        env=cli_env(),
        cwd=ROOT,
    )
    via_file = run_cli(["--cfg", "job", "model=linear"])
    assert via_script.returncode == via_file.returncode == 0
    assert via_script.stdout == via_file.stdout
    unknown = subprocess.run([tabpipe, "nope"], capture_output=True, text=True, env=cli_env())
    assert unknown.returncode == 2 and "unknown command" in unknown.stderr


@pytest.mark.slow
def test_baseline_gate_exit_code(tmp_path: Path, train) -> None:
    run_dir = tmp_path / "run"
    unreachable = ["model=linear", "eval.min_improvement=0.9", "eval.plots=false"]  # AUC > 1.4 needed
    done = run_cli([*unreachable, f"hydra.run.dir={run_dir}"])
    assert done.returncode == 3
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: baseline gate: test/auc=0.8")
    # the switch that turns the gate off, in-process (the exit code is the subprocess's above)
    off = train([*unreachable, "eval.require_beat_baseline=false"])  # raised the gate's error before
    assert off.metrics["test/auc"] < 1.4 and off.registered["version"] == 1


# ---- the bad-input matrix (issue 15): one line naming the file/column/key and the rule, exit 2 ----


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Broken copies of 300 rows of the bundled churn data."""
    import gzip

    import numpy as np

    from tabpipe.data.sources import bundled_dataset_path

    root = tmp_path_factory.mktemp("bad")
    churn = pd.read_csv(bundled_dataset_path("telco_churn")).head(300)
    text = churn.to_csv(index=False)
    (root / "empty.csv").write_text("")
    (root / "latin1.csv").write_bytes(text.replace("Month-to-month", "Mönth-to-mönth").encode("latin-1"))
    lines = text.splitlines()
    lines[5] += ",1,2,3"
    (root / "ragged.csv").write_text("\n".join(lines) + "\n")
    (root / "random.csv").write_bytes(
        np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8).tobytes()
    )
    (root / "gzip.csv").write_bytes(gzip.compress(text.encode()))
    churn.assign(monthly_charges=churn["monthly_charges"].where(churn.index != 3, np.inf)).to_csv(
        root / "inf.csv", index=False
    )
    drift = churn.astype({"tenure": object})
    drift.loc[[2, 9], "tenure"] = "unknown"
    drift.to_csv(root / "drift.csv", index=False)
    churn.assign(tags=[[1, 2]] * len(churn)).to_parquet(root / "list.parquet")
    churn.assign(address=[{"zip": 1}] * len(churn)).to_parquet(root / "struct.parquet")
    lines = text.splitlines()
    lines[0] = lines[0].replace("senior_citizen", "tenure")
    (root / "duplicate_header.csv").write_text("\n".join(lines) + "\n")
    churn.to_csv(root / "ok.csv", index=False)
    return root


def _data(path: str, *extra: str) -> list[str]:
    kind = "parquet" if path.endswith(".parquet") else "csv"
    return [f"data={kind}", f"data.path={{root}}/{path}", "data.target=churn", "data.task=binary", *extra]


BAD_INPUTS = {
    # data that will not parse
    "empty file": (_data("empty.csv"), ["empty.csv", "empty file"]),
    "not UTF-8": (_data("latin1.csv"), ["latin1.csv", "not UTF-8"]),
    "ragged rows": (_data("ragged.csv"), ["ragged.csv", "Expected 21 fields in line 6, saw 24"]),
    "random bytes": (_data("random.csv"), ["random.csv", "not UTF-8"]),
    "gzip named .csv": (_data("gzip.csv"), ["gzip.csv", "gzip-compressed"]),
    "inf in a feature": (_data("inf.csv"), ["'monthly_charges'", "infinite", "data.on_infinite=missing"]),
    # silent type drift
    "text in a numeric column, strict": (
        _data("drift.csv", "data.strict_types=true"),
        ["'tenure'", "2 of 300 values are not numbers", "'unknown'"],
    ),
    "parquet list column": (_data("list.parquet"), ["'tags'", "nested values (list)"]),
    "parquet struct column": (_data("struct.parquet"), ["'address'", "nested values (dict)"]),
    "duplicate header": (_data("duplicate_header.csv"), ["'tenure'", "appears twice in the header"]),
    "positive class not a class": (
        _data("ok.csv", "data.positive_class=maybe"),
        ["data.positive_class='maybe'", "classes: 'No', 'Yes'"],
    ),
    # config errors
    "data=csv without data.target": (
        ["data=csv", "data.path={root}/ok.csv", "data.task=binary"],
        ["data.target: required"],
    ),
    "override without a key": (["=3"], ["=3: an override needs a key"]),
    "unresolvable interpolation": (["seed=${nope}"], ["seed:", "'nope' not found"]),
    "override without =": (["model.max_depth"], ["model.max_depth: not a key=value override"]),
    "unknown key suggests the closest": (
        ["model.max_dept=3"],
        ["model.max_dept", "did you mean model.max_depth?"],
    ),
    "appended unknown key": (["+model.max_dept=3"], ["model.max_dept", "did you mean model.max_depth?"]),
    # values outside their schema's range
    "learning_rate <= 0": (["model.learning_rate=-1"], ["model.learning_rate=-1.0", "must be > 0"]),
    "n_estimators < 1": (["model.n_estimators=0"], ["model.n_estimators=0", "must be >= 1"]),
    "fraction outside (0, 1)": (
        ["split.val_fraction=1.5"],
        ["split.val_fraction=1.5", "must be > 0 and < 1"],
    ),
    "lgbm num_leaves < 2": (["model=lgbm", "model.num_leaves=1"], ["model.num_leaves=1", ">= 2"]),
    "sweeper n_trials < 1": (
        ["-m", "hparams_search=xgb_optuna", "hydra.sweeper.n_trials=-5"],
        ["hydra.sweeper.n_trials=-5", "must be >= 1"],
    ),
    "sweeper n_trials < 1, command-line sweep": (
        ["-m", "hparams_search=xgb_optuna", "hydra.sweeper.n_trials=0", "model.max_depth=range(3,5)"],
        ["hydra.sweeper.n_trials=0", "must be >= 1"],
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_one_line_exit_2_and_writes_nothing(
    case: str, bad_files: Path, tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In-process ``tabpipe train`` (the same main() as the console script) on each bad input."""
    from tabpipe.cli.main import main

    args, fragments = BAD_INPUTS[case]
    registry = tmp_path / "registry"
    monkeypatch.setenv("TABPIPE_REGISTRY", str(registry))
    run_dir, sweep_dir = tmp_path / "run", tmp_path / "sweep"
    argv = [a.replace("{root}", str(bad_files)) for a in args]
    argv += [f"hydra.run.dir={run_dir}", f"hydra.sweep.dir={sweep_dir}"]
    if not any(a.startswith("model.n_estimators") for a in argv):
        argv.append("model.n_estimators=20")  # should a case get as far as fitting, it is short
    with pytest.raises(SystemExit) as exited:
        main(["train", *argv])
    out, err = capsys.readouterr()
    assert exited.value.code == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert "Traceback" not in out + err
    assert lines[0].removeprefix("error: ") not in out  # printed once: no [ERROR] log line as well
    assert not registry.exists()
    assert not sweep_dir.exists()
    leftovers = {p.name for p in run_dir.iterdir()} - {".hydra", "train.log"} if run_dir.exists() else set()
    assert leftovers == set()


def test_serve_misspelled_key_suggests_the_closest(capsys: pytest.CaptureFixture) -> None:
    from tabpipe.cli.main import main

    with pytest.raises(SystemExit) as exited:
        main(["serve", "bundle=telco_churn@production", "prot=9000"])
    assert exited.value.code == 2
    assert capsys.readouterr().err.splitlines() == [
        "error: prot: unknown key of ServeConfig; did you mean port?"
    ]


def test_serve_cfg_job_prints_the_config_with_secrets_redacted(
    capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tabpipe.cli.main import main

    monkeypatch.setenv("TABPIPE_ADMIN_TOKEN", "s3cret-token")
    monkeypatch.setenv("TABPIPE_PREDICTION_LOG_KEY", "s3cret-log-key")
    main(["serve", "bundle=telco_churn@production", "port=9001", "--cfg", "job"])
    out = capsys.readouterr().out
    assert "bundle: telco_churn@production" in out and "port: 9001" in out
    assert "admin_token: <redacted>" in out and "key: <redacted>" in out and "s3cret" not in out
    with pytest.raises(SystemExit) as exited:
        main(["serve", "bundle=x", "--cfg", "hydra"])
    assert exited.value.code == 2
    assert capsys.readouterr().err.splitlines() == [
        "error: --cfg hydra: only `--cfg job` is supported (it prints the composed config)"
    ]


def test_logger_that_cannot_be_built_names_the_cause() -> None:
    """`Error in call to target` alone hid the reason."""
    from tabpipe.errors import ConfigError
    from tabpipe.training.train import build_loggers

    with pytest.raises(ConfigError) as info:
        build_loggers({"broken": {"_target_": "faulty_components.RaisingLogger", "colour": "red"}})
    line = str(info.value)
    assert line.startswith("logger.broken: Error in call to target 'faulty_components.RaisingLogger'")
    assert "TypeError" in line and "'colour'" in line and "\n" not in line


@pytest.mark.slow
@pytest.mark.skipif(
    any(importlib.util.find_spec(name) for name in ("tensorboard", "tensorboardX")),
    reason="tensorboard is installed",
)
def test_tensorboard_logger_without_tensorboard_says_so(tmp_path: Path) -> None:
    from tabpipe.errors import ConfigError
    from tabpipe.training.train import build_loggers

    spec = {"_target_": "lightning.pytorch.loggers.TensorBoardLogger", "save_dir": str(tmp_path)}
    with pytest.raises(ConfigError) as info:
        build_loggers({"tb": spec})
    assert "TensorBoardLogger': ModuleNotFoundError: " in str(info.value)  # the cause, on the same line


@pytest.mark.parametrize(
    ("app", "override", "line"),
    [
        (
            "train",
            "split.kind=bogus",
            "split.kind=bogus: not a valid choice; choose one of: stratified, kfold, temporal",
        ),
        ("eval", "rows=bogus", "rows=bogus: not a valid choice; choose one of: all, test"),
        (
            "serve",
            "on_missing=bogus",
            "on_missing=bogus: not a valid choice; choose one of: allow, warn, error",
        ),
        ("predict", "on_bad_row=bogus", "on_bad_row=bogus: not a valid choice; choose one of: reject, fail"),
        (
            "monitor",
            "tests.correction=no",
            "tests.correction=no: not a valid choice; choose one of: bh, by, none",
        ),
    ],
)
def test_a_value_outside_an_enum_lists_the_choices(
    app: str, override: str, line: str, capsys: pytest.CaptureFixture
) -> None:
    from tabpipe.cli.main import main

    with pytest.raises(SystemExit) as exited:
        main([app, override])
    assert exited.value.code == 2
    assert capsys.readouterr().err.splitlines() == [f"error: {line}"]


def test_monitor_help_imports_no_ml_library() -> None:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "tabpipe.cli.main", "monitor", "--help"],
        capture_output=True,
        text=True,
        env=cli_env(),
    )
    assert done.returncode == 0 and "Exit codes: 0 no alert, 6 drift alert" in done.stdout
    assert not imported_modules(done.stderr) & (set(ML_LIBRARIES) | {"scipy", "matplotlib", "numpy"})


@pytest.mark.slow
def test_cli_validation_error_exits_2_and_leaves_no_artifacts(tmp_path: Path) -> None:
    frame = pd.read_csv(ROOT / "src/tabpipe/datasets/telco_churn.csv").head(400)
    frame.loc[5, "customer_id"] = frame.loc[4, "customer_id"]
    frame.loc[3, "churn"] = None
    path = tmp_path / "bad.csv"
    frame.to_csv(path, index=False)
    run_dir = tmp_path / "run"
    done = run_cli(
        [
            "data=csv",
            f"data.path={path}",
            "data.target=churn",
            "data.task=binary",
            "data.id_columns=[customer_id]",
            f"hydra.run.dir={run_dir}",
        ]
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: column 'churn' (target): 1 missing values; the target must be complete",
        "error: column(s) 'customer_id': 1 duplicate ids (first: 5); ids must be unique",
    ]
    assert "Traceback" not in done.stdout + done.stderr
    assert "missing values" not in done.stdout  # each problem printed once, on stderr
    leftovers = {p.name for p in run_dir.iterdir()} - {".hydra", "train.log"}
    assert leftovers == set(), leftovers
    assert not json.dumps(sorted(p.name for p in run_dir.rglob("*"))).count("metrics")


def test_every_one_line_message_starts_from_the_same_first_line() -> None:
    """errors.first_line is the one cut of a multi-line message: error_line (causes) and
    printable_line (a binary file's error) start from it, so a message that begins with a
    blank line still shows its text."""
    from tabpipe.errors import error_line, first_line, printable_line

    assert first_line(ValueError("\n  bad value\nTraceback (most recent call last):")) == "bad value"
    assert first_line(ValueError(""), "ValueError") == "ValueError"
    assert printable_line("\n caf\u00e9: bad\nmore") == "caf\\xe9: bad"
    try:
        try:
            raise OSError("\ndisk full\n")
        except OSError as inner:
            raise RuntimeError("step failed:\nsecond line") from inner
    except RuntimeError as outer:
        assert error_line(outer) == "step failed: OSError: disk full"
