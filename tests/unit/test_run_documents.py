"""The documents read back outside the bundle loader, each through its model (no training):
a run directory's metadata.json (``check-run``, ``reproduce``), the prediction log's lines,
the registry's alias history and deletions, a sweep's optimization_results.yaml, and the
threshold, gates and ranking baseline inside the bundle's evaluation record. Each: what the
writer wrote reads back typed, a file written before the model existed still reads, and a
malformed one is refused in one line naming the file and the field."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import pytest
import yaml
from omegaconf import OmegaConf

from tabpipe.documents.metadata import BaselineRanker, GateResult, MetadataDocument, ThresholdChoice
from tabpipe.errors import ConfigError, IncompleteRunError
from tabpipe.export.registry import Registry, RegistryError
from tabpipe.monitoring.current_data import read_prediction_log
from tabpipe.serving.observability import PredictionLog
from tabpipe.tracking.reproduce import provenance_warnings, replay_overrides
from tabpipe.tracking.run_check import check_run
from tabpipe.tuning.summary import SweepSummary

GATE = {
    "reference": "baseline",
    "metric": "test/auc",
    "model": 0.84,
    "value": 0.5,
    "min_improvement": 0.0,
    "enforced": True,
    "message": "baseline gate: ...",
    "passed": True,
}
THRESHOLD = {
    "strategy": "f1",
    "value": 0.31,
    "f1_optimal": 0.31,
    "cost_optimal": 0.2,
    "cost": {"tp": 0.0, "fp": 1.0, "fn": 5.0, "tn": 0.0},
    "chosen_on": "val",
}


def _run_dir(tmp_path: Path) -> Path:
    """A run directory as training wrote it before its metadata had a model (no
    ``format_version``; the evaluation record's threshold and gates plain objects)."""
    run_dir = tmp_path / "run"
    (run_dir / "model").mkdir(parents=True)
    files = {"metrics.json": '{"test/auc": 0.84}', "model/model.onnx": "graph"}
    for name, text in files.items():
        (run_dir / name).write_text(text)
    metadata = {
        "config": {"seed": 7, "model": {"_target_": "tabpipe.models.xgb.XGBModel"}},
        "seed": 7,
        "hydra": {"overrides": ["model=xgb", "seed=7", "registry.name=churn"], "cwd": "/x", "mode": "RUN"},
        "task": "binary",
        "classes": ["No", "Yes"],
        "dataset": {"uri": "churn.csv", "sha256": "ab" * 32, "dvc_md5": None, "n_rows": 9, "n_columns": 3},
        "splits": [
            {
                "fold": None,
                "train": 5,
                "val": 2,
                "test": 2,
                "row_ids_sha256": dict.fromkeys(("train", "val", "test"), "h"),
            }
        ],
        "git": {"commit": "c0ffee", "dirty": False},
        "packages": {"xgboost": "3.1"},
        "platform": {"python": "3.12"},
        "device": {"accelerator": "cpu"},
        "started_at": "2026-12-03T10:00:00+00:00",
        "ended_at": "2026-12-03T10:01:00+00:00",
        "duration_s": 60.0,
        "metrics": {"test/auc": 0.84, "test/brier": math.nan},
        "artifacts": {
            n: {"sha256": hashlib.sha256(t.encode()).hexdigest(), "bytes": len(t)} for n, t in files.items()
        },
        "evaluation": [{"threshold": THRESHOLD, "baseline_values": [0.26], "gates": [GATE]}],
        "parity": [],
    }
    (run_dir / "metadata.json").write_text(json.dumps(metadata))
    return run_dir


def _edit(run_dir: Path, change) -> None:
    path = run_dir / "metadata.json"
    raw = json.loads(path.read_text())
    change(raw)
    path.write_text(json.dumps(raw))


def test_check_run_reads_the_typed_metadata_and_names_every_problem(tmp_path: Path) -> None:
    run_dir = _run_dir(tmp_path)
    ok = check_run(run_dir)
    assert isinstance(ok.metadata, MetadataDocument) and ok.metadata.format_version == 1  # migrated
    assert ok.summary == f"ok: {run_dir}: 2 artifacts verified, 2 metrics, seed 7, dataset sha256 {'ab' * 6}"

    (run_dir / "model" / "model.onnx").write_text("changed")
    _edit(run_dir, lambda raw: raw["dataset"].pop("sha256"))
    with pytest.raises(IncompleteRunError) as caught:
        check_run(run_dir)
    assert caught.value.problems == [
        f"check-run {run_dir}: metadata.json: dataset.sha256 (dataset hash) is missing",
        f"check-run {run_dir}: artifact model/model.onnx: sha256 differs from the recorded one "
        "(changed after the run)",
    ]

    _edit(run_dir, lambda raw: raw.update(seed="seven", git={}, ended_at=None))
    with pytest.raises(IncompleteRunError) as caught:
        check_run(run_dir)
    problems = "\n".join(caught.value.problems)
    assert "metadata.json: field seed: Input should be a valid integer" in problems


def test_check_run_names_entries_that_must_be_present_even_when_null(tmp_path: Path) -> None:
    run_dir = _run_dir(tmp_path)
    _edit(run_dir, lambda raw: raw.update(git={}, ended_at=None, splits=[{"train": 1, "val": 1, "test": 1}]))
    with pytest.raises(IncompleteRunError) as caught:
        check_run(run_dir)
    assert [p.split(": metadata.json: ", 1)[1] for p in caught.value.problems] == [
        "ended_at (end time) is missing",
        "git.commit (git commit) is missing",
        "git.dirty (git dirty flag) is missing",
        "splits[fold=None].row_ids_sha256.train is missing",
        "splits[fold=None].row_ids_sha256.val is missing",
        "splits[fold=None].row_ids_sha256.test is missing",
    ]


def test_reproduce_replays_and_compares_the_typed_metadata(tmp_path: Path) -> None:
    recorded = check_run(_run_dir(tmp_path)).metadata
    assert replay_overrides(recorded) == ["model=xgb", "seed=7", "registry.name=null"]
    now = recorded.model_copy(
        update={"git": recorded.git.model_copy(update={"commit": "beef", "dirty": True})}
    )
    assert provenance_warnings(now, recorded) == [
        "git commit differs: recorded beef, now c0ffee",
        "the recorded run had uncommitted changes: its code is not fully known",
    ]


def test_the_evaluation_record_types_threshold_gates_and_ranker(tmp_path: Path) -> None:
    metadata = check_run(_run_dir(tmp_path)).metadata
    record = metadata.first_evaluation
    assert isinstance(record.threshold, ThresholdChoice) and record.threshold.cost.fn == 5.0
    assert isinstance(record.gates[0], GateResult) and record.gates[0].passed
    assert metadata.to_json()["evaluation"][0]["threshold"] == THRESHOLD  # written back unchanged
    ranked = MetadataDocument.model_validate(
        json.loads((tmp_path / "run" / "metadata.json").read_text())
        | {
            "evaluation": [
                {
                    "baseline_ranker": {
                        "feature_index": 2,
                        "feature": "tenure",
                        "sign": -1.0,
                        "train_ndcg": 0.7,
                    }
                }
            ]
        }
    )
    assert ranked.first_evaluation.baseline_ranker == BaselineRanker(
        feature_index=2, feature="tenure", sign=-1.0, train_ndcg=0.7
    )


def test_prediction_log_lines_are_written_and_read_through_one_model(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    log = PredictionLog(str(path), 10_000, 1)
    line = {
        "ts": "2026-12-03T10:00:00+00:00",
        "request_id": "r1",
        "model": "churn",
        "version": "3",
        "arm": "a",
    }
    answered = {
        **line,
        "latency_ms": 1.5,
        "inputs": [{"tenure": 3.0}],
        "outputs": [{"label": "Yes", "probabilities": {"No": 0.2, "Yes": 0.8}}],
    }
    from tabpipe.documents.prediction_log import PredictionLogLine

    log.write(PredictionLogLine.model_validate(answered))
    log.write(
        PredictionLogLine.model_validate(
            {**line, "arm": "shadow", "shadow": True, "outputs": [{"label": "No"}]}
        )
    )
    log.write_error("timeout", 504, request_id="r2")
    log.close()
    written = [json.loads(text) for text in path.read_text().splitlines()]
    assert written[0] == answered  # the shape the lines had before the model: only what was set
    assert set(written[2]) == {"ts", "error", "status", "request_id"}
    # a line of an older server (naive timestamp, a field this tabpipe does not know) reads
    with path.open("a") as handle:
        handle.write(
            json.dumps(
                {
                    "ts": "2026-12-03T11:00:00",
                    "version": "3",
                    "inputs": [{"tenure": 5.0}],
                    "outputs": [{"label": "No"}],
                    "colour": "red",
                }
            )
            + "\n"
        )
        handle.write(
            json.dumps({"ts": "2026-12-03T11:00:00", "inputs": [{"tenure": 5.0}], "latency_ms": "slow"})
            + "\n"
        )
    data = read_prediction_log(path, None, "3")
    assert data.frame["tenure"].tolist() == [3.0, 5.0]
    assert (
        data.predictions["label"].tolist() == ["Yes", "No"] and data.predictions["proba_Yes"].iloc[0] == 0.8
    )
    assert data.serving.answered == 2 and data.serving.errors_by_kind == {"timeout": 1}
    assert data.serving.unreadable_lines == 1  # latency_ms not a number: counted, not used
    assert data.serving.first == "2026-12-03T10:00:00+00:00"


def test_registry_records_read_typed_old_lines_and_refuse_a_bad_one(tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    model_dir = tmp_path / "churn"
    model_dir.mkdir()
    old_move = {
        "alias": "production",
        "from": None,
        "to": 1,
        "who": "alice",
        "when": "2026-01-01T00:00:00+00:00",
    }
    noted = {**old_move, "from": 1, "to": 2, "source_run": "/runs/2", "significance": {"significant": True}}
    (model_dir / "alias_history.jsonl").write_text(json.dumps(old_move) + "\n" + json.dumps(noted) + "\n")
    (model_dir / "deletions.jsonl").write_text(
        json.dumps({"version": 3, "who": "bob", "when": "x", "reason": "gc --keep 1"}) + "\n"
    )
    history = registry.history("churn")
    assert [(m.alias, m.from_, m.to, m.who) for m in history] == [
        ("production", None, 1, "alice"),
        ("production", 1, 2, "alice"),
    ]
    assert history[1].source_run == "/runs/2" and history[1].significance == {"significant": True}
    assert history[1].to_json() == noted  # written back as read
    assert [(d.version, d.reason) for d in registry.deletions("churn")] == [(3, "gc --keep 1")]

    with (model_dir / "alias_history.jsonl").open("a") as handle:
        handle.write(json.dumps({**old_move, "to": "latest"}) + "\n")
    with pytest.raises(RegistryError) as caught:
        registry.history("churn")
    assert (
        str(caught.value) == f"{model_dir / 'alias_history.jsonl'}: line 3: field to: "
        "Input should be a valid integer, unable to parse string as an integer"
    )
    (model_dir / "deletions.jsonl").write_text("{not json\n")
    with pytest.raises(RegistryError, match=r"deletions.jsonl: line 1 is not JSON$"):
        registry.deletions("churn")


SUMMARY = {
    "name": "optuna",
    "study_name": "xgb_optuna",
    "storage": "sqlite:///optuna.db",
    "direction": "maximize",
    "optimized_metric": "val/auc",
    "n_trials": 4,
    "trials": {"complete": 3, "pruned": 0, "failed": 1, "interrupted": 0, "running": 0, "waiting": 0},
    "best_trial": 2,
    "best_value": 0.84,
    "best_params": {"model.max_depth": 4},
    "best_run_dir": "/sweep/2",
    "best_experiment": {
        "file": "conf/experiment/xgb_optuna_best.yaml",
        "command": "python train.py experiment=xgb_optuna_best",
    },
    "dashboard": "optuna-dashboard sqlite:///optuna.db",
}


def test_the_sweep_summary_round_trips_and_an_older_file_reads(tmp_path: Path) -> None:
    old = tmp_path / "optimization_results.yaml"
    old.write_text(OmegaConf.to_yaml(OmegaConf.create(SUMMARY)))  # as the sweeper wrote it before
    summary = SweepSummary.read(old)
    assert summary.trials.failed == 1 and summary.best_experiment.command.endswith("xgb_optuna_best")
    again = summary.write(tmp_path / "again.yaml")
    assert yaml.safe_load(again.read_text()) == SUMMARY and list(yaml.safe_load(again.read_text())) == list(
        SUMMARY
    )
    old.write_text(yaml.safe_dump({**SUMMARY, "trials": {"complete": "many"}}))
    with pytest.raises(
        ConfigError,
        match=r"optimization_results.yaml: field trials.complete: Input should be a valid integer",
    ):
        SweepSummary.read(old)
