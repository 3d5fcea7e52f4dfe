"""One real training run per model and task, with the baseline gate on."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import run_cli
from tabpipe.errors import ConfigError
from tabpipe.export.bundle import load_bundle

TASKS = {
    "binary": ["data=telco_churn"],
    "multiclass": ["data=sklearn", "data.name=wine", "data.task=multiclass"],
    "regression": ["data=sklearn", "data.name=diabetes", "data.task=regression"],
}
MODELS = {
    "xgb": ["model=xgb", "model.n_estimators=200"],
    "lgbm": ["model=lgbm", "model.n_estimators=200"],
    "linear": ["model=linear"],
    "mlp": ["model=mlp", "trainer.max_epochs=25", "model.batch_size=32"],
}
# the churn data's 4,929 training rows need fewer, larger batches: 3 epochs of 128 beat the
# baseline's f1_macro by ~0.3 (0.73 vs 0.42) in 1 s of CPU; 25 epochs of 32 took 8 s
QUICKER = {("mlp", "binary"): ["trainer.max_epochs=3", "model.batch_size=128"]}
NATIVE_FILE = {
    "xgb": "model.xgb.json",
    "lgbm": "model.lgbm.txt",
    "linear": "linear.json",
    "mlp": "model.ckpt",
}


@pytest.mark.parametrize("task", list(TASKS))
@pytest.mark.parametrize("model", list(MODELS))
def test_model_trains_and_beats_the_baseline(train, model: str, task: str) -> None:
    overrides = [*TASKS[task], *MODELS[model], *QUICKER.get((model, task), [])]
    result = train(overrides)  # the gate raises if it loses
    metrics = result.metrics
    expected = {
        "binary": ["auc", "f1_macro", "accuracy", "log_loss"],
        "multiclass": ["f1_macro", "accuracy", "log_loss"],
        "regression": ["rmse", "mae", "r2"],
    }[task]
    for name in expected:
        for prefix in ("test", "val", "baseline/test"):
            assert np.isfinite(metrics[f"{prefix}/{name}"]), f"{prefix}/{name}"
    if task == "regression":
        assert metrics["test/rmse"] < metrics["baseline/test/rmse"]
    else:
        assert metrics["test/f1_macro"] > metrics["baseline/test/f1_macro"]
    if task == "binary":  # a model that learnt nothing ranks near 0.5 (an untrained MLP passes f1)
        assert metrics["test/auc"] >= 0.8, metrics["test/auc"]
    assert (result.output_dir / "model" / NATIVE_FILE[model]).is_file()
    # every model x task exports one graph whose predictions equal evaluation's
    (parity,) = result.parity
    assert parity.passed and parity.label_agreement == 1.0 and parity.max_rel_diff <= 1e-6
    bundle = load_bundle(result.bundle)
    assert (bundle.path / "native" / NATIVE_FILE[model]).is_file()
    assert bundle.schema.task == task and result.registered["version"] >= 1
    predictions = pd.read_parquet(result.output_dir / "predictions" / "test.parquet")
    if task != "regression":
        proba = predictions.filter(like="proba_").to_numpy()
        assert np.allclose(proba.sum(axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("task", list(TASKS))
def test_baseline_model_predicts_priors_or_the_mean(train, task: str) -> None:
    result = train([*TASKS[task], "model=baseline", "eval.require_beat_baseline=false"])
    test_keys = [k for k in result.metrics if k.startswith("test/")]
    for key in test_keys:
        # the graph computes in float32, the native baseline in float64
        assert result.metrics[key] == pytest.approx(result.metrics[f"baseline/{key}"], rel=1e-4)
    assert (result.output_dir / "model" / "baseline.json").is_file()
    assert result.parity[0].passed and load_bundle(result.bundle).schema.task == task


def test_any_lightning_module_plugs_in_through_target(train) -> None:
    result = train(
        [
            "model=lightning",
            "model.module._target_=tabpipe_test_modules.WideLinear",
            "+model.module.lr=0.05",
            "trainer.max_epochs=5",
        ]
    )
    checkpoint = result.output_dir / "model" / "model.ckpt"
    import torch

    saved = torch.load(checkpoint, weights_only=False)
    assert saved["module_class"] == "tabpipe_test_modules.WideLinear"
    assert result.metrics["test/auc"] > 0.8


def test_a_user_model_plugs_in_through_target_alone(train) -> None:
    """A model class of the user's, named by model._target_ alone, is trained, exported to
    one graph that passes parity, bundled and registered, like tabpipe's own."""
    result = train(["model=baseline", "model._target_=tabpipe_test_modules.BalancedLogistic"])
    (parity,) = result.parity
    assert parity.passed and parity.label_agreement == 1.0
    bundle = load_bundle(result.bundle)
    assert (bundle.path / "native" / "balanced_logistic.json").is_file()
    assert bundle.metadata.config.model.target == "tabpipe_test_modules.BalancedLogistic"
    assert result.registered["version"] >= 1
    # its own predictions, not the baseline's priors: it beats the baseline (the gate is on)
    assert result.metrics["test/auc"] > 0.8 > result.metrics["baseline/test/auc"]


