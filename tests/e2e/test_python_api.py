"""The Python API from a plain Python script, as a user's notebook or job would call it: every
public function, in a project made by ``tabpipe init`` (the working directory), nothing
written outside it; then ``tabpipe reproduce`` replays the run that ``tabpipe.train`` recorded."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from helpers import cli_env

SCRIPT = """
import json
import pandas as pd
import tabpipe
from tabpipe.errors import ConfigError, DataValidationError, RegistryError

run = tabpipe.train({"model.n_estimators": 10, "logger": "none", "eval.plots": False, "seed": 3})
rows = pd.read_csv("data/telco_churn.csv").sample(300, random_state=0)
features = rows.drop(columns=["churn"])
scored = run.bundle.predict(features)
registry = tabpipe.Registry("registry")
move = registry.promote(run.registered, "production", who="script")
bundle = tabpipe.load_bundle("churn@production")
evaluation = tabpipe.evaluate(bundle, rows, overrides=["eval.plots=false"])
comparison = tabpipe.compare(run.registered, bundle, rows, resamples=200)
drift = tabpipe.monitor(bundle, features)
refused = []
for call in (
    lambda: tabpipe.load_bundle("churn@staging"),
    lambda: bundle.predict(features.drop(columns=["tenure"])),
    lambda: tabpipe.train(["model=nope"]),
):
    try:
        call()
    except (ConfigError, DataValidationError, RegistryError) as error:
        refused.append(f"{type(error).__name__}: {error}")
print("RESULT " + json.dumps({
    "run_dir": str(run.run_dir),
    "registered": run.registered,
    "test_auc": run.metrics["test/auc"],
    "scored": [len(scored), list(scored.columns)],
    "history": [(m.alias, m.to) for m in registry.history("churn")],
    "versions": [(v.name, v.version) for v in registry.list()],
    "ref": bundle.ref,
    "native": bundle.explain("native")["feature"].tolist()[:1],
    "eval": [evaluation.rows, evaluation.metrics["eval/auc"]],
    "compare": [comparison.rows.count, comparison.significant],
    "drift": [drift.status, drift.current.rows],
    "refused": refused,
}))
"""


def test_every_public_function_from_a_plain_script_then_reproduce(tmp_path: Path) -> None:
    project = tmp_path / "project"
    env = cli_env()
    env.pop("TABPIPE_REGISTRY")  # the project's own ./registry
    env["WANDB_MODE"] = "offline"
    init = [sys.executable, "-m", "tabpipe.cli.main", "init", str(project), "--example", "churn"]
    made = subprocess.run(init, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert made.returncode == 0, made.stderr
    scaffold = {p.name for p in project.iterdir()}
    (project / "score.py").write_text(SCRIPT)
    done = subprocess.run(
        [sys.executable, "score.py"], cwd=project, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (line,) = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    result = json.loads(line.removeprefix("RESULT "))
    run_dir = Path(result["run_dir"])
    assert run_dir.parent == project / "logs" / "train" / "runs"
    assert (run_dir / ".hydra" / "overrides.yaml").is_file() and (run_dir / "train.log").is_file()
    assert result["registered"] == "churn:1" and result["ref"] == "churn:1"
    assert result["scored"] == [300, ["customer_id", "label", "proba_No", "proba_Yes"]]
    assert result["history"] == [["production", 1]] and result["versions"] == [["churn", 1]]
    assert result["native"] and result["eval"][0] == 300 and result["compare"] == [300, False]
    assert result["drift"][1] == 300
    assert result["refused"][:2] == [
        "RegistryError: churn@staging: alias 'staging' is not set for model 'churn' (aliases: production)",
        "DataValidationError: column 'tenure': missing from the input",
    ]
    assert result["refused"][2].startswith("ConfigError: model=nope: unknown option; available models: ")
    written = {p.name for p in project.iterdir()} - scaffold
    assert written == {"logs", "monitoring", "registry", "score.py"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["project"]
    metadata = json.loads((run_dir / "metadata.json").read_text())
    assert metadata["hydra"]["overrides"] == [
        "model.n_estimators=10",
        "logger=none",
        "eval.plots=false",
        "seed=3",
    ]

    again = tmp_path / "again"
    reproduced = subprocess.run(
        [sys.executable, "-m", "tabpipe.cli.main", "reproduce", str(run_dir), "--output-dir", str(again)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert reproduced.returncode == 0, reproduced.stdout[-2000:] + reproduced.stderr[-2000:]
    assert "metrics: identical" in reproduced.stdout
    assert json.loads((again / "metadata.json").read_text())["metrics"]["test/auc"] == result["test_auc"]
