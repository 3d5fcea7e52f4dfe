"""tabpipe's errors survive pickling (a joblib worker or a parallel launcher's job sends them back
to the parent pickled) with their fields, message and exit code."""

from __future__ import annotations

import ast
import importlib
import pickle
from pathlib import Path

import pytest

from tabpipe.errors import DataValidationError, IncompleteRunError, ProblemsError, TabpipeError

# the modules that define the other TabpipeError subclasses
_DEFINING = (
    "tabpipe.comparison.promotion",
    "tabpipe.export.bundle",
    "tabpipe.export.parity",
    "tabpipe.export.registry",
    "tabpipe.export.signing",
    "tabpipe.tuning.sweep",
)


def _subclasses(cls: type) -> set[type]:
    return {sub for direct in cls.__subclasses__() for sub in {direct, *_subclasses(direct)}}


def _every_error() -> list[type]:
    for module in _DEFINING:
        importlib.import_module(module)
    found = sorted(_subclasses(TabpipeError) | {TabpipeError}, key=lambda c: f"{c.__module__}.{c.__name__}")
    assert {DataValidationError, IncompleteRunError} <= set(found) and len(found) >= 12
    return found


@pytest.mark.parametrize("cls", _every_error(), ids=lambda c: c.__name__)
def test_every_tabpipe_error_pickles_with_its_fields(cls: type) -> None:
    if issubclass(cls, ProblemsError):
        error = cls(["data.target='churn': column not found", "data.path: file not found"])
    else:
        error = cls("model.max_depth=-1: out of range; must be >= 0")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is cls and str(copy) == str(error) and copy.exit_code == error.exit_code
    assert vars(copy) == vars(error) and copy.args == error.args
    if issubclass(cls, ProblemsError):
        assert copy.problems == ["data.target='churn': column not found", "data.path: file not found"]


SRC = Path(__file__).resolve().parents[2] / "src"


def _literal_exit_codes() -> dict[str, int]:
    """``{file:line: N}`` for every ``sys.exit(N)`` (or ``exit(N)``) with a literal N under src/."""
    found = {}
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            literals = [n.value for n in ast.walk(node.args[0]) if isinstance(n, ast.Constant)]
            if name == "exit" and literals and all(isinstance(v, int) for v in literals):
                found.update({f"{path.relative_to(SRC)}:{node.lineno}": v for v in literals})
    return found


def test_every_exit_code_the_sources_use_is_in_the_one_documented_list() -> None:
    """EXIT_CODES is the single source (the docs' exit-code page and ``train --help`` are made
    from it): every error's code, every literal ``sys.exit(N)`` and the drift alert's code are in it."""
    from tabpipe.errors import EXIT_CODES
    from tabpipe.monitoring import DRIFT_ALERT_EXIT_CODE

    errors = {f"{cls.__module__}.{cls.__name__}": cls.exit_code for cls in _every_error()}
    literals = _literal_exit_codes()
    assert literals and {"tabpipe/cli/main.py", "tabpipe/cli/registry.py"} <= {
        k.split(":")[0] for k in literals
    }
    undocumented = {where: code for where, code in {**errors, **literals}.items() if code not in EXIT_CODES}
    assert undocumented == {}, "add them to tabpipe.errors.EXIT_CODES"
    assert DRIFT_ALERT_EXIT_CODE in EXIT_CODES and sorted(EXIT_CODES) == list(range(len(EXIT_CODES)))
    assert all(entry.short and entry.meaning for entry in EXIT_CODES.values())


def test_train_help_lists_the_exit_codes_from_the_list() -> None:
    from tabpipe.cli.groups import help_text
    from tabpipe.errors import EXIT_CODES, TRAIN_EXIT_CODES

    text = " ".join(help_text("tabpipe train", "recipes").split())
    for code in TRAIN_EXIT_CODES:
        assert f"{code} {EXIT_CODES[code].short}" in text
