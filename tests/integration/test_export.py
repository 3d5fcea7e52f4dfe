"""The exported graph: metadata, parity, unseen/missing inputs, bundle checksums, providers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pandas as pd
import pytest

from helpers import ROOT, cli_env
from tabpipe.data.coercion import coerce_columns
from tabpipe.export import OPSET, runtime
from tabpipe.export.bundle import BundleError, load_bundle, verify_bundle
from tabpipe.export.feature_graph import FEATURES, build_feature_graph
from tabpipe.export.inputs import column_types, graph_inputs


@pytest.fixture(scope="module")
def churn_run(tmp_path_factory):
    from helpers import QUICK, compose_config
    from tabpipe.training.train import run_training

    out = tmp_path_factory.mktemp("churn") / "run"
    return run_training(
        compose_config([*QUICK, "model=xgb", "model.n_estimators=150", "features=target_encoding"], out)
    )


def test_graph_is_valid_and_carries_metadata(churn_run) -> None:
    model = onnx.load(churn_run.bundle / "model.onnx")
    onnx.checker.check_model(model, full_check=True)
    props = {p.key: p.value for p in model.metadata_props}
    assert props["task"] == "binary" and json.loads(props["classes"]) == ["No", "Yes"]
    assert props["model_name"] == "XGBoostModel" and props["tabpipe_version"]
    assert json.loads(props["input_schema"])["contract"] == "categorical"
    assert {o.domain: o.version for o in model.opset_import}[""] == OPSET
    assert [i.name for i in model.graph.input][:3] == ["female", "senior_citizen", "partner"]
    assert [o.name for o in model.graph.output] == ["label", "probabilities"]
    registered = onnx.load(
        Path(churn_run.registered["root"])
        / "telco_churn"
        / str(churn_run.registered["version"])
        / "model.onnx"
    )
    assert {p.key: p.value for p in registered.metadata_props}["model_version"] == str(
        churn_run.registered["version"]
    )


def test_parity_is_exact_on_the_whole_test_split(churn_run) -> None:
    (parity,) = churn_run.parity
    assert parity.passed and parity.rows == 1057
    assert parity.label_agreement == 1.0 and parity.max_rel_diff <= 1e-6
    recorded = load_bundle(churn_run.bundle).metadata.export.parity
    assert recorded.rows == 1057 and recorded.passed is True


def test_served_graph_equals_evaluation_predictions(churn_run) -> None:
    bundle = load_bundle(churn_run.bundle)
    predictions = pd.read_parquet(churn_run.output_dir / "predictions" / "test.parquet")
    raw = pd.read_csv(ROOT / "src/tabpipe/datasets/telco_churn.csv")
    rows = raw.set_index("customer_id").loc[predictions["customer_id"]].reset_index()
    session = runtime.session(bundle.model_path)
    schema = {i.name: {"type": i.type} for i in bundle.schema.inputs}
    out = runtime.run(session, graph_inputs(rows, schema))
    assert (out["label"] == predictions["y_pred"].to_numpy()).all()
    assert np.array_equal(out["probabilities"][:, 1].astype(np.float64), predictions["proba_Yes"].to_numpy())


def test_unseen_categories_and_missing_values_in_every_column(churn_run) -> None:
    """The graph handles them exactly as the fitted Python transforms do."""
    fold = churn_run.folds[0]
    schema = {name: spec for name, spec in fold.preprocessor.schema.items()}
    rows = pd.read_csv(ROOT / "src/tabpipe/datasets/telco_churn.csv").head(40)
    rows = rows[list(schema)].astype(object)
    for i, name in enumerate(schema):  # each column: one row missing, one row unseen
        rows.loc[i, name] = None
        if schema[name].type == "categorical":
            rows.loc[20 + i % 20, name] = "never-seen-category"
    coerced = coerce_columns(rows, column_types(schema))
    feature_session = runtime.session(build_feature_graph(fold.preprocessor))
    graph_features = runtime.run(feature_session, graph_inputs(rows, schema))[FEATURES]
    python_features = fold.preprocessor.transform(coerced)
    np.testing.assert_allclose(graph_features, python_features, rtol=1e-5, atol=1e-5)
    graph = runtime.run(runtime.session(fold.graph), graph_inputs(rows, schema))
    assert np.isfinite(graph["probabilities"]).all()
    np.testing.assert_allclose(graph["probabilities"], fold.model.predict(graph_features), atol=1e-6)


def test_bundle_contents(churn_run) -> None:
    bundle = load_bundle(churn_run.bundle)
    names = {p.name for p in churn_run.bundle.iterdir()}
    assert {
        "model.onnx",
        "schema.json",
        "reference_profile.json",
        "metrics.json",
        "metadata.json",
        "manifest.json",
        "native",
    } <= names
    assert (churn_run.bundle / "native" / "model.xgb.json").is_file()
    inputs = {i.name: i for i in bundle.schema.inputs}
    assert inputs["tenure"].min == 0.0 and inputs["tenure"].onnx_type == "float"
    assert "Month-to-month" in inputs["contract"].categories
    tenure = bundle.profile.features["tenure"]
    assert len(tenure.shares) == len(tenure.edges) + 1 and abs(sum(tenure.shares) - 1) < 1e-9
    assert abs(sum(bundle.profile.prediction.class_shares.values()) - 1) < 1e-9
    assert bundle.metadata.seed == 42 and bundle.metadata.dataset.sha256
    assert bundle.metadata.config.tree()["model"]["n_estimators"] == 150  # the resolved config
    assert bundle.metadata.packages["onnx"] and bundle.metadata.git.model_fields_set == {"commit", "dirty"}
    documents = (bundle.schema, bundle.metadata, bundle.profile)
    assert {document.format_version for document in documents} == {1}
    assert bundle.read_json("metrics.json")["test/auc"] == churn_run.metrics["test/auc"]


def _copy(bundle: Path, tmp_path: Path) -> Path:
    import shutil

    target = tmp_path / "copy"
    shutil.copytree(bundle, target)
    return target


@pytest.mark.parametrize("damage", ["tamper", "truncate", "delete"])
def test_damaged_bundle_refuses_to_load_and_names_the_file(churn_run, tmp_path: Path, damage: str) -> None:
    bundle = _copy(churn_run.bundle, tmp_path)
    target = bundle / "model.onnx"
    data = target.read_bytes()
    if damage == "tamper":
        target.write_bytes(data[:100] + bytes([data[100] ^ 1]) + data[101:])
    elif damage == "truncate":
        target.write_bytes(data[: len(data) // 2])
    else:
        target.unlink()
    with pytest.raises(BundleError, match=r"model\.onnx"):
        verify_bundle(bundle)
    done = subprocess.run(
        [sys.executable, "-m", "tabpipe.cli.main", "registry", "show", str(bundle)],
        capture_output=True,
        text=True,
        env=cli_env(),
    )
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "model.onnx" in done.stderr


def test_missing_bundle_path_is_one_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tabpipe.cli.main", "registry", "show", str(tmp_path / "nope")],
        capture_output=True,
        text=True,
        env=cli_env(),
    )
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1


def test_providers_actually_used_are_recorded(train) -> None:
    result = train(["model=linear", "export.providers=[CUDAExecutionProvider,CPUExecutionProvider]"])
    export = load_bundle(result.bundle).metadata.export
    assert export.providers_requested == ["CUDAExecutionProvider", "CPUExecutionProvider"]
    import onnxruntime

    if "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
        assert export.providers_used == ["CPUExecutionProvider"]


def test_kfold_exports_and_checks_every_fold(train) -> None:
    result = train(["model=linear", "split=kfold", "split.n_folds=3"])
    assert len(result.parity) == 3 and all(p.passed for p in result.parity)
    assert result.bundle is None
    for k in range(3):
        assert (result.output_dir / "model" / f"fold_{k}" / "model.onnx").is_file()


def test_calendar_features_in_the_graph_match_python() -> None:
    """Hour, weekday, day, month (with sin/cos) and holidays, computed by integer date
    arithmetic inside the graph, equal the pandas/holidays computation."""
    from helpers import compose_config
    from tabpipe.data.column_schema import ColumnSchema
    from tabpipe.features.preprocessing import TabularPreprocessor

    stamps = pd.Series(
        pd.to_datetime(
            [
                "2024-02-29 23:59:59",
                "2024-07-04 12:00",
                "1969-12-31 23:00",
                "2000-03-01 00:00",
                "2023-12-25 06:30",
                "2031-01-01 01:00",
                None,
                "2024-11-28 18:45",
            ],
            format="mixed",
        )
    )
    frame = pd.DataFrame({"when": stamps, "x": np.arange(len(stamps), dtype=float)})
    schema = {"when": ColumnSchema("when", "datetime"), "x": ColumnSchema("x", "numeric")}
    pre = TabularPreprocessor(compose_config(["features=trees"]).features, schema, "binary", 0)
    pre.fit_transform(frame, np.arange(len(frame)) % 2)
    graph = runtime.run(runtime.session(build_feature_graph(pre)), graph_inputs(frame, schema))[FEATURES]
    np.testing.assert_allclose(graph, pre.transform(frame), rtol=1e-6, atol=1e-6)
    holiday = pre.feature_names_.index("datetime__when__is_holiday")
    assert graph[[1, 4, 7], holiday].tolist() == [1.0, 1.0, 1.0]  # July 4th, Christmas, Thanksgiving


def test_parity_failure_stops_the_run_and_registers_nothing(tmp_path: Path) -> None:
    """An impossible tolerance makes the gate fail: exit code 5, no bundle, no version."""
    from helpers import run_cli

    registry = tmp_path / "registry"
    done = run_cli(
        [
            "model=linear",
            "export.parity_rtol=-1",
            "eval.plots=false",
            f"registry.root={registry}",
            f"hydra.run.dir={tmp_path / 'run'}",
        ]
    )
    assert done.returncode == 5
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: parity gate:")
    assert not (tmp_path / "run" / "bundle").exists()
    assert not registry.exists() or not any(registry.rglob("model.onnx"))


def test_a_search_run_scores_natively_and_exports_nothing(churn_run, train) -> None:
    """``export.onnx=false`` (sweep trials): same metrics as the graph gives, no graph or bundle."""
    result = train(["model=xgb", "model.n_estimators=150", "features=target_encoding", "export.onnx=false"])
    for key in ("val/auc", "val/log_loss", "test/auc", "test/f1"):
        assert result.metrics[key] == pytest.approx(churn_run.metrics[key], rel=1e-6, abs=1e-9)
    assert result.bundle is None and result.parity == [] and result.registered is None
    assert not (result.output_dir / "model").exists()
    assert (result.output_dir / "metrics.json").is_file() and (result.output_dir / "metadata.json").is_file()


def _tiny_fit_data(task: str):
    from tabpipe.models.base import FitData

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3)).astype(np.float32)
    y = (X[:, 0] > 0).astype(float) if task == "binary" else X[:, 0].astype(float)
    return FitData(X, y, X, y, task, 2 if task == "binary" else 0, ["a", "b", "c"])


def test_every_converter_names_a_model_class_that_exists() -> None:
    """A converter is registered by class name (export imports no model): a renamed or moved
    model class would lose its graph, so every name must still resolve to a class."""
    import ast

    from tabpipe.export.converters import registered_types

    src = ROOT / "src"
    for name in registered_types():
        module, _, cls = name.rpartition(".")
        tree = ast.parse((src / Path(*module.split("."))).with_suffix(".py").read_text())
        assert cls in {node.name for node in tree.body if isinstance(node, ast.ClassDef)}, name


def test_a_subclass_converts_as_its_base_and_an_unknown_type_uses_its_own_to_onnx() -> None:
    from tabpipe.errors import ConfigError
    from tabpipe.export.converters import model_graph
    from tabpipe.export.model_graphs import constant_graph
    from tabpipe.models.base import RunContext
    from tabpipe.models.baseline import BaselineModel

    class MyBaseline(BaselineModel):
        pass

    data = _tiny_fit_data("regression")
    model = MyBaseline().fit(data, RunContext(0, None, None, Path(".")))
    scores = runtime.run(runtime.session(model_graph(model, 3)), {"features": data.X_val})["scores"]
    np.testing.assert_allclose(scores.reshape(-1), model.predict(data.X_val), rtol=1e-6)

    class OwnGraph:
        def to_onnx(self, n_features: int) -> onnx.ModelProto:
            return constant_graph(np.array([0.5]), n_features)

    assert model_graph(OwnGraph(), 3).graph.output[0].name == "scores"

    class NoGraph:
        pass

    with pytest.raises(ConfigError) as caught:
        model_graph(NoGraph(), 3)
    message = str(caught.value)
    assert "NoGraph: no ONNX converter" in message and "\n" not in message
