"""Reject request bodies over ``max_bytes`` with tabpipe's JSON 413, before they are parsed.

A body with a ``Content-Length`` over the limit is refused unread. A streamed (chunked) body
is read here, up to the limit, and replayed to the app: refusing it from inside the app's
own read would surface as FastAPI's generic 400 ("error parsing the body"). FastAPI's own
``max_body_size`` is not used: it answers a plain-text 413 whenever the declared length is
over the limit, replacing any JSON body the app sends.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.responses import JSONResponse


class BodyLimitMiddleware:
    def __init__(self, app: Any, max_bytes: int, on_reject: Callable[[], None] = lambda: None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.on_reject = on_reject

    def _response(self) -> JSONResponse:
        self.on_reject()
        return JSONResponse(
            status_code=413,
            content={
                "error": "body_too_large",
                "detail": f"request body over max_body_bytes={self.max_bytes}",
            },
            headers={"connection": "close"},  # the rest of the body is not read
        )

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit():
            if int(length) > self.max_bytes:
                await self._response()(scope, receive, send)
            else:  # the server holds the body to its declared length: nothing to count
                await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_bytes:
                await self._response()(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> dict:
            nonlocal replayed
            if replayed:
                return await receive()  # after the body: disconnect notices
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        await self.app(scope, replay, send)
