"""``POST /predict`` answered straight from ASGI, ahead of FastAPI's router.

The router, its dependency solving and the exception and exit-stack middlewares around it
cost about as much per request as everything tabpipe does for a single row (README
"Benchmarks"). This middleware answers the common case itself: a POST to ``/predict``
whose JSON body the one-pass reading accepts (:meth:`RecordsReader.accepted`), scored by
the same :func:`~tabpipe.serving.routes.predict.answer` as the route.

Everything else goes on to the app, with the body replayed as it was received: other paths
and methods, a body the one-pass reading refuses, a content type that is not JSON, a
client that goes away mid-body. The ``/predict`` route (which also documents the request
and response models in ``/openapi.json``) then answers exactly as it always has. It sits
inside the last-resort and body-limit middlewares, so an unexpected error is still a JSON
500 and an over-long body a 413.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tabpipe.serving.routes.predict import answer
from tabpipe.serving.state import ServingContext

PATH = "/predict"


def _content_type(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The first ``content-type`` header, as Starlette's ``request.headers`` reads it."""
    for name, value in headers:
        if name == b"content-type":
            return value.decode("latin-1")
    return None


class PredictPath:
    def __init__(self, app: Any, context: ServingContext) -> None:
        self.app = app
        self.context = context

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] != PATH
            or scope["method"] != "POST"
            or scope.get("root_path")
        ):
            await self.app(scope, receive, send)
            return
        received: list[dict] = []
        while True:
            message = await receive()
            received.append(message)
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
        records = None
        if message["type"] == "http.request":
            raw = b"".join(m.get("body", b"") for m in received)
            records = self.context.reader.accepted(raw, _content_type(scope["headers"]))
        if records is None:
            await self.app(scope, _replay(received, receive), send)
            return
        response = await answer(self.context, records)
        await response(scope, receive, send)


def _replay(received: list[dict], receive: Callable) -> Callable:
    """A ``receive`` that hands out the messages already read, then the client's own."""
    pending = iter(received)

    async def replayed() -> dict:
        message = next(pending, None)
        return message if message is not None else await receive()

    return replayed
