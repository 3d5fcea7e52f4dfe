"""``tabpipe eval bundle=<ref> [data=<option> data.path=...] [rows=all|test]``: evaluate a
saved bundle with the training run's evaluation suite.

Examples::

    tabpipe eval bundle=telco_churn@production rows=test      # = the training-time test metrics
    tabpipe eval bundle=telco_churn:3 data=csv data.path=new_customers.csv \\
        data.target=churn data.task=binary data.positive_class=Yes data.id_columns=[customer_id]
    tabpipe eval bundle=logs/train/runs/<run>/bundle output_dir=eval_out eval.plots=false

Writes into output_dir (default logs/eval/runs/<timestamp>): metrics.json, evaluation.json,
report.md, plots/, segments.json (with data.group_columns or data.time_column) and
predictions.parquet. Options are the keys of conf/eval.yaml. Exit 3 when an enforced gate
fails (the files are written first).
"""

from __future__ import annotations

import json
from typing import Any

from tabpipe.cli.groups import run_app_command


def _evaluate(cfg: Any) -> None:
    from tabpipe.evaluation.bundle_evaluation import evaluate_bundle
    from tabpipe.evaluation.gates import enforce

    result = evaluate_bundle(cfg)
    print(
        json.dumps(
            {
                "output_dir": str(cfg.output_dir),
                "report": str(result.report),
                "metrics": result.metrics,
                "gates": {g.reference: g.passed for g in result.gates},
            }
        )
    )
    enforce(result.gates)


def main(argv: list[str]) -> None:
    run_app_command(__doc__ or "", "eval", argv, _evaluate)
