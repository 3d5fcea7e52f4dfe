"""`tabpipe compare` on real runs and bundles, and `tabpipe registry promote
--require-significant` refusing a non-improvement and accepting a clear one."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from helpers import QUICK, cli_env, compose_config
from tabpipe.comparison.compare import compare
from tabpipe.errors import ConfigError

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict:
    """Churn: the baseline (v1) and xgb (v2) registered in one registry; two 3-fold runs;
    a ranking pair."""
    from tabpipe.training.train import run_training

    root = tmp_path_factory.mktemp("compare")
    recipes = {
        "baseline": ["model=baseline", "eval.require_beat_baseline=false"],
        "xgb": ["model=xgb", "model.n_estimators=40"],
        "kfold_baseline": [
            "model=baseline",
            "split=kfold",
            "split.n_folds=3",
            "eval.require_beat_baseline=false",
        ],
        "kfold_linear": ["model=linear", "split=kfold", "split.n_folds=3"],
        "rank_baseline": ["data=telco_cohorts", "model=baseline", "eval.require_beat_baseline=false"],
        "rank_xgb": ["data=telco_cohorts", "model=xgb", "model.n_estimators=40"],
    }
    results = {
        name: run_training(compose_config([*QUICK, *o, "seed=0"], root / name)) for name, o in recipes.items()
    }
    return {"root": root, "registry": root / "registry", **results}


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tabpipe.cli.main", *args],
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_compare_two_runs_on_the_same_test_rows(runs, tmp_path: Path) -> None:
    baseline, xgb = runs["baseline"], runs["xgb"]
    output = tmp_path / "comparison.json"
    done = _cli("compare", str(baseline.output_dir), str(xgb.output_dir), "--output", str(output))
    assert done.returncode == 0, done.stderr
    verdict = next(line for line in done.stdout.splitlines() if line.startswith("verdict:"))
    assert re.fullmatch(
        r"verdict: B is significantly better on auc \(decided by the paired bootstrap: "
        r"95% CI of B - A \[\+0\.\d{4}, \+0\.\d{4}\] excludes 0\)",
        verdict,
    )
    assert "-> B significantly better: agrees with the verdict" in done.stdout  # McNemar
    result = json.loads(output.read_text())
    n_test = len(pd.read_parquet(xgb.output_dir / "predictions" / "test.parquet"))
    assert result["rows"]["count"] == n_test and "identical test splits" in result["rows"]["which"]
    # the graphs re-scored on the rebuilt rows give exactly the training-time test metrics
    for side, run in (("a", baseline), ("b", xgb)):
        for name, value in result["metrics"][side].items():
            assert value == pytest.approx(run.metrics[f"test/{name}"], abs=1e-12), (side, name)
    boot = result["bootstrap"]
    assert boot["estimate"] == pytest.approx(
        xgb.metrics["test/auc"] - baseline.metrics["test/auc"], abs=1e-12
    )
    assert 0 < boot["low"] < boot["estimate"] < boot["high"] and result["better"] == "b"
    assert sum(result["mcnemar"]["table"].values()) == n_test
    assert result["fold_ttest"]["available"] is False


def test_compare_accepts_registry_refs_and_is_deterministic(runs) -> None:
    registry = str(runs["registry"])
    first = compare("telco_churn:1", "telco_churn:2", registry, n_resamples=500)
    again = compare("telco_churn:1", str(runs["xgb"].output_dir / "bundle"), registry, n_resamples=500)
    assert first.bootstrap == again.bootstrap
    assert first.a.kind == "bundle" and first.a.label == "telco_churn:1"


def test_compare_kfold_runs_adds_the_fold_ttest(runs) -> None:
    result = compare(
        str(runs["kfold_baseline"].output_dir), str(runs["kfold_linear"].output_dir), n_resamples=500
    )
    assert result.rows.count == 7043 and "identical held-out rows" in result.rows.which
    fold = result.fold_ttest
    assert fold.available and fold.folds == 3
    assert fold.b == [runs["kfold_linear"].metrics[f"fold_{k}/test/auc"] for k in range(3)]
    assert fold.t > 0 and fold.p_value < 0.05  # linear beats class priors on every fold
    assert result.verdict.decided_by == "paired bootstrap" and result.better == "b"
    standing = {o.test: (o.favours, o.agrees) for o in result.verdict.other_tests}
    assert standing == {"McNemar": ("b", True), "fold t-test": ("b", True)}


def test_compare_shows_a_test_that_disagrees_with_the_verdict(runs) -> None:
    """The issue's contradiction: the bootstrap finds B better while the fold means favour A."""
    from tabpipe.comparison.table import format_comparison
    from tabpipe.comparison.verdict import verdict_record

    result = compare(
        str(runs["kfold_baseline"].output_dir), str(runs["kfold_linear"].output_dir), n_resamples=500
    )
    result.fold_ttest = result.fold_ttest.model_copy(
        update={"mean_difference": -0.0016, "t": -0.9, "p_value": 0.43}
    )
    result.verdict = verdict_record(result)
    fold = next(o for o in result.verdict.other_tests if o.test == "fold t-test")
    assert (fold.favours, fold.leans, fold.agrees) == (None, "a", False)
    text = format_comparison(result)
    assert "verdict: B is significantly better on auc (decided by the paired bootstrap" in text
    assert (
        "mean B - A -0.0016, t = -0.9000, p = 0.4300 -> no significant difference (leans A): "
        "DISAGREES with the verdict"
    ) in text
    result.fold_ttest.p_value = 0.01  # now significantly the other way
    result.verdict = verdict_record(result)
    assert "-> A significantly better: DISAGREES with the verdict" in format_comparison(result)


