"""Run ONNX graphs with ONNX Runtime, recording the providers a session really got."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import onnx

log = logging.getLogger(__name__)
DEFAULT_PROVIDERS = ("CPUExecutionProvider",)


def session(
    model: onnx.ModelProto | Path | str | bytes,
    providers: Sequence[str] = DEFAULT_PROVIDERS,
    threads: int = 1,
):
    """An InferenceSession. onnxruntime-gpu lists CUDA even without a GPU and silently
    falls back to the CPU, so the providers actually used are logged from the session.

    One intra-op thread by default: ONNX Runtime's tree ensembles then sum trees in the
    same order whatever the batch size, so a row scores bit-identically alone, in a batch
    of 50 or in the whole test split (with several threads it can move by 1 ulp).
    Concurrency comes from running several requests or sessions side by side instead."""
    import onnxruntime as ort

    source = model.SerializeToString() if isinstance(model, onnx.ModelProto) else model
    if isinstance(source, Path):
        source = str(source)
    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    sess = ort.InferenceSession(source, sess_options=options, providers=list(providers))
    used = sess.get_providers()
    if list(providers)[:1] != used[:1]:
        log.warning("asked for ONNX Runtime providers %s, got %s", list(providers), used)
    return sess


def run(sess, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    names = [o.name for o in sess.get_outputs()]
    wanted = [i.name for i in sess.get_inputs()]
    return dict(zip(names, sess.run(names, {k: feeds[k] for k in wanted}), strict=True))


def complete_feeds_runner(sess) -> Callable[[list[str], dict[str, np.ndarray]], list]:
    """``sess.run`` for callers that always pass every input as a numpy array (the server).

    The public wrapper re-checks the feed names against every graph input on each call
    (a quadratic scan, ~15 us for a 19-input graph: a tenth of a request's budget) and
    retries failed GPU runs on the CPU. On a CPU-only session neither applies, so the
    binding's own ``run`` is called; it still rejects a wrong name, shape or type."""
    binding = getattr(sess, "_sess", None)
    if binding is None or sess.get_providers() != ["CPUExecutionProvider"]:
        return sess.run
    return lambda names, feeds: binding.run(names, feeds, None)
