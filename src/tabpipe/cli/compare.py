"""``tabpipe compare <A> <B>``: two models on the same held-out rows, with paired tests.

A and B are run directories (``logs/train/runs/<ts>``; k-fold runs too), bundle
directories, or registry refs (``name:version``, ``name@alias``)::

    tabpipe compare telco_churn@production telco_churn:4 --output comparison.json
    tabpipe compare logs/train/runs/A logs/train/runs/B --metric log_loss --resamples 5000
"""

from __future__ import annotations

import argparse

from tabpipe.cli import fail
from tabpipe.errors import TabpipeError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tabpipe compare", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("a", metavar="A", help="run directory, bundle path, name:version or name@alias")
    parser.add_argument("b", metavar="B", help="the model compared with A (differences are B - A)")
    parser.add_argument(
        "--root", help="registry directory (default: $TABPIPE_REGISTRY, else the project's registry/)"
    )
    parser.add_argument("--metric", help="the metric to test (default: A's primary metric)")
    parser.add_argument("--resamples", type=int, default=2000, help="bootstrap resamples (default 2000)")
    parser.add_argument("--confidence", type=float, default=0.95, help="CI level (default 0.95)")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    parser.add_argument("--output", help="also write the comparison as JSON to this file")
    return parser


def main(argv: list[str]) -> None:
    args = _parser().parse_args(argv)
    try:
        from tabpipe.comparison.compare import compare
        from tabpipe.comparison.table import format_comparison
        from tabpipe.io import write_text_atomic

        result = compare(args.a, args.b, args.root, args.metric, args.resamples, args.confidence, args.seed)
        print(format_comparison(result))
        if args.output:  # strict JSON: NaN (a t-test over identical folds) as null
            write_text_atomic(args.output, result.model_dump_json(indent=2) + "\n")
            print(f"written: {args.output}")
    except TabpipeError as error:
        fail(error)