def test_a_user_callback_and_trainer_plug_in_through_target(train) -> None:
    """+callbacks.<name>={_target_: ...} adds a Lightning callback that the Trainer calls;
    trainer._target_ swaps the Trainer class, which receives every trainer key."""
    from tabpipe_test_modules import EpochRecorder, RecordingTrainer

    EpochRecorder.epochs.clear()
    RecordingTrainer.built.clear()
    train(
        [
            "data=sklearn",
            "model=lightning",
            "model.module._target_=tabpipe_test_modules.WideLinear",
            "trainer._target_=tabpipe_test_modules.RecordingTrainer",
            "trainer.max_epochs=3",
            "trainer.min_epochs=3",
            "trainer.gradient_clip_val=0.5",
            "+callbacks.recorder={_target_: tabpipe_test_modules.EpochRecorder, tag: mine}",
            "eval.require_beat_baseline=false",
        ]
    )
    assert EpochRecorder.epochs == [0, 1, 2]
    (kwargs,) = RecordingTrainer.built
    assert kwargs["max_epochs"] == 3 and kwargs["gradient_clip_val"] == 0.5
    assert any(isinstance(callback, EpochRecorder) for callback in kwargs["callbacks"])


def test_a_model_target_that_does_not_fit_is_one_config_line(train) -> None:
    with pytest.raises(
        ConfigError, match=r"^model\._target_='tabpipe_test_modules\.WideLinear': TypeError: "
    ):
        train(["model=baseline", "model._target_=tabpipe_test_modules.WideLinear"])
    with pytest.raises(ConfigError, match=r"^model\._target_='nowhere\.Model': Error locating target"):
        train(["model=baseline", "model._target_=nowhere.Model"])


def test_embeddings_on_ordinal_categoricals(train) -> None:
    result = train(["experiment=churn_mlp", "trainer.max_epochs=4"])
    import torch

    state = torch.load(result.output_dir / "model" / "model.ckpt", weights_only=False)
    embeddings = [k for k in state["state_dict"] if k.startswith("embeddings.")]
    assert len(embeddings) == 10  # one per categorical column of the churn data
    assert result.metrics["test/auc"] > 0.8


def test_kfold_reports_mean_and_std_and_refits_per_fold(train) -> None:
    result = train(["model=lgbm", "split=kfold", "split.n_folds=3", "model.n_estimators=100"])
    metrics = result.metrics
    folds = [metrics[f"fold_{k}/test/auc"] for k in range(3)]
    assert metrics["test/auc"] == pytest.approx(np.mean(folds))
    assert metrics["test/auc_std"] == pytest.approx(np.std(folds, ddof=1))
    assert len({id(fold.preprocessor) for fold in result.folds}) == 3
    predictions = pd.read_parquet(result.output_dir / "predictions" / "test.parquet")
    assert sorted(predictions["fold"].unique()) == [0, 1, 2]
    assert predictions["customer_id"].is_unique and len(predictions) == 7043
    for k in range(3):
        assert (result.output_dir / "model" / f"fold_{k}" / "model.lgbm.txt").is_file()


def test_early_stopping_for_gbdt(train) -> None:
    result = train(
        ["model=xgb", "model.n_estimators=2000", "model.learning_rate=0.3", "model.early_stopping_rounds=5"]
    )
    assert result.folds[0].model.best_iteration_ < 200
    history = pd.read_csv(result.output_dir / "csv" / "metrics.csv")
    assert {"train/logloss", "val/logloss", "val/auc"} <= set(history["name"])
    assert history["step"].max() <= result.folds[0].model.best_iteration_ + 5


