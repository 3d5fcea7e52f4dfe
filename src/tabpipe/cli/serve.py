"""``tabpipe serve bundle=<ref> [port=8000 host=127.0.0.1 ...]``: FastAPI + ONNX Runtime.

Examples::

    tabpipe serve bundle=telco_churn@production
    tabpipe serve bundle=telco_churn:3 ab.bundle=telco_churn:4 ab.weight=0.1 ab.key=customer_id
    tabpipe serve bundle=telco_churn@production shadow=telco_churn@candidate \\
        prediction_log.path=logs/predictions.jsonl admin_token=$TOKEN

Options are the keys of conf/serve.yaml. It binds 127.0.0.1 unless host= says otherwise.
Once bound it prints ``listening on http://<host>:<port> (bundle <ref>: <name> version <v>)``
on stderr; ``access_log=true`` adds one line per request.
"""

from __future__ import annotations

import logging
import socket
import sys
from typing import Any

from tabpipe.cli.groups import run_app_command
from tabpipe.errors import ConfigError


def bind_socket(host: str, port: int) -> socket.socket:
    """The listening address, bound here rather than by uvicorn, so a port in use or a host
    that is not this machine's is one line naming them, exit 2 (uvicorn logs the OS error and
    exits 1 or 3, and 3 is the baseline gate's code)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on connections accepted from a TCP
    # socket; without it an answer's body waits 40 ms behind its headers (Nagle + delayed ACK)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        reason = exc.strerror or str(exc)
        raise ConfigError(f"host={host} port={port}: cannot listen there ({reason})") from exc
    sock.set_inheritable(True)
    return sock


def _serve(cfg: Any) -> None:
    import uvicorn

    from tabpipe.serving.app import create_app

    app = create_app(cfg)  # loads and verifies the bundles: errors surface before binding
    sock = bind_socket(cfg.host, cfg.port)
    served = app.state.serving.arms["a"]
    banner = f"(bundle {cfg.bundle}: {served.name} version {served.version})"

    class Server(uvicorn.Server):
        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets=sockets)
            if self.started:
                port = self.servers[0].sockets[0].getsockname()[1] if self.servers else cfg.port
                print(f"listening on http://{cfg.host}:{port} {banner}", file=sys.stderr, flush=True)

    config = uvicorn.Config(
        app, host=cfg.host, port=cfg.port, log_level=cfg.log_level, access_log=cfg.access_log, workers=1
    )
    if cfg.access_log:  # uvicorn gives its access logger log_level, which hides it by default
        logging.getLogger("uvicorn.access").setLevel(logging.INFO)
    # the server's own records (a failed reload, an unhandled error with its traceback)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s: %(name)s: %(message)s"))
    tabpipe_log = logging.getLogger("tabpipe.serving")
    tabpipe_log.addHandler(handler)
    tabpipe_log.setLevel(cfg.log_level.upper())
    tabpipe_log.propagate = False
    Server(config).run(sockets=[sock])


def main(argv: list[str]) -> None:
    run_app_command(__doc__ or "", "serve", argv, _serve)
