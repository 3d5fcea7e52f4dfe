"""The last-resort handler: an exception no endpoint handled becomes a JSON 500 with a
request id, is logged with its traceback under that id, and is counted (``tabpipe_errors_total
{kind="internal"}`` and an error record in the prediction log, so ``tabpipe monitor``'s error
rate includes it). The server keeps serving, and the client's connection stays usable.

Starlette's own ``ServerErrorMiddleware`` answers such errors with a plain-text 500 and then
re-raises, which makes uvicorn drop the connection; this middleware sits inside it and ends
the request cleanly instead.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

import orjson

log = logging.getLogger("tabpipe.serving")
INTERNAL = "internal"


class LastResortMiddleware:
    def __init__(self, app: Any, on_error: Callable[[str, int, str], None]) -> None:
        self.app = app
        self.on_error = on_error

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: dict) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:  # the last resort: logged with the traceback, counted, answered
            request_id = os.urandom(16).hex()
            where = f"{scope.get('method')} {scope.get('path')}"
            log.exception("unhandled error in %s (request_id=%s)", where, request_id)
            self.on_error(INTERNAL, 500, request_id)
            if started:  # the response is under way (e.g. a background task failed): nothing to send
                return
            body = orjson.dumps(
                {
                    "error": INTERNAL,
                    "detail": f"unexpected server error; logged under request_id {request_id}",
                    "request_id": request_id,
                }
            )
            await send(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
