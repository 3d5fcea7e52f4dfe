"""Plots for task=ranking, in the format of :mod:`tabpipe.evaluation.plots`.

The classification and regression plots do not apply to a ranker: its output is a score
comparable only within one query, with no classes, probabilities or threshold (no confusion
matrix, ROC, PR, calibration or threshold curves) and no scale to take residuals on. A
ranking evaluation draws instead:

=============================  ===========================================================
data file (DVC)                columns / PNG
=============================  ===========================================================
ranking_at_k.csv               k, ndcg, map, and <reference>_ndcg, <reference>_map for
                               every scored reference (baseline, production)
                               -> ranking_at_k.png (NDCG@k and MAP@k for k = 1..max k)
ranking_per_query.csv          query, items, value (the primary metric of each ranked
                               query) -> ranking_per_query.png (its distribution)
=============================  ===========================================================
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tabpipe.data.queries import mean_ndcg
from tabpipe.evaluation.metrics import Scored
from tabpipe.evaluation.plots import PlotWriter
from tabpipe.evaluation.ranking_metrics import mean_metric, per_query


def _curve(rows: Scored, scores: np.ndarray, ks: np.ndarray) -> tuple[list[float], list[float]]:
    """(mean NDCG@k, mean MAP@k) over the rows' ranked queries for every k."""
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    ndcg = [mean_ndcg(rows.y, scores, rows.queries, int(k)) for k in ks]
    average_precision = [mean_metric(f"map@{k}", rows.y, scores, rows.queries) for k in ks]
    return ndcg, average_precision


def at_k(writer: PlotWriter, rows: Scored, references: dict[str, np.ndarray], max_k: int) -> None:
    """NDCG@k and MAP@k against k for the model and each scored reference."""
    ks = np.arange(1, max_k + 1)
    table = pd.DataFrame({"k": ks})
    table["ndcg"], table["map"] = _curve(rows, rows.scores, ks)
    for name, scores in references.items():
        table[f"{name}_ndcg"], table[f"{name}_map"] = _curve(rows, scores, ks)
    writer.data("ranking_at_k.csv", table)

    def draw(fig: Any) -> None:
        for ax, kind, title in zip(fig.subplots(1, 2), ("ndcg", "map"), ("NDCG@k", "MAP@k"), strict=True):
            ax.plot(ks, table[kind], marker="o", label="model")
            for name in references:
                ax.plot(ks, table[f"{name}_{kind}"], marker=".", linestyle="--", label=name)
            ax.set(xlabel="k (top positions)", ylabel=title, ylim=(0, 1.02), title=title)
            ax.legend(loc="lower right")

    writer.figure("ranking_at_k.png", "Ranking quality at k", draw, size=(11, 4.8))


def query_distribution(writer: PlotWriter, rows: Scored, metric: str) -> None:
    """The distribution of ``metric`` over the ranked queries."""
    values = per_query(metric, rows.y, rows.scores, rows.queries)
    members = rows.queries.members
    table = pd.DataFrame(
        {
            "query": [str(rows.groups[m[0]]) for m in members],
            "items": [len(m) for m in members],
            "value": values,
        }
    )
    writer.data("ranking_per_query.csv", table)

    from matplotlib.ticker import MaxNLocator

    def draw(fig: Any) -> None:
        ax = fig.subplots()
        ax.hist(values, bins=np.linspace(0, 1, 21), color="tab:blue")
        ax.axvline(float(values.mean()), color="black", linestyle="--", label=f"mean {values.mean():.3f}")
        ax.set(xlabel=metric, ylabel="queries", xlim=(0, 1))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(loc="upper left")

    writer.figure("ranking_per_query.png", f"{metric} per query ({len(values)} queries)", draw)
