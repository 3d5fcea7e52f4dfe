"""The Python API in-process, on the session's bundles: ``Bundle.predict`` equals the server and
batch scoring on the same rows, ``explain()`` is the importance the run measured, evaluate /
compare / monitor return the documents their commands compute on the same rows, the registry
moves aliases as ``tabpipe registry`` does, and bad refs, frames and overrides raise the typed
error with the command's one line."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest

import tabpipe
from serving_helpers import serve_config, serving_in_thread

CHURN = Path(tabpipe.__file__).parent / "datasets" / "telco_churn.csv"
WEATHER = Path(tabpipe.__file__).parent / "datasets" / "seattle_weather.csv"


def _records(frame: pd.DataFrame) -> list[dict]:
    return [
        {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
        for r in frame.to_dict(orient="records")
    ]


def test_predict_equals_the_server_and_batch_scoring(
    binary_bundle, multiclass_bundle, tmp_path: Path
) -> None:
    """Churn (ids, booleans, categoricals, blanks) and weather (a datetime column): the same
    labels and float32 probabilities as ``/predict`` on a real server and ``tabpipe predict``."""
    from tabpipe.serving.app import create_app
    from tabpipe.serving.batch import score_files
    from tabpipe.serving.loaded_model import load_model

    cases = [
        (
            binary_bundle,
            "telco_churn:1",
            pd.read_csv(CHURN).drop(columns=["churn"]).sample(200, random_state=0),
        ),
        (multiclass_bundle, "seattle_weather:1", pd.read_csv(WEATHER).drop(columns=["weather"]).tail(120)),
    ]
    weather = cases[1][2]  # ISO dates: what the server's request model accepts
    weather["date"] = pd.to_datetime(weather["date"]).dt.strftime("%Y-%m-%d")
    for trained, ref, rows in cases:
        bundle = tabpipe.load_bundle(ref, registry=trained.registry)
        scored = bundle.predict(rows)
        assert scored.index.equals(rows.index)
        classes = bundle.schema.class_list
        source = tmp_path / f"{trained.name}.csv"
        rows.to_csv(source, index=False)
        model = load_model(ref, trained.registry, ["CPUExecutionProvider"])
        score_files(model, [source], tmp_path / f"{trained.name}.parquet", 64, "fail", None, progress=False)
        batch = pd.read_parquet(tmp_path / f"{trained.name}.parquet")
        assert scored.columns.tolist() == batch.columns.tolist()
        assert scored["label"].tolist() == batch["label"].tolist()
        probabilities = [f"proba_{c}" for c in classes]
        assert np.array_equal(scored[probabilities].to_numpy(), batch[probabilities].to_numpy())
        app = create_app(serve_config(ref, trained.registry))
        with serving_in_thread(app) as url:
            online = httpx.post(f"{url}/predict", json=_records(rows), timeout=30).json()["predictions"]
        assert [p["label"] for p in online] == scored["label"].tolist()
        served = np.array([[p["probabilities"][c] for c in classes] for p in online], np.float32)
        assert np.array_equal(served, scored[probabilities].to_numpy(np.float32))


def test_bad_frames_and_refs_raise_the_typed_error_with_one_line(binary_bundle) -> None:
    errors = tabpipe.errors
    bundle = tabpipe.load_bundle("telco_churn:1", registry=binary_bundle.registry)
    rows = pd.read_csv(CHURN).head(5)
    with pytest.raises(errors.DataValidationError) as missing:
        bundle.predict(rows.drop(columns=["tenure", "contract"]))
    assert missing.value.problems == [
        "column 'tenure': missing from the input",
        "column 'contract': missing from the input",
    ]
    bad = rows.astype({"tenure": object})
    bad.loc[3, "tenure"] = "abc"
    with pytest.raises(
        errors.DataValidationError, match=r"^row 3: column 'tenure': non-numeric value 'abc'$"
    ):
        bundle.predict(bad)
    odd = rows.copy()
    odd.loc[2, "tenure"], odd.loc[4, "contract"] = 990, "Decade"
    with pytest.raises(errors.DataValidationError) as policy:  # the server's policies, on request
        bundle.predict(odd, on_out_of_range="error", on_unseen_category="error")
    assert policy.value.problems == [
        "[2].tenure: 990.0 outside the training range [0.0, 72.0]",
        "[4].contract: unseen category 'Decade' (mapped to the sentinel)",
    ]
    with pytest.warns(UserWarning, match=r"^telco_churn:1: \[2\].tenure: 990.0 outside the training range"):
        assert len(bundle.predict(odd, on_out_of_range="warn")) == 5
    assert len(bundle.predict(odd)) == 5  # allow: as tabpipe predict
    with pytest.raises(errors.ConfigError, match=r"^on_missing='nope': one of allow, warn, error$"):
        bundle.predict(rows, on_missing="nope")
    with pytest.raises(errors.ConfigError, match=r"^df: expected a pandas DataFrame, got list$"):
        bundle.predict(_records(rows))
    with pytest.raises(errors.RegistryError, match=r"^telco_churn@prod: alias 'prod' is not set for model"):
        tabpipe.load_bundle("telco_churn@prod", registry=binary_bundle.registry)
    with pytest.raises(errors.RegistryError, match=r"^telco_churn:9: no such version \(have \[1\]\)$"):
        tabpipe.load_bundle("telco_churn:9", registry=binary_bundle.registry)
    with pytest.raises(errors.RegistryError, match=r"^nowhere: not a registered ref"):
        tabpipe.load_bundle("nowhere", registry=binary_bundle.registry)
    with pytest.raises(errors.ConfigError, match=r"^kind='shap': one of permutation, native$"):
        bundle.explain("shap")


def test_explain_is_the_importance_the_training_run_measured(multiclass_bundle) -> None:
    # the multiclass session run draws its plots, so its importance CSVs are on disk
    bundle = tabpipe.load_bundle(multiclass_bundle.bundle)
    measured = pd.read_csv(multiclass_bundle.output_dir / "plots" / "importance_permutation.csv")
    explained = bundle.explain()
    assert explained.columns.tolist() == ["feature", "importance", "std"]
    assert explained["feature"].tolist() == measured["column"].tolist()
    assert np.allclose(explained["importance"], measured["importance_mean"], rtol=1e-12, atol=0)
    native = pd.read_csv(multiclass_bundle.output_dir / "plots" / "importance_native.csv")
    assert bundle.explain("native")["feature"].tolist() == native["feature"].tolist()
    assert bundle.metadata.first_evaluation.importance.metric
    assert bundle.metrics["test/f1_macro"] == multiclass_bundle.result.metrics["test/f1_macro"]
    assert bundle.schema.task == "multiclass" and bundle.profile.features


def test_evaluate_monitor_and_compare_equal_their_commands(binary_bundle, tmp_path: Path) -> None:
    """The documents of ``tabpipe eval rows=all``, ``tabpipe monitor`` and ``tabpipe compare``
    on a file of the same rows."""
    from tabpipe.cli.groups import compose_app_config
    from tabpipe.comparison.compare import compare
    from tabpipe.evaluation.bundle_evaluation import evaluate_bundle
    from tabpipe.monitoring.run import run_monitor

    registry = binary_bundle.registry
    rows = pd.read_csv(CHURN).sample(800, random_state=3)
    bundle = tabpipe.load_bundle("telco_churn:1", registry=registry)
    common = ["bundle=telco_churn:1", f"registry_root={registry}"]

    document = tabpipe.evaluate(
        bundle, rows, overrides=["eval.plots=false", f"output_dir={tmp_path / 'api'}"]
    )
    source = tmp_path / "rows.csv"
    rows.to_csv(source, index=False)
    data = [
        "data=csv",
        f"data.path={source}",
        "data.target=churn",
        "data.task=binary",
        "data.positive_class=Yes",
    ]
    cli = evaluate_bundle(
        compose_app_config(
            "eval",
            [
                *common,
                *data,
                "data.id_columns=[customer_id]",
                "rows=all",
                "eval.plots=false",
                f"output_dir={tmp_path / 'cli'}",
            ],
        )
    )
    assert document.rows == 800 and document.metrics == cli.result.document.metrics
    assert (tmp_path / "api" / "evaluation.json").is_file()

    drift = tabpipe.monitor(bundle, rows.drop(columns=["churn"]), overrides=[f"output_dir={tmp_path / 'm'}"])
    rows.drop(columns=["churn"]).to_parquet(tmp_path / "rows.parquet")
    file_drift = run_monitor(
        compose_app_config(
            "monitor", [*common, f"current={tmp_path / 'rows.parquet'}", f"output_dir={tmp_path / 'mf'}"]
        )
    ).document
    assert drift.current.source == "DataFrame" and drift.current.rows == 800
    assert drift.status == file_drift.status and drift.counts == file_drift.counts
    assert [(f.name, f.psi, f.severity) for f in drift.features] == [
        (f.name, f.psi, f.severity) for f in file_drift.features
    ]

    held_out = tabpipe.compare("telco_churn:1", bundle, registry=registry, resamples=200)
    assert held_out == compare("telco_churn:1", str(bundle.path), str(registry), n_resamples=200)
    given = tabpipe.compare(bundle, "telco_churn:1", rows, registry=registry, resamples=200)
    assert given.rows.count == 800 and given.rows.which.endswith(
        "every row of the given DataFrame, scored by A and B"
    )
    assert given.metrics.a == given.metrics.b and not given.significant
    assert given.metrics.a["auc"] == pytest.approx(document.metrics["eval/auc"], abs=1e-12)


def test_the_registry_lists_gets_promotes_and_records_history(binary_bundle, tmp_path: Path) -> None:
    registry = tabpipe.Registry(binary_bundle.registry_copy(tmp_path / "registry"))
    (row,) = registry.list()
    assert (row.name, row.version, row.metric) == ("telco_churn", 1, "test/auc")
    assert registry.list("telco_churn") == [row]
    move = registry.promote("telco_churn:1", "production", who="notebook")
    assert (move.alias, move.from_, move.to, move.who) == ("production", None, 1, "notebook")
    assert registry.history("telco_churn") == [move]
    assert registry.aliases("telco_churn") == {"production": 1}
    assert registry.get("telco_churn@production").ref == "telco_churn:1"
    errors = tabpipe.errors
    with pytest.raises(errors.RegistryError, match=r"^telco_churn:2: no such version \(have \[1\]\)$"):
        registry.promote("telco_churn:2", "production")
    with pytest.raises(errors.RegistryError, match=r"^telco_churn@production: expected <name>:<version>$"):
        registry.promote("telco_churn@production", "candidate")
    with pytest.raises(errors.RegistryError, match=r"^churn: no such model in .* \(models: telco_churn\)$"):
        registry.list("churn")


def test_train_refuses_bad_overrides_with_the_cli_line_before_any_work(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    errors = tabpipe.errors
    cases = {
        "model=nope": r"^model=nope: unknown option; available models: .*xgb$",
        "model.max_dept=4": r"^model.max_dept",
        "seed=1,2": r"^seed=1,2: a sweep; tabpipe.train runs one job",
        "--cfg": r"^--cfg: not an override; tabpipe.train takes key=value overrides only$",
    }
    for override, line in cases.items():
        with pytest.raises(errors.ConfigError, match=line):
            tabpipe.train([override])
    with pytest.raises(errors.ConfigError, match=r"^project=.*missing'?: (no such|not a) directory$"):
        tabpipe.train(project=tmp_path / "missing")
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_a_job_leaves_no_hydra_state_behind(tmp_path: Path) -> None:
    """After ``tabpipe.train``'s job, a plain ``compose()`` in the same process (a notebook's
    next cell, the tests) must not be taken for that job (its overrides would be recorded),
    nor the caller's log lines go to the job's ``train.log``."""
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.hydra_config import HydraConfig

    from tabpipe.api.training import _hydra
    from tabpipe.config.project import config_search_path, find_project
    from tabpipe.config.store import register_configs

    register_configs()
    seen = {}
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level

    def job(cfg):
        seen["overrides"] = list(HydraConfig.get().overrides.task)
        return cfg.seed

    with _hydra(config_search_path(find_project())[0], "train") as hydra:
        ret = hydra.run(
            config_name="train", task_function=job, overrides=["seed=5", f"hydra.run.dir={tmp_path}"]
        )
    assert ret.return_value == 5 and seen["overrides"] == ["seed=5"]  # hydra.* are not the job's
    assert not HydraConfig.initialized() and not GlobalHydra.instance().is_initialized()
    assert (root.handlers, root.level) == (handlers, level)  # the job's log file is not the caller's


def test_train_in_a_project_from_another_directory_writes_only_there(tmp_path: Path, monkeypatch) -> None:
    """``project=`` is ``tabpipe train --project``: the project's own config options are
    selectable, the run, its registration and the registry live under the project; the
    caller's directory and environment are untouched."""
    import os
    import shutil

    from helpers import CONF
    from tabpipe.config.schema import TrainConfig

    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    shutil.copytree(CONF, project / "conf")
    (project / "conf" / "model").mkdir(exist_ok=True)
    (project / "conf" / "model" / "tiny.yaml").write_text("defaults:\n  - xgb\n\nn_estimators: 5\n")
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.delenv("TABPIPE_REGISTRY", raising=False)
    monkeypatch.delenv("TABPIPE_ROOT", raising=False)
    environment = {k: v for k, v in os.environ.items() if k.startswith("TABPIPE_")}
    run = tabpipe.train({"model": "tiny", "logger": "none", "eval.plots": False, "seed": 1}, project=project)
    assert run.config.model.n_estimators == 5
    assert run.run_dir.parent == project / "logs" / "train" / "runs"
    assert run.registered == "telco_churn:1" and run.registry_root == project / "registry"
    assert isinstance(run.config, TrainConfig) and run.config.seed == 1
    assert run.metrics == run.bundle.metrics and run.bundle.ref == "telco_churn:1"
    same = tabpipe.compare(run, run.bundle, resamples=200)  # the run directory against its bundle
    assert same.a.kind == "run" and same.rows.count == len(
        pd.read_parquet(run.run_dir / "predictions" / "test.parquet")
    )
    assert same.metrics.a == same.metrics.b and not same.significant
    assert list(elsewhere.iterdir()) == []
    assert {k: v for k, v in os.environ.items() if k.startswith("TABPIPE_")} == environment


