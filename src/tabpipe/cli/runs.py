"""``tabpipe check-run <run_dir>`` and ``tabpipe reproduce <run_dir>``.

Recipes::

    tabpipe check-run logs/train/runs/2026-01-01_12-00-00_000000   # exit 2 naming what is missing
    tabpipe reproduce logs/train/runs/2026-01-01_12-00-00_000000   # exit 0: identical metrics
    tabpipe reproduce RUN_DIR --output-dir /tmp/again
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tabpipe.cli import fail
from tabpipe.errors import TabpipeError


def check_run_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        prog="tabpipe check-run",
        description="Verify that a run recorded its params, metrics, dataset hash and every "
        "artifact (with matching sha256). Exit 2 names what is missing.",
    )
    parser.add_argument("run_dir", type=Path)
    args = parser.parse_args(argv)
    from tabpipe.tracking.run_check import check_run

    try:
        print(check_run(args.run_dir).summary)
    except TabpipeError as error:
        fail(error)


def reproduce_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        prog="tabpipe reproduce",
        description="Train again with a run's recorded overrides and seed and compare the metrics "
        "exactly. Exit 0: identical; 1: metrics differ; otherwise the reproduction's own exit code.",
    )
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--output-dir", type=Path, help="default: <run_dir>-reproduce-<time>")
    args = parser.parse_args(argv)
    from tabpipe.tracking.reproduce import reproduce

    try:
        result = reproduce(args.run_dir, args.output_dir)
    except TabpipeError as error:
        fail(error)
        return
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"reproduction: {result.run_dir}")
    if result.differences:
        print(f"metrics: DIFFERENT ({len(result.differences)})")
        for line in result.differences:
            print(f"  {line}")
        sys.exit(1)
    print(f"metrics: identical ({result.n_metrics} values)")
    if result.returncode != 0:
        print(f"the reproduction exited with code {result.returncode}, as a re-run of this run does")
    sys.exit(result.returncode)
