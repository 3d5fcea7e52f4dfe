"""Drift gauges for the online server's ``/metrics``: the PSI of the most drifted features
over the last ``window`` requests, against the served bundle's reference profile.

The request path pays one ``deque.append`` of the graph inputs it has already built (a
bounded buffer: the oldest request falls out; no lock, no copy, no binning). The binning and
PSI run lazily, when Prometheus scrapes, in this custom collector, over the buffer alone:
the prediction log is never read. Numbers are compared at the graph's float32 precision, so
a value equal to a reference bin edge falls on the same side as in training.

Exposed (``tabpipe_drift_*``):

* ``tabpipe_feature_psi{feature}`` -- the ``top`` features by PSI that have at least
  ``min_samples`` present values in the window;
* ``tabpipe_drift_max_psi`` -- the largest of those (an alerting rule's one number);
* ``tabpipe_drift_window_rows`` -- the rows in the window.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd
from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily

from tabpipe.config.app_schema import DriftGaugesConfig
from tabpipe.export.bundle import Bundle
from tabpipe.export.documents import CategoricalProfile, ProfileDocument
from tabpipe.monitoring import drift


class DriftGauges:
    """A Prometheus collector over a bounded buffer of recent requests' graph inputs."""

    def __init__(
        self, bundle_of: Callable[[], Bundle], window: int, top: int, min_samples: int, epsilon: float
    ) -> None:
        self.bundle_of = bundle_of
        self.top, self.min_samples, self.epsilon = top, min_samples, epsilon
        self.window: deque[dict[str, np.ndarray]] = deque(maxlen=window)
        self.observe = self.window.append  # the whole per-request cost

    def profile(self) -> ProfileDocument:
        """The served bundle's profile (loaded and validated with the bundle)."""
        return self.bundle_of().profile

    def feature_psi(self) -> tuple[dict[str, float], int]:
        requests = self.window.copy()  # a C-level copy: safe against a concurrent append
        rows = sum(len(next(iter(feeds.values()))) for feeds in requests if feeds)
        scores: dict[str, float] = {}
        if rows < self.min_samples:
            return scores, rows
        for name, entry in self.profile().features.items():
            columns = [feeds[name].reshape(-1) for feeds in requests if name in feeds]
            if not columns:
                continue
            values = np.concatenate(columns)
            if isinstance(entry, CategoricalProfile):
                text = pd.Series(values, dtype=object)
                counts, _, _ = drift.category_counts(text.where(text != ""), entry.listed)
                reference = entry.reference_shares()
            elif entry.shares:
                edges = np.asarray(entry.edges, dtype=values.dtype)
                counts, _ = drift.numeric_counts(values, edges)
                reference = entry.shares
            else:
                continue
            if counts.sum() >= self.min_samples:
                scores[name] = drift.psi(np.asarray(reference), counts, self.epsilon)
        return scores, rows

    def collect(self) -> Iterator[GaugeMetricFamily]:
        scores, rows = self.feature_psi()
        yield GaugeMetricFamily(
            "tabpipe_drift_window_rows", "Rows in the drift gauges' window of recent requests", value=rows
        )
        psi = GaugeMetricFamily(
            "tabpipe_feature_psi",
            "PSI of a feature over the recent-request window against the training profile",
            labels=["feature"],
        )
        ranked = sorted(scores.items(), key=lambda item: -item[1])[: self.top]
        for name, value in ranked:
            psi.add_metric([name], value)
        yield psi
        if ranked:
            yield GaugeMetricFamily("tabpipe_drift_max_psi", "The largest feature PSI", value=ranked[0][1])

    def describe(self) -> list:
        return []  # names are not fixed until the first scrape; nothing to check up front


def attach_drift_gauges(
    cfg: DriftGaugesConfig, registry: CollectorRegistry, bundle_of: Callable[[], Bundle]
) -> DriftGauges | None:
    """The gauges for a ``serve`` config's ``drift`` block, registered; None when off."""
    if cfg.window <= 0:
        return None
    gauges = DriftGauges(bundle_of, cfg.window, cfg.top, cfg.min_samples, drift.EPSILON)
    registry.register(gauges)
    return gauges
