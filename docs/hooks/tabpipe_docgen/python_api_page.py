"""``reference/python-api.md``: mkdocstrings directives for every public name of the package
(``tabpipe.__all__``), grouped by the module that defines it, then the errors and the bundle
documents. A name added to ``__all__`` gets its entry at the next build."""

from __future__ import annotations

import importlib
import inspect
from types import ModuleType

from tabpipe_docgen.markdown import prose

_INTRO = """# Python API

Rendered from the docstrings at every docs build (mkdocstrings): every public name of
`tabpipe` (its `__all__`), then the errors and the bundle documents. `import tabpipe` imports
no ML library: each name is loaded from its module on first use.
"""

_ERRORS = """## Errors

Every error is a `tabpipe.errors.TabpipeError`: its message is the one line the command line
shows, and its `exit_code` the command's [exit code](exit-codes.md).

::: tabpipe.errors
    options:
      show_root_heading: false
      show_root_toc_entry: false
      filters: ["!^_", "!^first_line$", "!^error_line$", "!^printable_line$", "!EXIT_CODE", "!^ExitCode$"]
"""

_DOCUMENTS = """## Bundle documents

The typed documents of a bundle (see the [bundle format](bundle-format.md)).

::: tabpipe.export.documents
    options:
      show_root_heading: false
      show_root_toc_entry: false
      members:
        - FORMAT_VERSION
        - SchemaDocument
        - InputColumn
        - OutputTensor
        - MetadataDocument
        - ProfileDocument
        - migrate
"""


def public_names(package: ModuleType) -> dict[str, list[str]]:
    """``{defining module: [public names]}`` of ``package.__all__``: functions before classes,
    each in ``__all__`` order; submodules and constants (``__version__``) left out. The modules
    come in the order the package's docstring first names one of their names (its tour), then
    in ``__all__`` order."""
    grouped: dict[str, list[tuple[bool, int, str]]] = {}
    for index, name in enumerate(getattr(package, "__all__", [])):
        obj = getattr(package, name)
        if not (inspect.isclass(obj) or inspect.isroutine(obj)):  # a submodule, a constant
            continue
        grouped.setdefault(obj.__module__, []).append((inspect.isclass(obj), index, name))
    doc = package.__doc__ or ""

    def first_named(names: list[tuple[bool, int, str]]) -> tuple[int, int]:
        found = [at for *_, name in names if (at := doc.find(f"{package.__name__}.{name}(")) >= 0]
        return (min(found) if found else len(doc), min(index for _, index, _ in names))

    ordered = sorted(grouped.items(), key=lambda item: first_named(item[1]))
    return {module: [name for *_, name in sorted(names)] for module, names in ordered}


def _summary(module: str) -> str:
    """The first paragraph of the module's docstring, as Markdown."""
    doc = inspect.getdoc(importlib.import_module(module)) or ""
    return prose(doc.split("\n\n", 1)[0])


def render() -> str:
    import tabpipe

    out = [_INTRO]
    for module, names in public_names(tabpipe).items():
        out += [f"## {module.rsplit('.', 1)[-1].replace('_', ' ').capitalize()}", "", _summary(module), ""]
        out += [f"::: tabpipe.{name}\n" for name in names]
    return "\n".join([*out, _ERRORS, _DOCUMENTS])