def test_early_stopping_for_lightning_and_resume_from_checkpoint(train) -> None:
    first = train(["model=mlp", "trainer.max_epochs=2"])
    last = first.output_dir / "checkpoints" / "last.ckpt"
    assert last.is_file()
    resumed = train(["model=mlp", "trainer.max_epochs=4", f"ckpt_path={last}"])
    steps = pd.read_csv(resumed.output_dir / "csv" / "metrics.csv")["step"].unique().tolist()
    assert steps == [2, 3]  # epochs 0-1 came from the checkpoint
    assert f"ckpt_path: {last}" in (resumed.output_dir / "config_resolved.yaml").read_text()


@pytest.mark.parametrize("preset", ["fdr", "limit", "overfit"])
def test_debug_presets_run(train, preset: str) -> None:
    result = train(["model=mlp", f"debug={preset}", "trainer.max_epochs=2"])
    assert np.isfinite(result.metrics["test/auc"])


def test_debug_fast_dev_run_for_gbdt_is_one_round(train) -> None:
    result = train(["model=xgb", "debug=fdr"])
    assert result.folds[0].model.booster_.num_boosted_rounds() == 1


@pytest.mark.parametrize(
    ("model", "task"),
    [("linear", "binary"), ("mlp", "multiclass")],
)
def test_no_probability_sum_warning_from_metrics(train, recwarn, model: str, task: str) -> None:
    # float32 graph / softmax outputs are renormalised in float64 before scikit-learn sees them
    overrides = [*TASKS[task], f"model={model}", "trainer.max_epochs=2", "eval.require_beat_baseline=false"]
    result = train([*overrides, "eval.plots=false", "eval.segments.enabled=false", "logger=none"])
    assert np.isfinite(result.metrics["test/log_loss"])
    messages = [str(w.message) for w in recwarn]
    assert not [m for m in messages if "do not sum to one" in m], messages


def test_run_prints_data_split_and_model_lines_before_the_metrics(train, caplog) -> None:
    caplog.set_level(logging.INFO, logger="tabpipe")
    result = train(["model=xgb", "model.n_estimators=20", "eval.plots=false", "logger=none"])
    metadata = json.loads((result.output_dir / "metadata.json").read_text())
    sizes = metadata["splits"][0]
    n_features = metadata["dataset"]["n_columns"] - 2  # less the id (customer_id) and the target
    lines = [record.getMessage() for record in caplog.records]
    model = result.folds[0].model
    expected = [
        f"data: telco_churn: {metadata['dataset']['n_rows']} rows, {n_features} feature columns, "
        "task binary (classes No, Yes)",
        f"split: stratified: train {sizes['train']}, val {sizes['val']}, test {sizes['test']} rows",
        f"model: XGBoostModel: best iteration {model.rounds_used()} of {model.rounds_trained()} "
        "trained (n_estimators=20, early_stopping_rounds=50)",
    ]
    first_metric = lines.index("test metrics:")
    for line in expected:
        assert lines.count(line) == 1 and lines.index(line) < first_metric, (line, lines)
    assert (sizes["train"], sizes["val"], sizes["test"]) == (4929, 1057, 1057)


def test_kfold_and_network_lines(train, caplog) -> None:
    caplog.set_level(logging.INFO, logger="tabpipe")
    kfold = ["split=kfold", "split.n_folds=2"]
    result = train(["model=mlp", "trainer.max_epochs=1", *kfold, "eval.plots=false", "logger=none"])
    lines = [record.getMessage() for record in caplog.records]
    splits = json.loads((result.output_dir / "metadata.json").read_text())["splits"]
    train_rows, val_rows, test_rows = ([fold[part] for fold in splits] for part in ("train", "val", "test"))
    assert len(set(val_rows)) == 1 and sum(test_rows) == 7043  # every row tested once
    expected = (
        f"split: kfold: 2 folds: train {min(train_rows)}-{max(train_rows)}, val {val_rows[0]}, "
        f"test {min(test_rows)}-{max(test_rows)} rows per fold"
    )
    assert lines.count(expected) == 1, lines
    for fold in result.folds:
        module = fold.model.module_
        count = sum(p.numel() for p in module.parameters() if p.requires_grad)
        assert f"fold {fold.fold} model: TabularMLP: {count:,} trainable parameters" in lines, lines


