"""``tabpipe <command> [key=value ...]``: the console script."""

from __future__ import annotations

import sys

USAGE = """usage: tabpipe [--project DIR] <command> [key=value ...]

commands:
  train     train, evaluate, export and register a model (same app as `python train.py`)
  serve     serve a bundle over HTTP: tabpipe serve bundle=<ref> [port=8000 ...]
  predict   batch-score a file: tabpipe predict bundle=<ref> input=<file|dir> output=<file>
  eval      evaluate a bundle on a dataset: tabpipe eval bundle=<ref> [data=... rows=test|all]
  monitor   drift report against the training profile: tabpipe monitor bundle=<ref> current=<file>
  registry  list | show <ref> | promote <name>:<version> <alias> | delete | gc --keep N | fsck | sign
  compare   two models on the same held-out rows: tabpipe compare <run|ref> <run|ref>
  stage     one DVC pipeline stage (dvc.yaml): tabpipe stage ingest|split|train|evaluate|export
  params    write params.yaml, pipeline/config/ from conf/ (DVC reads them): tabpipe params [--check]
  check-run verify a run directory's metadata and artifact checksums: tabpipe check-run <run_dir>
  reproduce train again from a run's overrides and seed, compare metrics: tabpipe reproduce <run_dir>
  init      scaffold a project: tabpipe init [DIR] [--example churn|weather|none] [--force]

--project DIR (or TABPIPE_PROJECT): the project whose conf/ is read and under which every
output goes; default: the nearest directory upward with conf/train.yaml or tabpipe.yaml,
else the working directory with the packaged configs only.

Run `tabpipe <command> --help` for the options of a command."""


def main(argv: list[str] | None = None) -> None:
    from tabpipe.cli import take_project_flag

    args = take_project_flag(sys.argv[1:] if argv is None else list(argv))
    if not args or args[0] in ("-h", "--help"):
        print(USAGE)
        sys.exit(0 if args else 2)
    command, rest = args[0], args[1:]
    if command == "train":
        from tabpipe.cli.train import main as train_main

        train_main(rest, program="tabpipe train")
        return
    if command in ("serve", "predict", "eval", "monitor"):
        import importlib

        importlib.import_module(f"tabpipe.cli.{command}").main(rest)
        return
    if command == "compare":
        from tabpipe.cli.compare import main as compare_main

        compare_main(rest)
        return
    if command == "registry":
        from tabpipe.cli.registry import main as registry_main

        registry_main(rest)
        return
    if command in ("stage", "params"):
        from tabpipe.cli import stage

        (stage.stage_main if command == "stage" else stage.params_main)(rest)
        return
    if command == "init":
        from tabpipe.cli.init import main as init_main

        init_main(rest)
        return
    if command in ("check-run", "reproduce"):
        from tabpipe.cli import runs

        (runs.check_run_main if command == "check-run" else runs.reproduce_main)(rest)
        return
    print(f"error: unknown command {command!r}; see `tabpipe --help`", file=sys.stderr)
    sys.exit(2)


if __name__ == "__main__":
    main()
