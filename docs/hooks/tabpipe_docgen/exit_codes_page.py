"""``reference/exit-codes.md``: :data:`tabpipe.errors.EXIT_CODES`, with the error classes
that end a command with each code (found in the sources: a class body's ``exit_code = N``)."""

from __future__ import annotations

import ast
from pathlib import Path

from tabpipe_docgen.markdown import code, table


def error_classes(src: Path) -> dict[str, int]:
    """``{module.Class: N}`` for every class under ``src`` whose body sets ``exit_code = N``."""
    found: dict[str, int] = {}
    for path in sorted(src.rglob("*.py")):
        module = ".".join(path.relative_to(src).with_suffix("").parts).removesuffix(".__init__")
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.ClassDef):
                continue
            for item in node.body:
                target = item.targets[0] if isinstance(item, ast.Assign) and len(item.targets) == 1 else None
                if target is None and isinstance(item, ast.AnnAssign):
                    target = item.target
                value = getattr(item, "value", None)
                if (
                    isinstance(target, ast.Name)
                    and target.id == "exit_code"
                    and isinstance(value, ast.Constant)
                ):
                    found[f"{module}.{node.name}"] = value.value
    return found


def render(src: Path) -> str:
    from tabpipe.errors import EXIT_CODES

    raised: dict[int, list[str]] = {}
    for name, number in error_classes(src).items():
        raised.setdefault(number, []).append(code(name.rsplit(".", 1)[1]))
    rows = [
        (number, entry.meaning, ", ".join(raised.get(number, []))) for number, entry in EXIT_CODES.items()
    ]
    return "\n".join(
        [
            "# Exit codes",
            "",
            "Every `tabpipe` command (and `python train.py`) ends with one of these codes. Generated",
            "from `tabpipe.errors.EXIT_CODES`, the one list in the code; the errors are the",
            "`tabpipe.errors.TabpipeError` subclasses that end a command with each code.",
            "",
            table(("code", "meaning", "errors"), rows),
            "",
        ]
    )
