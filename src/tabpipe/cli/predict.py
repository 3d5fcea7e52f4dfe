"""``tabpipe predict bundle=<ref> input=<csv|parquet|dir> output=<parquet|csv>``: batch scoring.

Options (keys of conf/predict.yaml): chunk_rows=100000, on_bad_row=reject|fail,
reject_path=<file> (default: the output's stem + .rejects.csv, next to it), progress=true,
engine=local|ray (Ray Data; the output is then a directory of Parquet files).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from tabpipe.cli.groups import run_app_command

if TYPE_CHECKING:
    from tabpipe.config.app_schema import PredictConfig


def _predict(cfg: PredictConfig) -> None:
    reject = Path(cfg.reject_path) if cfg.reject_path else None
    if cfg.engine.value == "ray":
        from tabpipe.serving.ray_batch import score_with_ray

        summary = score_with_ray(
            cfg.bundle,
            cfg.registry_root,
            Path(cfg.input),
            Path(cfg.output),
            cfg.chunk_rows,
            cfg.on_bad_row.value,
            reject,
        )
    else:
        from tabpipe.serving.batch import check_outputs, default_rejects, input_files, score_files
        from tabpipe.serving.loaded_model import load_model

        source, output = Path(cfg.input), Path(cfg.output)
        files = input_files(source)
        check_outputs(source, files, {"output": output, "reject_path": reject or default_rejects(output)})
        model = load_model(cfg.bundle, cfg.registry_root, list(cfg.providers))
        summary = score_files(
            model,
            files,
            output,
            cfg.chunk_rows,
            cfg.on_bad_row.value,
            reject,
            bool(cfg.progress),
        )
    rate = round(summary.rows_in / summary.seconds) if summary.seconds else None
    print(
        json.dumps(
            {
                "rows_in": summary.rows_in,
                "rows_scored": summary.rows_scored,
                "rows_rejected": summary.rows_rejected,
                "output": summary.output,
                "rejects": summary.rejects,
                "rows_per_s": rate,
            }
        )
    )


def main(argv: list[str]) -> None:
    run_app_command(__doc__ or "", "predict", argv, _predict)
