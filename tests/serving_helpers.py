"""A real `tabpipe serve` on 127.0.0.1 for the serving tests."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from helpers import cli_env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_server(args: Sequence[str], log: Path) -> Iterator[str]:
    """``tabpipe serve ARGS`` on a free port, writing to ``log``; yields its URL as soon as
    the log has its ``listening on`` line (printed once start-up is over: it is serving)."""
    port = free_port()
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "tabpipe.cli.main", "serve", f"port={port}", *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=cli_env(),
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while f"listening on {url} " not in log.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server exited or not ready: {log.read_text()[-2000:]}")
            time.sleep(0.02)
        assert httpx.get(f"{url}/ready", timeout=10).status_code == 200
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextmanager
def serving_in_thread(app: Any) -> Iterator[str]:
    """A real uvicorn server for ``app`` on 127.0.0.1, in this process (no start-up cost)."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started:
        if not thread.is_alive() or time.time() > deadline:
            raise RuntimeError("the in-process server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def serve_config(bundle: str, registry_root: Path, *overrides: str) -> Any:
    """``conf/serve.yaml`` composed with ``overrides``, as ``tabpipe serve`` would."""
    from tabpipe.cli.groups import compose_app_config

    return compose_app_config("serve", [f"bundle={bundle}", f"registry_root={registry_root}", *overrides])
