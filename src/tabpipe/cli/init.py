"""``tabpipe init [DIR] [--example churn|weather|none] [--force]``: scaffold a project.

    tabpipe init demo --example churn     # demo/: conf/, data/telco_churn.csv, dvc.yaml, ...
    cd demo && tabpipe train              # trains on data/, writes under demo/
    dvc repro                             # the same pipeline as DVC stages

DIR (default: the working directory) must be empty unless --force, which rewrites tabpipe's
files and keeps the others. The project gets a git repository (when git is installed and DIR
is not inside one already) and a DVC repository, so `dvc repro` works at once; commit the
files before `dvc exp run`.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

from tabpipe.cli import fail
from tabpipe.errors import ConfigError, TabpipeError


def _parser() -> argparse.ArgumentParser:
    from tabpipe.pipeline.scaffold import CHOICES

    parser = argparse.ArgumentParser(
        prog="tabpipe init", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("dir", nargs="?", type=Path, default=Path("."), help="the project directory")
    parser.add_argument(
        "--example", choices=CHOICES, default="churn", help="the example dataset copied into data/"
    )
    parser.add_argument("--force", action="store_true", help="scaffold into a non-empty directory")
    return parser


def _in_git_work_tree(root: Path) -> bool:
    done = subprocess.run(
        ["git", "rev-parse", "--is-inside-work-tree"], cwd=root, capture_output=True, text=True, check=False
    )
    return done.returncode == 0 and done.stdout.strip() == "true"


def _init_repositories(root: Path) -> str:
    """git (if installed and not already around ``root``) and DVC; returns what was done."""
    from dvc.repo import Repo

    from tabpipe.io import write_text_atomic
    from tabpipe.pipeline.scaffold import DVC_CONFIG, DVC_PLUGIN, DVC_PLUGIN_PATH

    git = shutil.which("git") is not None
    inside = git and _in_git_work_tree(root)
    done = []
    if git and not inside:
        subprocess.run(["git", "init", "-q", str(root)], check=True)
        done.append("git init")
    if not (root / ".dvc").is_dir():
        Repo.init(str(root), no_scm=not git, subdir=inside and not (root / ".git").exists())
        done.append("dvc init")
    write_text_atomic(root / ".dvc" / "config", DVC_CONFIG)
    write_text_atomic(root / DVC_PLUGIN_PATH, DVC_PLUGIN)
    return ", ".join(done)


def main(argv: list[str]) -> None:
    args = _parser().parse_args(argv)
    from tabpipe.pipeline.scaffold import EXAMPLES, write_project

    root: Path = args.dir
    try:
        if root.exists() and not root.is_dir():
            raise ConfigError(f"{root}: not a directory")
        if root.is_dir() and any(root.iterdir()) and not args.force:
            raise ConfigError(
                f"{root}: not empty; give an empty or new directory, or --force to scaffold into it"
            )
        root.mkdir(parents=True, exist_ok=True)
        written = write_project(root, EXAMPLES.get(args.example))
        repositories = _init_repositories(root)
    except TabpipeError as error:
        fail(error)
    print(f"created the tabpipe project {root} ({len(written)} files; {repositories or 'repositories kept'})")
    print(f"next: cd {root} && tabpipe train", file=sys.stdout)
