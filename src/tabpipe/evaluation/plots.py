"""Plots as PNG (matplotlib's Agg canvas, no pyplot state) and as DVC plot data (CSV with
named columns) in ``<out_dir>/plots/``. Every file is written atomically.

=============================  ===========================================================
data file (DVC)                columns / PNG
=============================  ===========================================================
confusion.csv                  actual, predicted (one row per scored row; DVC ``confusion``
                               template) -> confusion_matrix.png (counts and row-normalised)
roc.csv                        fpr, tpr -> roc.png (binary)
pr.csv                         recall, precision -> pr.png (binary)
calibration.csv                prob_pred, prob_true, rows -> calibration.png (binary)
thresholds.csv                 threshold, precision, recall, f1, accuracy, cost
                               -> thresholds.png (binary)
residuals.csv                  predicted, residual -> residuals.png (regression)
predicted_vs_actual.csv        actual, predicted -> predicted_vs_actual.png (regression)
importance_native.csv          feature, importance -> importance_native.png (xgb, lgbm)
importance_permutation.csv     column, importance_mean, importance_std
                               -> importance_permutation.png
segments.csv                   column, segment, rows, value, ci_low, ci_high, flagged
                               -> segments_<column>.png
=============================  ===========================================================
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve

from tabpipe.io import write_atomic

if TYPE_CHECKING:
    from tabpipe.evaluation.document import SegmentsDocument

TOP_FEATURES = 20


class PlotWriter:
    """Writes the data file and the PNG of each plot; remembers the PNGs for the report."""

    def __init__(self, out_dir: Path, max_points: int, seed: int) -> None:
        self.dir = Path(out_dir) / "plots"
        self.max_points = int(max_points)
        self.rng = np.random.default_rng(seed)
        self.images: dict[str, str] = {}

    def sample(self, frame: pd.DataFrame) -> pd.DataFrame:
        """At most ``max_points`` rows (seeded), in their original order."""
        if len(frame) <= self.max_points:
            return frame
        keep = np.sort(self.rng.choice(len(frame), self.max_points, replace=False))
        return frame.iloc[keep].reset_index(drop=True)

    def data(self, name: str, frame: pd.DataFrame) -> Path:
        return write_atomic(self.dir / name, lambda tmp: frame.to_csv(tmp, index=False))

    def figure(self, name: str, title: str, draw: Callable[[Any], None], size=(6.4, 4.8)) -> Path:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        fig = Figure(figsize=size, dpi=100, layout="constrained")
        FigureCanvasAgg(fig)
        draw(fig)
        fig.suptitle(title)
        path = write_atomic(self.dir / name, lambda tmp: fig.savefig(tmp, format="png"))
        self.images[title] = f"plots/{name}"
        return path


def confusion(writer: PlotWriter, classes: list[str], y: np.ndarray, labels: np.ndarray) -> None:
    names = np.asarray(classes, dtype=object)
    writer.data("confusion.csv", pd.DataFrame({"actual": names[y], "predicted": names[labels]}))
    k = np.arange(len(classes))
    counts = skm.confusion_matrix(y, labels, labels=k)
    normalised = skm.confusion_matrix(y, labels, labels=k, normalize="true")

    def draw(fig: Any) -> None:
        for ax, matrix, title, fmt in zip(
            fig.subplots(1, 2),
            (counts, normalised),
            ("counts", "normalised by true class"),
            ("d", ".2f"),
            strict=True,
        ):
            ax.imshow(matrix, cmap="Blues")
            for (i, j), value in np.ndenumerate(matrix):
                colour = "white" if value > matrix.max() / 2 else "black"
                ax.text(j, i, format(value, fmt), ha="center", va="center", color=colour)
            ax.set(xticks=k, yticks=k, xticklabels=classes, yticklabels=classes, title=title)
            ax.set(xlabel="predicted", ylabel="actual")

    writer.figure("confusion_matrix.png", "Confusion matrix", draw, size=(10, 4.8))


def binary_curves(writer: PlotWriter, y: np.ndarray, p: np.ndarray, bins: int) -> None:
    fpr, tpr, _ = skm.roc_curve(y, p)
    writer.data("roc.csv", pd.DataFrame({"fpr": fpr, "tpr": tpr}))
    auc = skm.roc_auc_score(y, p)

    def roc(fig: Any) -> None:
        ax = fig.subplots()
        ax.plot(fpr, tpr, label=f"model (AUC {auc:.3f})")
        ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="chance")
        ax.set(xlabel="false positive rate", ylabel="true positive rate")
        ax.legend(loc="lower right")

    writer.figure("roc.png", "ROC curve", roc)
    precision, recall, _ = skm.precision_recall_curve(y, p)
    writer.data("pr.csv", pd.DataFrame({"recall": recall, "precision": precision}))
    ap = skm.average_precision_score(y, p)

    def pr(fig: Any) -> None:
        ax = fig.subplots()
        ax.step(recall, precision, where="post", label=f"model (AP {ap:.3f})")
        ax.axhline(float(np.mean(y)), linestyle="--", color="grey", label="positive rate")
        ax.set(xlabel="recall", ylabel="precision", ylim=(0, 1.02))
        ax.legend(loc="upper right")

    writer.figure("pr.png", "Precision-recall curve", pr)
    clipped = np.clip(p, 0.0, 1.0)
    prob_true, prob_pred = calibration_curve(y, clipped, n_bins=bins, strategy="uniform", pos_label=1)
    sizes = np.bincount(np.searchsorted(np.linspace(0, 1, bins + 1)[1:-1], clipped), minlength=bins)
    writer.data(
        "calibration.csv",
        pd.DataFrame({"prob_pred": prob_pred, "prob_true": prob_true, "rows": sizes[sizes > 0]}),
    )

    def reliability(fig: Any) -> None:
        top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1))
        top.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated")
        top.plot(prob_pred, prob_true, marker="o", label="model")
        top.set(ylabel="observed positive rate")
        top.legend(loc="upper left")
        bottom.hist(clipped, bins=np.linspace(0, 1, bins + 1), color="tab:blue")
        bottom.set(xlabel="predicted probability", ylabel="rows")

    writer.figure("calibration.png", "Calibration (reliability diagram)", reliability, size=(6.4, 6.4))


def threshold_curves(writer: PlotWriter, table: pd.DataFrame, marks: dict[str, float]) -> None:
    columns = ["threshold", "precision", "recall", "f1", "accuracy", "cost"]
    writer.data("thresholds.csv", writer.sample(table[columns]))

    def draw(fig: Any) -> None:
        left, right = fig.subplots(1, 2)
        for name in ("precision", "recall", "f1", "accuracy"):
            left.plot(table["threshold"], table[name], label=name)
        right.plot(table["threshold"], table["cost"], color="tab:red", label="total cost")
        for ax in (left, right):
            for (label, value), style in zip(marks.items(), ("-", "--", ":"), strict=True):
                ax.axvline(value, color="black", linestyle=style, linewidth=1, label=f"{label} {value:.3f}")
            ax.set(xlabel="threshold", xlim=(0, 1))
            ax.legend(loc="best", fontsize="small")
        left.set(ylabel="metric")
        right.set(ylabel="cost")

    writer.figure("thresholds.png", "Metrics across thresholds", draw, size=(11, 4.8))


def regression(writer: PlotWriter, y: np.ndarray, pred: np.ndarray) -> None:
    points = writer.sample(pd.DataFrame({"actual": y, "predicted": pred, "residual": y - pred}))
    writer.data("residuals.csv", points[["predicted", "residual"]])
    writer.data("predicted_vs_actual.csv", points[["actual", "predicted"]])

    def residuals(fig: Any) -> None:
        ax = fig.subplots()
        ax.scatter(points["predicted"], points["residual"], s=6, alpha=0.5)
        ax.axhline(0.0, color="grey", linestyle="--")
        ax.set(xlabel="predicted", ylabel="residual (actual - predicted)")

    def versus(fig: Any) -> None:
        ax = fig.subplots()
        ax.scatter(points["actual"], points["predicted"], s=6, alpha=0.5)
        low, high = float(min(y.min(), pred.min())), float(max(y.max(), pred.max()))
        ax.plot([low, high], [low, high], color="grey", linestyle="--", label="ideal")
        ax.set(xlabel="actual", ylabel="predicted")
        ax.legend(loc="upper left")

    writer.figure("residuals.png", "Residuals vs predicted", residuals)
    writer.figure("predicted_vs_actual.png", "Predicted vs actual", versus)


def importance(writer: PlotWriter, name: str, table: pd.DataFrame, label: str, value: str) -> None:
    writer.data(f"importance_{name}.csv", table)
    top = table.head(TOP_FEATURES).iloc[::-1]
    error = top.get("importance_std", None)

    def draw(fig: Any) -> None:
        ax = fig.subplots()
        ax.barh(top[label].astype(str), top[value], xerr=error, color="tab:blue")
        ax.set(xlabel=value.replace("_", " "))

    title = "Native feature importance (gain)" if name == "native" else "Permutation importance"
    writer.figure(f"importance_{name}.png", title, draw, size=(7.5, 0.3 * len(top) + 1.8))


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "column"


def segments(writer: PlotWriter, document: SegmentsDocument) -> None:
    rows = pd.DataFrame([asdict(segment) for segment in document.segments])
    columns = ["column", "segment", "rows", "value", "ci_low", "ci_high", "flagged"]
    writer.data("segments.csv", rows[columns] if len(rows) else pd.DataFrame(columns=columns))
    for column, group in rows.groupby("column", sort=False) if len(rows) else []:
        shown = group[group["value"].notna()].iloc[::-1]

        def draw(fig: Any, shown: pd.DataFrame = shown) -> None:
            ax = fig.subplots()
            low = (shown["value"] - shown["ci_low"]).fillna(0.0).clip(lower=0.0)
            high = (shown["ci_high"] - shown["value"]).fillna(0.0).clip(lower=0.0)
            colours = ["tab:red" if flag else "tab:blue" for flag in shown["flagged"]]
            labels = [f"{s} (n={n})" for s, n in zip(shown["segment"], shown["rows"], strict=True)]
            ax.barh(labels, shown["value"], xerr=[low, high], color=colours)
            ax.axvline(document.overall, color="black", linestyle="--", label="overall")
            ax.set(xlabel=document.metric)
            ax.legend(loc="lower right")

        writer.figure(
            f"segments_{_slug(column)}.png",
            f"{document.metric} by {column} (red: significantly worse)",
            draw,
            size=(7.5, 0.3 * len(shown) + 1.8),
        )
