"""``tabpipe eval bundle=<ref> [data=<option> data.path=...] [rows=test|all]``: evaluate a
saved bundle with the training run's evaluation suite.

Examples::

    tabpipe eval bundle=telco_churn@production                # rows=test: the training-time test metrics
    tabpipe eval bundle=telco_churn@production rows=all       # every row; the training rows flagged
    tabpipe eval bundle=telco_churn:3 rows=all data=csv data.path=new_customers.csv \\
        data.target=churn data.task=binary data.positive_class=Yes data.id_columns=[customer_id]
    tabpipe eval bundle=logs/train/runs/<run>/bundle output_dir=eval_out eval.plots=false

Writes into output_dir (default logs/eval/runs/<timestamp>): metrics.json, evaluation.json,
report.md, plots/, segments.json (with data.group_columns or data.time_column) and
predictions.parquet (``in_training`` flags the rows the bundle was fitted on: none under
rows=test; under rows=all they are also counted in the report and warned about). Options are
the keys of conf/eval.yaml. Prints the metric table of ``python train.py`` (``--json``: one
JSON line with the output paths, the metrics, the gates and the training overlap, for
machines). Exit 3 when an enforced gate fails (the files are written first).
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

from tabpipe.cli.groups import run_app_command

if TYPE_CHECKING:
    from tabpipe.config.app_schema import EvalAppConfig


def _evaluate(cfg: EvalAppConfig, as_json: bool) -> None:
    from tabpipe.evaluation.bundle_evaluation import evaluate_bundle
    from tabpipe.evaluation.gates import enforce
    from tabpipe.evaluation.metric_table import metric_table

    evaluated = evaluate_bundle(cfg)
    result = evaluated.result
    if evaluated.overlap.count:
        print(f"warning: {evaluated.overlap.note()}", file=sys.stderr)
    if as_json:
        summary = {
            "output_dir": str(cfg.output_dir),
            "report": str(result.report),
            "metrics": result.metrics,
            "gates": {g.reference: g.passed for g in result.gates},
            # rows the bundle was fitted on (train/val); null: not checked (see the report)
            "training_overlap": evaluated.overlap.count,
        }
        print(json.dumps(summary))
    else:
        prefix = "test" if any(key.startswith("test/") for key in result.metrics) else "eval"
        lines = metric_table(result.metrics, result.document.primary_metric, prefix)
        lines += [_gate_line(gate) for gate in result.gates]
        print("\n".join([*lines, f"report: {result.report}"]))
    enforce(result.gates)


def _gate_line(gate: Any) -> str:
    verdict = "passed" if gate.passed else "FAILED" if gate.enforced else "failed (not enforced)"
    return f"gate {gate.reference}: {verdict}"


def main(argv: list[str]) -> None:
    as_json = "--json" in argv
    args = [arg for arg in argv if arg != "--json"]
    run_app_command(__doc__ or "", "eval", args, lambda cfg: _evaluate(cfg, as_json))
