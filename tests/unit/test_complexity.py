"""No function is more complex than McCabe 10: ruff's C901 with the project's settings
(pyproject.toml ``[tool.ruff.lint.mccabe]``) passes on the sources and fails on a planted
function of complexity 11; and no function is longer than 50 lines (its docstring not
counted), checked on the AST, refusing a planted one of 51."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from helpers import ROOT

RUFF = Path(sys.executable).with_name("ruff")


def _ruff(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(RUFF), "check", "--output-format", "concise", "--no-cache", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_no_function_is_more_complex_than_ten() -> None:
    done = _ruff("--select", "C90", ROOT / "src", ROOT / "tests")
    assert done.returncode == 0, done.stdout + done.stderr


def _branches(n: int) -> str:
    """A function of McCabe complexity ``n + 1`` (one path, plus one per ``if``)."""
    body = "".join(f"    if x == {i}:\n        return {i}\n" for i in range(n))
    return f"def f(x):\n{body}    return -1\n"


def test_a_function_of_complexity_eleven_is_refused(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())  # its settings
    planted = tmp_path / "planted.py"
    planted.write_text(_branches(9))
    assert _ruff(planted).returncode == 0  # the project's own rule selection
    planted.write_text(_branches(10))
    done = _ruff(planted)
    assert done.returncode == 1 and "C901 `f` is too complex (11 > 10)" in done.stdout, done.stdout


MAX_FUNCTION_LINES = 50


def _docstring_lines(function: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    first = function.body[0]
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        return first.end_lineno - first.lineno + 1
    return 0


def long_functions(root: Path, limit: int = MAX_FUNCTION_LINES) -> list[str]:
    """``path:line name (n lines)`` of every function or method under ``root`` (nested ones
    included) longer than ``limit`` lines, from its ``def`` to its last line, its docstring
    not counted."""
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1 - _docstring_lines(node)
                if lines > limit:
                    found.append(f"{path.relative_to(root)}:{node.lineno} {node.name} ({lines} lines)")
    return found


def test_no_function_is_longer_than_fifty_lines() -> None:
    assert long_functions(ROOT / "src") == []


def _function(lines: int, docstring_lines: int = 0) -> str:
    """A method of ``lines`` lines (its ``def`` line included) after a docstring of
    ``docstring_lines`` lines."""
    docstring = (
        ['        """'] + ["        text"] * (docstring_lines - 2) + ['        """']
        if docstring_lines
        else []
    )
    body = [f"        x{i} = {i}" for i in range(lines - 2)]
    return "\n".join(["class C:", "    async def f(self):", *docstring, *body, "        return x0", ""])


def test_a_function_of_fifty_one_lines_is_refused(tmp_path: Path) -> None:
    planted = tmp_path / "planted.py"
    planted.write_text(_function(50, docstring_lines=12))  # the docstring is not counted
    assert long_functions(tmp_path) == []
    planted.write_text(_function(51))
    assert long_functions(tmp_path) == ["planted.py:2 f (51 lines)"]
