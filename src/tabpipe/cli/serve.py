"""``tabpipe serve bundle=<ref> [port=8000 host=127.0.0.1 ...]``: FastAPI + ONNX Runtime.

Examples::

    tabpipe serve bundle=telco_churn@production
    tabpipe serve bundle=telco_churn:3 ab.bundle=telco_churn:4 ab.weight=0.1 ab.key=customer_id
    tabpipe serve bundle=telco_churn@production shadow=telco_churn@candidate \\
        prediction_log.path=logs/predictions.jsonl admin_token=$TOKEN

Options are the keys of conf/serve.yaml. It binds 127.0.0.1 unless host= says otherwise.
"""

from __future__ import annotations

import sys

from tabpipe.errors import TabpipeError


def main(argv: list[str]) -> None:
    if any(flag in argv for flag in ("-h", "--help")):
        print(__doc__)
        return
    from tabpipe.cli.groups import compose_app_config

    try:
        cfg = compose_app_config("serve", argv)
        import uvicorn

        from tabpipe.serving.app import create_app

        app = create_app(cfg)
    except TabpipeError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(error.exit_code)
    uvicorn.run(app, host=cfg.host, port=cfg.port, log_level=cfg.log_level, workers=1)
