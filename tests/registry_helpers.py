"""One trained bundle per test session for the registry tests, and helpers around it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from helpers import cli_env

_TRAINED: dict[str, Path] = {}

REGISTER = (
    "import sys; from pathlib import Path; from tabpipe.export.registry import Registry; "
    "print(Registry(sys.argv[1]).register('churn', Path(sys.argv[2])))"
)


def trained_bundle(tmp_path_factory) -> Path:
    """A linear model's bundle on the bundled churn data (trained once per session)."""
    if "bundle" not in _TRAINED:
        from helpers import QUICK, compose_config
        from tabpipe.training.train import run_training

        out = tmp_path_factory.mktemp("reg") / "run"
        config = compose_config([*QUICK, "model=linear", "registry.name=null"], out)
        _TRAINED["bundle"] = run_training(config).bundle
    return _TRAINED["bundle"]


def register_in_subprocess(root: Path, source: Path, fault: str | None = None) -> subprocess.Popen:
    """Register ``source`` in ``root`` from another process; with ``fault``, that process
    SIGKILLs itself at the named point (tabpipe.faults)."""
    from tabpipe.faults import FAULT_ENV

    return subprocess.Popen(
        [sys.executable, "-c", REGISTER, str(root), str(source)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env() | ({FAULT_ENV: fault} if fault else {}),
    )


def registry_cli(capsys, *args: str) -> tuple[int, str, str]:
    """``tabpipe registry ARGS`` in-process: (exit code, stdout, stderr)."""
    from tabpipe.cli.registry import main

    code = 0
    try:
        main(list(args))
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err
