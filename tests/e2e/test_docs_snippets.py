"""The tutorials' commands run as a reader runs them: every block marked runnable
(``<!-- runnable -->`` before its fence), page after page in the nav's order, in one fresh copy
of the project, so that the pages cannot drift from what tabpipe does.

The pages build on each other (the first tutorial registers ``telco_churn:1``, which the
deploy tutorial promotes), so they share one project; a page whose blocks fail names the block.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from docs_pages import Block, nav_section, runnable_blocks
from helpers import ROOT, cli_env

TUTORIALS = nav_section("Tutorials")
# a tutorial with no runnable block says why here
NOT_RUN = {
    "dvc-pipeline.md": "dvc repro trains the default model in five stage processes (minutes); "
    "tests/e2e/test_dvc_pipeline.py runs the pipeline, exp run and push/pull",
}


def _reader_env(project: Path) -> dict[str, str]:
    """A reader's shell: the venv's `python` and `tabpipe` first on PATH, this checkout's
    sources, offline W&B, and the project's own registry (not the tests' shared one)."""
    env = cli_env()
    env.pop("TABPIPE_REGISTRY", None)
    env.pop("WANDB_API_KEY", None)
    env.update(
        PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
        WANDB_MODE="offline",
        OMP_NUM_THREADS="1",
        # the project's conf/ (a sweep writes its best-params experiment there)
        TABPIPE_CONF_DIR=str(project / "conf"),
    )
    return env


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh copy of what a reader's checkout holds for the tutorials: conf/ and train.py."""
    root = tmp_path_factory.mktemp("reader")
    shutil.copytree(ROOT / "conf", root / "conf", ignore=shutil.ignore_patterns("*_best.yaml"))
    shutil.copy2(ROOT / "train.py", root / "train.py")
    return root


def _run(block: Block, project: Path, number: int) -> subprocess.CompletedProcess:
    if block.language == "python":
        script = project / f"snippet_{block.page.stem}_{number}.py"
        script.write_text(block.code)
        command = [sys.executable, str(script)]
    else:
        command = ["bash", "-euo", "pipefail", "-c", block.code]
    return subprocess.run(
        command, cwd=project, env=_reader_env(project), capture_output=True, text=True, timeout=600
    )


def test_every_tutorial_runs_or_says_why() -> None:
    assert TUTORIALS, "mkdocs.yml has no Tutorials section"
    silent = [p.name for p in TUTORIALS if not runnable_blocks(p) and p.name not in NOT_RUN]
    assert silent == [], f"tutorials without a runnable block (mark one, or say why in NOT_RUN): {silent}"


# what each page tells the reader they now have (glob patterns in the project)
LEFT = {
    "first-model.md": ["registry/telco_churn/1/model.onnx"],
    "own-csv.md": ["customers.csv", "conf/data/customers.yaml"],
    "sweep.md": ["conf/experiment/xgb_optuna_best.yaml", "registry/telco_churn/2/model.onnx"],
    "deploy-serve-monitor.md": ["scored.csv", "monitoring/telco_churn/*/report.md"],
}


def test_the_tutorials_run_in_order(project: Path) -> None:
    """One test: each page builds on the ones before it, as a reader goes through them."""
    for page in TUTORIALS:
        if page.name in NOT_RUN:
            continue
        blocks = runnable_blocks(page)
        assert blocks, f"{page.name}: no runnable block"
        for number, block in enumerate(blocks):
            done = _run(block, project, number)
            output = f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
            assert done.returncode == 0, f"{block}\nexit {done.returncode}\n{output}"
        missing = [path for path in LEFT.get(page.name, []) if not list(project.glob(path))]
        assert missing == [], f"{page.name}: the page promises {missing}"
    assert not (ROOT / "conf" / "data" / "customers.yaml").exists()  # written in the copy only
