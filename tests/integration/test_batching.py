"""Requests ready in the same event-loop turn are scored in one ONNX Runtime run
(:mod:`tabpipe.serving.batching`): each gets exactly the results it gets alone, a request
whose rows cannot be built fails alone, and a lone request is scored without a loop turn."""

from __future__ import annotations

import asyncio
import math

import numpy as np
import pandas as pd
import pytest

from helpers import ROOT
from tabpipe.errors import DataValidationError
from tabpipe.export.inputs import records_to_feeds
from tabpipe.serving.batching import PROBE_EVERY, Batcher
from tabpipe.serving.loaded_model import LoadedModel, load_model


def _rows(dataset: str, target: str, n: int) -> list[dict]:
    frame = pd.read_csv(ROOT / f"src/tabpipe/datasets/{dataset}.csv").drop(columns=[target]).head(n)
    return [
        {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in row.items()}
        for row in frame.to_dict(orient="records")
    ]


def _counted(model: LoadedModel) -> list[int]:
    """The number of rows of each ONNX Runtime run of ``model``."""
    runs: list[int] = []
    score = model.score

    def counting(feeds: dict[str, np.ndarray]) -> list:
        runs.append(len(next(iter(feeds.values()))))
        return score(feeds)

    model.score = counting  # type: ignore[method-assign]
    return runs


@pytest.fixture
def churn(binary_bundle) -> LoadedModel:
    return load_model("telco_churn:1", binary_bundle.registry, ["CPUExecutionProvider"])


def test_requests_ready_together_are_scored_in_one_run_with_their_own_results(churn) -> None:
    requests = [[row] for row in _rows("telco_churn", "churn", 5)] + [_rows("telco_churn", "churn", 3)]
    alone = [churn.score(records_to_feeds(records, churn.types)) for records in requests]
    runs = _counted(churn)
    batcher = Batcher(keep_feeds=True)

    async def together() -> list:
        return await asyncio.gather(*(batcher.score(churn, records) for records in requests))

    scored = asyncio.run(together())
    assert runs == [8]  # the six requests' eight rows, in one run
    assert [results for _, results in scored] == alone  # bit-identical to each scored alone
    for (feeds, _), records in zip(scored, requests, strict=True):
        expected = records_to_feeds(records, churn.types)
        assert feeds.keys() == expected.keys()
        for name, tensor in expected.items():
            np.testing.assert_array_equal(feeds[name], tensor)


def test_a_request_whose_rows_cannot_be_built_fails_alone(multiclass_bundle) -> None:
    weather = load_model("seattle_weather:1", multiclass_bundle.registry, ["CPUExecutionProvider"])
    good = _rows("seattle_weather", "weather", 2)
    batcher = Batcher(keep_feeds=False)

    async def together() -> list:
        requests = [[good[0]], [{"date": "not a date"}], [good[1]]]
        return await asyncio.gather(*(batcher.score(weather, r) for r in requests), return_exceptions=True)

    first, bad, second = asyncio.run(together())
    assert isinstance(bad, DataValidationError) and "date" in str(bad)
    assert first[1] == weather.score(records_to_feeds([good[0]], weather.types))
    assert second[1] == weather.score(records_to_feeds([good[1]], weather.types))


def test_a_lone_request_is_scored_at_once(churn) -> None:
    batcher = Batcher(keep_feeds=False)
    records = _rows("telco_churn", "churn", 1)

    async def lone() -> list:
        step = batcher.score(churn, records)
        with pytest.raises(StopIteration) as done:  # finished on its first step: no loop turn
            step.send(None)
        return done.value.value[1]

    assert asyncio.run(lone()) == churn.score(records_to_feeds(records, churn.types))


def test_on_uvloop_lone_requests_score_at_once_and_concurrent_ones_are_batched(churn) -> None:
    """uvloop cannot list its ready callbacks: lone requests are scored without a loop turn
    except one probe in PROBE_EVERY, and once a probe gathers several requests they batch."""
    uvloop = pytest.importorskip("uvloop")
    rows = _rows("telco_churn", "churn", 8)
    runs = _counted(churn)
    batcher = Batcher(keep_feeds=False)
    flushes: list[int] = []
    flush = batcher._flush

    def counted_flush() -> None:
        flushes.append(len(batcher.pending))
        flush()

    batcher._flush = counted_flush  # type: ignore[method-assign]

    async def sequential_then_concurrent() -> None:
        for i in range(PROBE_EVERY):  # the last one is the probe: it finds no other request
            await batcher.score(churn, [rows[i % 8]])
        burst = [[rows[i % 8]] for i in range(PROBE_EVERY + 8)]  # its 32nd is the next probe
        await asyncio.gather(*(batcher.score(churn, records) for records in burst))
        await asyncio.gather(*(batcher.score(churn, [row]) for row in rows))  # still batching

    uvloop.run(sequential_then_concurrent())
    assert flushes == [1, 9, 8]  # the probes', then every turn's
    assert runs == [1] * (2 * PROBE_EVERY - 1) + [9, 8]  # all others inline, one row each
