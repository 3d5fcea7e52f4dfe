"""``tabpipe stage <ingest|split|train|evaluate|export>``: one stage of the DVC pipeline
(``dvc.yaml``), configured by params.yaml. ``tabpipe params`` writes params.yaml from conf/.

    dvc repro                       # runs the stages that changed, in order
    tabpipe stage train             # one stage by hand (its inputs must exist)
    tabpipe params [--check]        # params.yaml := the composition of conf/ (or check it;
                                    # an experiment's file: conf/ + its recorded -S overrides)
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from tabpipe.cli import fail
from tabpipe.errors import TabpipeError
from tabpipe.pipeline.layout import STAGES


def stage_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        prog="tabpipe stage", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("name", choices=STAGES)
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="[%(asctime)s][%(name)s][%(levelname)s] - %(message)s")
    from tabpipe.pipeline.run import run_stage  # after argparse: --help imports no ML library

    try:
        run_stage(args.name, args.params)
    except TabpipeError as error:
        fail(error)


def params_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        prog="tabpipe params", description="Write params.yaml as the composition of conf/ (for DVC)."
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit 1 if params.yaml is not what `tabpipe params` (or, for an experiment's file, "
        "`dvc exp run` with its recorded overrides) would write from conf/ now",
    )
    parser.add_argument("--conf", type=Path, default=Path("conf"))
    parser.add_argument("--output", type=Path, default=Path("params.yaml"))
    args = parser.parse_args(argv)
    from tabpipe.config.params_file import composed, params_drift
    from tabpipe.io import write_text_atomic

    if not args.conf.is_dir():
        fail(TabpipeError(f"{args.conf}: no conf/ directory here; run from the project root"))
    if args.check:
        if not args.output.is_file():
            print(f"error: {args.output}: not found; run `tabpipe params`", file=sys.stderr)
            sys.exit(1)
        keys, what = params_drift(args.conf, args.output)
        if keys:
            shown = ", ".join(keys[:5]) + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")
            print(
                f"error: {args.output} ({what}) differs from {args.conf}/ at {shown}; "
                "run `tabpipe params` (conf/'s defaults) or `dvc exp run -S ...` (an experiment), "
                "never edit it by hand",
                file=sys.stderr,
            )
            sys.exit(1)
        print(f"{args.output}: up to date ({what})")
        return
    write_text_atomic(args.output, composed(args.conf))
    print(f"wrote {args.output}")