@pytest.mark.slow
def test_cli_prints_each_lightning_line_once(tmp_path) -> None:
    run_dir = tmp_path / "run"
    quick = ["trainer.max_epochs=1", "eval.plots=false", "logger=none", "registry.name=null"]
    done = run_cli(["model=mlp", *quick, f"hydra.run.dir={run_dir}"])
    assert done.returncode == 0, done.stderr[-2000:]
    output = done.stdout + done.stderr
    for message in ("GPU available: False", "`Trainer.fit` stopped: `max_epochs=1` reached."):
        assert output.count(message) == 1, output
    assert "INFO: " not in output  # Lightning's own console format
    assert (run_dir / "train.log").read_text().count("`Trainer.fit` stopped") == 1


@pytest.mark.parametrize("library", ["xgb", "lgbm"])
@pytest.mark.parametrize("task", ["binary", "ranking"])
def test_boosting_fit_reports_every_round_and_sorts_ranking_rows_by_query(library: str, task: str) -> None:
    """xgb and lgbm share one ``fit``: each round is reported once, ranking rows reach the
    library grouped by query (unsorted query ids here), and the graph equals the model."""
    from pathlib import Path

    from omegaconf import OmegaConf

    from tabpipe.config.construct import build
    from tabpipe.config.schema import LGBMModelConfig, XGBModelConfig
    from tabpipe.export import runtime
    from tabpipe.export.converters import model_graph
    from tabpipe.models.base import FitData, RunContext

    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3)).astype(np.float32)
    groups = rng.permutation(np.repeat(np.arange(12), 10))  # each query's rows scattered
    y = (X[:, 0] > 0).astype(float) if task == "binary" else np.clip(np.round(X[:, 0] + 1), 0, 3)
    steps: list[int] = []
    data = FitData(
        X, y, X, y, task, 2 if task == "binary" else 0, ["a", "b", "c"],
        on_metrics=[lambda metrics, step: steps.append(step)], groups_train=groups, groups_val=groups,
    )  # fmt: skip
    trainer = OmegaConf.create({"accelerator": "cpu", "fast_dev_run": False})
    schema = XGBModelConfig if library == "xgb" else LGBMModelConfig  # the defaults live there
    model = build(schema(n_estimators=5, early_stopping_rounds=50, n_jobs=1), "model")
    model.fit(data, RunContext(0, trainer, None, Path(".")))
    assert steps == list(range(5)) and model.rounds_trained() == 5
    scores = runtime.run(runtime.session(model_graph(model, 3)), {"features": X})["scores"]
    native = model.predict(X)
    expected = native[:, 1] if task == "binary" else native
    got = scores[:, 1] if task == "binary" else scores.reshape(-1)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_kfold_lightning_folds_keep_and_restore_their_own_checkpoints(train) -> None:
    """Each fold's ModelCheckpoint writes into its own folder: each fold's weights are those
    of its own best file, and its ``last.ckpt`` (what ``ckpt_path`` resumes) is its own, not
    the next fold's. (One epoch: a fold's best, last and final weights are then the same.)"""
    import torch

    def weights(path: Path) -> dict:
        return torch.load(path, map_location="cpu", weights_only=False)["state_dict"]

    quick = ["trainer.max_epochs=1", "eval.plots=false", "eval.segments.enabled=false", "logger=none"]
    result = train(["model=mlp", "split=kfold", "split.n_folds=2", *quick])
    for fold in result.folds:
        folder = result.output_dir / "checkpoints" / f"fold_{fold.fold}"
        best = Path(fold.model.best_checkpoint_)
        assert best.parent == folder, best
        restored = fold.model.module_.state_dict()
        for saved in (weights(best), weights(folder / "last.ckpt")):
            assert saved.keys() == restored.keys()
            assert all(torch.equal(saved[key], restored[key]) for key in saved), f"fold {fold.fold}"

    # ckpt_path=<run>/checkpoints/last.ckpt resumes each fold from its own fold_<k>/last.ckpt
    last = result.output_dir / "checkpoints" / "last.ckpt"
    resume = ["model=mlp", "split=kfold", "split.n_folds=2", *quick[:-1], "logger=csv", f"ckpt_path={last}"]
    resumed = train([*resume, "trainer.max_epochs=2"])
    history = pd.read_csv(resumed.output_dir / "csv" / "metrics.csv")
    for fold in (0, 1):  # epoch 0 came from the fold's own checkpoint: only epoch 1 is trained
        assert history[history["name"].str.startswith(f"fold_{fold}/")]["step"].unique().tolist() == [1]
    (last.parent / "fold_1" / "last.ckpt").unlink()
    with pytest.raises(ConfigError, match=r"resumes fold 1 from its own checkpoint .*fold_1/last\.ckpt"):
        train([*resume, "trainer.max_epochs=2"])
