"""params.yaml stays equal to the composition of conf/ (DVC's `dvc repro` reads it as is)."""

from __future__ import annotations

import subprocess
import sys

from helpers import ROOT, cli_env


def test_params_yaml_equals_the_composition_of_conf() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "write_params.py"), "--check"],
        capture_output=True,
        text=True,
        env=cli_env(),
    )
    assert done.returncode == 0, done.stderr
    assert "model:" in (ROOT / "params.yaml").read_text()
