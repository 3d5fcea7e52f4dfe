"""Where each DVC stage writes, relative to the project root (``dvc.yaml``'s directory)."""

from __future__ import annotations

from pathlib import Path

STAGES = ("ingest", "split", "train", "evaluate", "export")  # in dvc.yaml's order

RAW = Path("data/raw")
VALIDATED = Path("data/validated")
SPLIT = Path("data/split")
TRAIN = Path("pipeline/train")
EVALUATE = Path("pipeline/evaluate")
EXPORT = Path("pipeline/export")

SNAPSHOT = VALIDATED / "snapshot.parquet"
SOURCE = VALIDATED / "source.json"
SPLIT_FILES = {part: SPLIT / f"{part}.parquet" for part in ("train", "val", "test")}
FOLDS = TRAIN / "folds.joblib"
EVALUATION_RUN = EVALUATE / "run"  # the evaluation suite's run directory (plots, report)
EVALUATION = EVALUATE / "evaluation.joblib"
METRICS = EVALUATE / "metrics.json"  # DVC's: primary and secondary test metrics
ALL_METRICS = EVALUATION_RUN / "metrics.json"  # every metric (val, test, baseline, folds)
