"""Small requests that are ready in the same event-loop turn are scored in one ONNX Runtime run.

Under concurrency the server's one thread finds several requests ready at once (uvicorn
starts a task per request as its bytes arrive). Scored alone, each pays ONNX Runtime's
per-run cost, about 25 us for the churn graph: most of a single-row request's own work.
Instead each request queues its records; the first one schedules a flush with ``call_soon``,
which runs after every task that was already ready, and the flush builds one set of input
tensors per model from the queued records, scores them in one run and hands each request
its rows. A request with nothing else ready is scored at once, without the loop turn (on
uvloop, which uvicorn picks when it is installed and which cannot list its ready callbacks, the
batcher goes by what its last flush found instead, see :meth:`Batcher._others_expected`). Only
requests of up to ``INLINE_MAX_ROWS`` rows come here, and a batch holds the event loop for
less time than scoring its requests one after another would.

A row scores bit-identically alone or in a batch (the sessions run one intra-op thread, see
:func:`tabpipe.export.runtime.session`), and a batch whose inputs cannot be built (the
records of one request break a rule the request model does not check) is scored request
by request, so that only that request gets the error.
"""

from __future__ import annotations

import asyncio
from itertools import groupby
from typing import Any

import numpy as np

from tabpipe.errors import DataValidationError
from tabpipe.export.inputs import records_to_feeds
from tabpipe.serving.loaded_model import LoadedModel

Feeds = dict[str, np.ndarray]
Scored = tuple[Feeds, list[dict[str, Any]]]  # a request's input tensors and results
PROBE_EVERY = 32  # on a loop that cannot list its ready callbacks: one deferred request in 32


class Batcher:
    """``keep_feeds``: hand each request of a batch its slice of the input tensors (for the
    drift gauges, the prediction log's shadow scoring); otherwise a batched request gets none."""

    def __init__(self, keep_feeds: bool) -> None:
        self.keep_feeds = keep_feeds
        self.pending: list[tuple[LoadedModel, list[dict[str, Any]], asyncio.Future]] = []
        self.batching = False  # the last flush found more than one request (loops without _ready)
        self.alone = 0  # requests scored alone since then

    async def score(self, model: LoadedModel, records: list[dict[str, Any]]) -> Scored:
        """The request's input tensors and one result per record, scored with the other
        requests queued in this loop turn. Raises what building or scoring its rows raised."""
        loop = asyncio.get_running_loop()
        if not self.pending and not self._others_expected(loop):  # alone: scored now, no loop turn
            feeds = records_to_feeds(records, model.types)
            return feeds, model.score(feeds)
        future = loop.create_future()
        self.pending.append((model, records, future))
        if len(self.pending) == 1:
            loop.call_soon(self._flush)
        return await future

    def _others_expected(self, loop: asyncio.AbstractEventLoop) -> bool:
        """Whether other requests are likely ready in this loop turn. asyncio's loop keeps its
        ready callbacks in ``_ready`` (no public accessor). A loop without it (uvloop) cannot
        be asked, so the batcher goes by what the last flush found: it keeps deferring while
        flushes gather several requests, and while they do not it scores inline and defers
        one request in ``PROBE_EVERY`` to notice when the load turns concurrent."""
        ready = getattr(loop, "_ready", None)
        if ready is not None:
            return bool(ready)
        if self.batching:
            return True
        self.alone += 1
        return self.alone % PROBE_EVERY == 0

    def _flush(self) -> None:
        pending, self.pending = self.pending, []
        self.batching = len(pending) > 1
        for _, group in groupby(sorted(pending, key=lambda item: id(item[0])), key=lambda item: id(item[0])):
            items = list(group)
            try:
                _score_together(items[0][0], items, self.keep_feeds)
            except DataValidationError:
                for item in items:  # find the request whose rows cannot be built
                    _score_alone(*item)
            except Exception as exc:  # noqa: BLE001 - handed to every waiting request, raised there
                for *_, future in items:
                    _settle(future, exception=exc)


def _score_together(model: LoadedModel, items: list, keep_feeds: bool) -> None:
    if len(items) == 1:
        _score_alone(*items[0])
        return
    records = [record for _, rows, _ in items for record in rows]
    feeds = records_to_feeds(records, model.types)
    results = model.score(feeds)
    start = 0
    for _, rows, future in items:
        stop = start + len(rows)
        mine = {name: tensor[start:stop] for name, tensor in feeds.items()} if keep_feeds else {}
        _settle(future, (mine, results[start:stop]))
        start = stop


def _score_alone(model: LoadedModel, records: list[dict[str, Any]], future: asyncio.Future) -> None:
    try:
        feeds = records_to_feeds(records, model.types)
        scored = (feeds, model.score(feeds))
    except Exception as exc:  # noqa: BLE001 - raised in the request's own task
        _settle(future, exception=exc)
    else:
        _settle(future, scored)


def _settle(future: asyncio.Future, result: Any = None, exception: BaseException | None = None) -> None:
    if future.done():  # the request's task was cancelled meanwhile
        return
    if exception is not None:
        future.set_exception(exception)
    else:
        future.set_result(result)
