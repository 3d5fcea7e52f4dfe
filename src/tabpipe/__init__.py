"""tabpipe: declarative, config-driven tabular machine learning.

The Python API (:mod:`tabpipe.api`)::

    import tabpipe

    run = tabpipe.train(["model=lgbm", "seed=7"])      # as `tabpipe train model=lgbm seed=7`
    bundle = tabpipe.load_bundle("telco_churn@production")
    scored = bundle.predict(frame)                    # as `tabpipe predict`
    tabpipe.Registry("registry").promote("telco_churn:3", "production")

Importing the package is cheap on purpose: no ML library is imported here. Each public name
is imported from its module on first use (PEP 562 ``__getattr__``), by a string, so this
module imports nothing of tabpipe's layers either.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> the module that defines it
_EXPORTS = {
    "train": "tabpipe.api.training",
    "Run": "tabpipe.api.training",
    "load_bundle": "tabpipe.api.bundle",
    "Bundle": "tabpipe.api.bundle",
    "Registry": "tabpipe.api.registry",
    "AliasMove": "tabpipe.export.registry_records",
    "evaluate": "tabpipe.api.reports",
    "compare": "tabpipe.api.reports",
    "monitor": "tabpipe.api.reports",
}

__all__ = [
    "AliasMove",
    "Bundle",
    "Registry",
    "Run",
    "__version__",
    "compare",
    "errors",
    "evaluate",
    "load_bundle",
    "monitor",
    "train",
]

if TYPE_CHECKING:  # for type checkers and IDEs; never run
    from tabpipe import errors
    from tabpipe.api.bundle import Bundle, load_bundle
    from tabpipe.api.registry import Registry
    from tabpipe.api.reports import compare, evaluate, monitor
    from tabpipe.api.training import Run, train
    from tabpipe.export.registry_records import AliasMove


def __getattr__(name: str) -> Any:
    if name == "errors":
        return importlib.import_module("tabpipe.errors")
    if name not in _EXPORTS:
        raise AttributeError(f"module 'tabpipe' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value  # once imported, a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