def test_evaluate_and_monitor_in_a_project_from_another_directory(
    binary_bundle, tmp_path: Path, monkeypatch
) -> None:
    """``project=`` is ``tabpipe --project <dir> eval|monitor``: the ref resolves in the
    project's registry, the evaluation is written under the project's ``logs/eval`` and the
    drift report under its ``monitoring/``, nothing in the working directory."""
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    (project / "conf").mkdir(parents=True)
    (project / "conf" / "train.yaml").write_text("defaults:\n  - tabpipe_base\n  - _self_\n")
    binary_bundle.registry_copy(project / "registry")
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    for variable in ("TABPIPE_REGISTRY", "TABPIPE_ROOT", "TABPIPE_PROJECT"):
        monkeypatch.delenv(variable, raising=False)
    rows = pd.read_csv(CHURN).sample(300, random_state=1)

    evaluated = tabpipe.evaluate("telco_churn:1", rows, project=project, overrides={"eval.plots": False})
    monitored = tabpipe.monitor("telco_churn:1", rows.drop(columns=["churn"]), project=project)
    assert evaluated.rows == 300 and evaluated.metrics[f"eval/{evaluated.primary_metric}"] > 0.7
    assert monitored.status in ("ok", "warn", "alert") and monitored.current.rows == 300
    assert len(list((project / "logs" / "eval" / "runs").glob("*/evaluation.json"))) == 1
    assert len(list((project / "monitoring" / "telco_churn").glob("*/drift.json"))) == 1
    assert not list(elsewhere.iterdir())  # nothing written where the script runs
    with pytest.raises(tabpipe.errors.RegistryError, match="telco_churn:1: no such version"):
        tabpipe.evaluate("telco_churn:1", rows)  # no project here: no such registry entry
