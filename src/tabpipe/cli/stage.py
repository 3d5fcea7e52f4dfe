"""``tabpipe stage <ingest|split|train|evaluate|export>``: one stage of the DVC pipeline
(``dvc.yaml``), configured by pipeline/config/config.yaml. ``tabpipe params`` writes it,
params.yaml and the stages' dependency files from conf/ (:mod:`tabpipe.pipeline.dvc_params`).

    dvc repro                       # runs the stages that changed, in order
    tabpipe stage train             # one stage by hand (its inputs must exist)
    tabpipe params [--check]        # the files := the composition of conf/ (or check them;
                                    # an experiment's: conf/ + its recorded -S overrides)
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
    parser.add_argument("--config", type=Path, default=Path("pipeline/config/config.yaml"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="[%(asctime)s][%(name)s][%(levelname)s] - %(message)s")
    from tabpipe.pipeline.run import run_stage  # after argparse: --help imports no ML library

    try:
        run_stage(args.name, args.config)
    except TabpipeError as error:
        fail(error)


def params_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        prog="tabpipe params",
        description="Write the files DVC reads from conf/: params.yaml (what `dvc exp show` compares), "
        "pipeline/config/config.yaml (the composition the stages read), pipeline/config/<stage>.yaml "
        "(the keys each stage depends on).",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit 1 if a file is not what `tabpipe params` (or, for an experiment's files, "
        "`dvc exp run` with its recorded overrides) would write from conf/ now",
    )
    parser.add_argument(
        "--conf", type=Path, default=None, help="the project's conf/ (default: the discovered project's)"
    )
    parser.add_argument(
        "--root", type=Path, default=None, help="the DVC project (default: the discovered project's root)"
    )
    args = parser.parse_args(argv)
    from tabpipe.config.project import find_project
    from tabpipe.pipeline import dvc_params

    try:
        project = find_project()
    except TabpipeError as error:
        fail(error)
    args.root = args.root or project.root
    args.conf = args.conf or project.conf_dir
    if args.conf is not None and not args.conf.is_dir():
        fail(TabpipeError(f"--conf {args.conf}: not a directory"))
    if args.check:
        keys, what = dvc_params.drift(args.conf, args.root)
        if keys:
            source = f"{args.conf}/" if args.conf is not None else "the packaged configs"
            shown = ", ".join(keys[:5]) + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")
            print(
                f"error: the files DVC reads ({what}) differ from {source} at {shown}; "
                "run `tabpipe params` (conf/'s defaults) or `dvc exp run -S ...` (an experiment), "
                "never edit them by hand",
                file=sys.stderr,
            )
            sys.exit(1)
        print(f"params.yaml, {dvc_params.CONFIG.parent}/: up to date ({what})")
        return
    files = dvc_params.generated(dvc_params.compose(args.conf, []))
    dvc_params.write(args.root, files)
    print(f"wrote {', '.join(str(path) for path in files)}")
