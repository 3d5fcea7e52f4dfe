"""``tabpipe serve bundle=<ref> [port=8000 host=127.0.0.1 ...]``: FastAPI + ONNX Runtime.

Examples::

    tabpipe serve bundle=telco_churn@production
    tabpipe serve bundle=telco_churn:3 ab.bundle=telco_churn:4 ab.weight=0.1 ab.key=customer_id
    tabpipe serve bundle=telco_churn@production shadow=telco_churn@candidate \\
        prediction_log.path=logs/predictions.jsonl admin_token=$TOKEN

Options are the keys of conf/serve.yaml. It binds 127.0.0.1 unless host= says otherwise.
"""

from __future__ import annotations

from typing import Any

from tabpipe.cli.groups import run_app_command


def _serve(cfg: Any) -> None:
    import uvicorn

    from tabpipe.serving.app import create_app

    app = create_app(cfg)  # loads and verifies the bundles: errors surface before binding
    uvicorn.run(app, host=cfg.host, port=cfg.port, log_level=cfg.log_level, workers=1)


def main(argv: list[str]) -> None:
    run_app_command(__doc__ or "", "serve", argv, _serve)
