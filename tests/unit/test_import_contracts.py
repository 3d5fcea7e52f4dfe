"""The import layers of shared/DESIGN.md hold: ``lint-imports`` (the contracts in
pyproject.toml's ``[tool.importlinter]``) passes on this checkout, and fails when an upward
import is planted, also one made inside a function."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import ROOT

LINT = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"


def _lint_imports(root: Path) -> subprocess.CompletedProcess:
    """``lint-imports`` on the sources under ``root/src`` with ``root/pyproject.toml``."""
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    return subprocess.run(
        [sys.executable, "-c", LINT, "--no-cache", "--no-logo", str(root / "pyproject.toml")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_import_contracts_hold() -> None:
    done = _lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def _copy_sources(tmp_path: Path) -> Path:
    skipped = shutil.ignore_patterns("__pycache__", "*.egg-info")
    shutil.copytree(ROOT / "src", tmp_path / "src", ignore=skipped)
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _plant(root: Path, module: str, imported: str) -> None:
    """Append a function to ``module`` (a dotted name; created if absent) that imports
    ``imported`` when called: an import that only a reader of the whole file sees."""
    path = root / "src" / Path(*module.split(".")).with_suffix(".py")
    path.parent.mkdir(parents=True, exist_ok=True)
    if not (path.parent / "__init__.py").exists():
        (path.parent / "__init__.py").write_text("")
    existing = path.read_text() if path.exists() else ""
    path.write_text(f"{existing}\n\ndef _planted():\n    import {imported}\n\n    return {imported}\n")


@pytest.mark.parametrize(
    ("module", "imported", "message"),
    [
        # the imports this contract removed: a model reaching into export or training
        (
            "tabpipe.models.xgb",
            "tabpipe.export.model_graphs",
            "tabpipe.models is not allowed to import tabpipe.export",
        ),
        (
            "tabpipe.models.lightning",
            "tabpipe.training.reproducibility",
            "tabpipe.models is not allowed to import tabpipe.training",
        ),
        # evaluation needing a model, training reaching up into tuning
        (
            "tabpipe.evaluation.bundle_evaluation",
            "tabpipe.models.ranking",
            "tabpipe.evaluation is not allowed to import tabpipe.models",
        ),
        (
            "tabpipe.training.train",
            "tabpipe.tuning.trial_logger",
            "tabpipe.training is not allowed to import tabpipe.tuning",
        ),
        # serving loads a bundle alone
        ("tabpipe.serving.contract", "tabpipe.models.base", "tabpipe.serving is not allowed to import"),
        # two siblings of one layer that must stay independent
        (
            "tabpipe.monitoring.drift",
            "tabpipe.evaluation.metrics",
            "tabpipe.monitoring is not allowed to import tabpipe.evaluation",
        ),
        # the per-task strategies are a leaf (layer 0)
        (
            "tabpipe.tasks.planted",
            "tabpipe.evaluation.metrics",
            "tabpipe.tasks is not allowed to import tabpipe.evaluation",
        ),
        # the Python API sits above the CLI (it reuses the CLI's checks), never below it
        ("tabpipe.cli.registry", "tabpipe.api.bundle", "tabpipe.cli is not allowed to import tabpipe.api"),
        # a cycle between two modules of one package (data.splits <-> data.group_splits was one)
        ("tabpipe.data.partition", "tabpipe.data.splits", "No cycles are allowed in tabpipe.data"),
    ],
)
def test_an_upward_import_inside_a_function_breaks_the_build(
    tmp_path: Path, module: str, imported: str, message: str
) -> None:
    root = _copy_sources(tmp_path)
    _plant(root, module, imported)
    done = _lint_imports(root)
    assert done.returncode == 1, done.stdout + done.stderr
    assert message in done.stdout, done.stdout


def test_the_converter_registry_imports_no_model_library() -> None:
    """Export knows the model types by name: the training path of ``model=xgb`` (training,
    the converters, the tree and baseline models) imports neither torch nor Lightning."""
    modules = "tabpipe.training.train tabpipe.export.converters tabpipe.models.xgb tabpipe.models.baseline"
    code = (
        f"import importlib, sys\nfor m in {modules.split()!r}: importlib.import_module(m)\n"
        "print(sorted(m for m in ('torch', 'lightning', 'pytorch_lightning') if m in sys.modules))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
