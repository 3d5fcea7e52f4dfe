"""The Python API's surface: ``import tabpipe`` stays cheap, every public name resolves lazily
and is documented, overrides given as Python values become the command line's, and every
error the API raises is a class of :mod:`tabpipe.errors`."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys

import pytest

import tabpipe
from helpers import ML_LIBRARIES, ROOT, imported_modules


def test_import_tabpipe_imports_no_ml_library() -> None:
    """The names are listed and the errors module reached without importing an ML library
    (nor numpy, Hydra or the API's modules): the exports are resolved on first use."""
    code = "import tabpipe; tabpipe.__all__; dir(tabpipe); tabpipe.errors.ConfigError"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert not imported_modules(done.stderr) & {*ML_LIBRARIES, "numpy", "hydra", "omegaconf", "pydantic"}
    assert "tabpipe.api" not in done.stderr


def test_every_public_name_resolves_and_is_documented() -> None:
    assert set(tabpipe.__all__) <= set(dir(tabpipe))
    for name in tabpipe.__all__:
        value = getattr(tabpipe, name)
        if name == "__version__":
            continue
        assert inspect.getdoc(value), f"tabpipe.{name} has no docstring"
        if inspect.isfunction(value):
            hints = value.__annotations__
            assert "return" in hints, f"tabpipe.{name} has no return type"
    assert tabpipe.errors.RegistryError.__module__ == "tabpipe.errors"
    with pytest.raises(AttributeError, match="no attribute 'trian'"):
        tabpipe.trian  # noqa: B018


def test_the_errors_the_api_raises_are_the_classes_of_tabpipe_errors() -> None:
    """A caller catches ``tabpipe.errors.X``; the modules that raise them re-export the same class."""
    from tabpipe.comparison.promotion import SignificanceGateError
    from tabpipe.export.bundle import BundleError
    from tabpipe.export.documents import DocumentError
    from tabpipe.export.parity import ParityError
    from tabpipe.export.registry import RegistryError
    from tabpipe.export.signing import SignatureError

    errors = tabpipe.errors
    assert (
        BundleError,
        DocumentError,
        ParityError,
        RegistryError,
        SignatureError,
        SignificanceGateError,
    ) == (
        errors.BundleError,
        errors.DocumentError,
        errors.ParityError,
        errors.RegistryError,
        errors.SignatureError,
        errors.SignificanceGateError,
    )
    assert (errors.RegistryError.exit_code, errors.ParityError.exit_code) == (2, 5)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (["model=lgbm", "seed=7"], ["model=lgbm", "seed=7"]),
        ({"model": "lgbm", "seed": 7}, ["model=lgbm", "seed=7"]),
        (
            {"model": {"max_depth": 4, "learning_rate": 0.05}},
            ["model.max_depth=4", "model.learning_rate=0.05"],
        ),
        (
            {"tags": ["a", "b"], "registry.name": None, "eval.plots": False},
            ["tags=[a,b]", "registry.name=null", "eval.plots=false"],
        ),
        ({"data.path": "/tmp/my data,v2.csv"}, ["data.path='/tmp/my data,v2.csv'"]),
    ],
)
def test_overrides_given_as_python_values(given, expected) -> None:
    from tabpipe.api.overrides import override_list

    assert override_list(given) == expected


def test_overrides_given_as_one_string_are_refused() -> None:
    from tabpipe.api.overrides import override_list

    with pytest.raises(tabpipe.errors.ConfigError, match=r"^overrides='model=lgbm': give a list"):
        override_list("model=lgbm")
