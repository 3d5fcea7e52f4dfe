"""tabpipe's errors survive pickling (a joblib worker or a parallel launcher's job sends them back
to the parent pickled) with their fields, message and exit code."""

from __future__ import annotations

import importlib
import pickle

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
