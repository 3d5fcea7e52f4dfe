"""Per-step metric history as a long-format CSV: ``step,name,value``."""

from __future__ import annotations

import csv
from pathlib import Path

from tabpipe.io import write_atomic


class CSVMetricsLogger:
    def __init__(self, save_dir: str) -> None:
        self.save_dir = Path(save_dir)
        self.rows: list[tuple[int, str, float]] = []
        self.summary: dict[str, float] = {}

    def log_metrics(self, metrics: dict[str, float], step: int) -> None:
        self.rows.extend((step, name, value) for name, value in metrics.items())

    def log_summary(self, metrics: dict[str, float]) -> None:
        self.summary.update(metrics)

    def finalize(self, status: str) -> None:
        def write(tmp: Path) -> None:
            with tmp.open("w", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(["step", "name", "value"])
                writer.writerows(self.rows)

        write_atomic(self.save_dir / "metrics.csv", write)
