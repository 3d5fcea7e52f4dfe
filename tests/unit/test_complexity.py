"""No function is more complex than McCabe 10: ruff's C901 with the project's settings
(pyproject.toml ``[tool.ruff.lint.mccabe]``) passes on the sources and fails on a planted
function of complexity 11."""

from __future__ import annotations

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