def test_compare_a_kfold_run_with_a_single_split_uses_the_rows_both_held_out(runs) -> None:
    result = compare(str(runs["xgb"].output_dir), str(runs["kfold_linear"].output_dir), n_resamples=500)
    n_test = len(pd.read_parquet(runs["xgb"].output_dir / "predictions" / "test.parquet"))
    assert result.rows.count == n_test and "held out by both" in result.rows.which


def test_compare_ranking_runs_resamples_queries(runs) -> None:
    base, model = runs["rank_baseline"], runs["rank_xgb"]
    result = compare(str(base.output_dir), str(model.output_dir), n_resamples=500, metric="map@10")
    assert result.rows.resampled_unit == "query" and result.mcnemar is None
    assert result.metrics.b["map@10"] == pytest.approx(model.metrics["test/map@10"], abs=1e-12)


def test_compare_refuses_models_of_different_tasks(runs) -> None:
    with pytest.raises(ConfigError, match=r"compare: .* were trained on different data|differ in task"):
        compare(str(runs["xgb"].output_dir), str(runs["rank_xgb"].output_dir))


def test_promote_require_significant_refuses_then_accepts_and_records(runs, capsys) -> None:
    from registry_helpers import registry_cli

    registry = str(runs["registry"])
    base = ["registry", "--root", registry, "promote"]
    # in-process `tabpipe registry promote` (the refusal's exit code is a subprocess's, below)
    assert registry_cli(capsys, *base[1:], "telco_churn:1", "production")[0] == 0  # the baseline holds it

    # a clear improvement (xgb over class priors): accepted, the comparison recorded
    code, out, err = registry_cli(capsys, *base[1:], "telco_churn:2", "production", "--require-significant")
    assert code == 0, err
    assert "telco_churn@production: 1 -> 2" in out
    history = [json.loads(line) for line in (runs["registry"] / "telco_churn" / "alias_history.jsonl").open()]
    record = history[-1]["significance"]
    assert record["holder"] == 1 and record["significant"] and record["metric"] == "auc"
    assert record["ci"][0] > 0 and record["improvement"] == pytest.approx(
        runs["xgb"].metrics["test/auc"] - runs["baseline"].metrics["test/auc"], abs=1e-12
    )

    # back to the baseline is no improvement: refused with one line, exit 3, alias unchanged
    done = _cli(*base, "telco_churn:1", "production", "--require-significant")
    assert done.returncode == 3
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "error: promote refused: telco_churn:1 is not significantly better than telco_churn@production"
    )
    aliases = json.loads((runs["registry"] / "telco_churn" / "aliases.json").read_text())
    assert aliases["production"] == 2
    assert len(list((runs["registry"] / "telco_churn" / "alias_history.jsonl").open())) == len(history)
