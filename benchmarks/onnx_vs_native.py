"""Predict throughput of the exported graph (ONNX Runtime) against the native model.

For each model type, trained on the bundled churn data, and batch sizes 1, 100 and 100k:

* onnx: ``tensors_from_coerced`` + one ``InferenceSession.run`` of the whole graph
  (preprocessing included), as batch and online serving do;
* native: the fitted scikit-learn ``ColumnTransformer.transform`` + the model's own
  ``predict`` (xgboost ``inplace_predict``, lightgbm ``predict``, sklearn ``predict_proba``,
  torch forward).

Both start from the same coerced DataFrame. Ratio = onnx rows/s / native rows/s (target
>= 1.0 for the GBDTs at batch 1).

    python benchmarks/onnx_vs_native.py [--seconds 2] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory

import numpy as np
import pandas as pd

MODELS = {
    "xgb": ["model=xgb", "model.n_estimators=100", "model.early_stopping_rounds=1000"],
    "lgbm": ["model=lgbm", "model.n_estimators=100", "model.early_stopping_rounds=1000"],
    "linear": ["model=linear"],
    "mlp": ["model=mlp", "trainer.max_epochs=2", "trainer.enable_progress_bar=false"],
}
BATCHES = (1, 100, 100_000)


def compose(overrides: list[str], out: Path):
    from hydra import compose, initialize_config_dir

    from tabpipe.config.store import register_configs

    register_configs()
    conf = Path(__file__).resolve().parents[1] / "conf"
    with initialize_config_dir(str(conf), version_base="1.3"):
        return compose(
            "train",
            overrides=[
                *overrides,
                f"paths.output_dir={out}",
                "registry.name=null",
                "logger=none",
                "eval.require_beat_baseline=false",
            ],
        )


def rows_per_second(predict, frame: pd.DataFrame, batch: int, seconds: float) -> float:
    batches = [frame.iloc[i : i + batch] for i in range(0, len(frame) - batch + 1, batch)][:2000]
    predict(batches[0])  # warm-up
    done, start, i = 0, time.perf_counter(), 0
    while time.perf_counter() - start < seconds or done == 0:
        predict(batches[i % len(batches)])
        done += batch
        i += 1
    return done / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    from tabpipe.data.ingestion import ingest
    from tabpipe.export import runtime
    from tabpipe.export.inputs import column_types, tensors_from_coerced
    from tabpipe.training.train import run_training

    results = []
    with TemporaryDirectory() as tmp:
        for name, overrides in MODELS.items():
            result = run_training(compose(overrides, Path(tmp) / name))
            fold = result.folds[0]
            schema = fold.preprocessor.schema
            types = column_types(schema)
            rng = np.random.default_rng(0)
            source = ingest(compose(overrides, Path(tmp) / "x").data)
            frame = source.features.iloc[rng.integers(0, source.n_rows, 200_000)].reset_index(drop=True)
            session = runtime.session(fold.graph)
            names = [o.name for o in session.get_outputs()]

            def onnx_predict(batch, session=session, names=names, types=types):
                return session.run(names, tensors_from_coerced(batch, types))

            def native_predict(batch, fold=fold):
                return fold.model.predict(fold.preprocessor.transform(batch))

            for size in BATCHES:
                onnx_rps = rows_per_second(onnx_predict, frame, size, args.seconds)
                native_rps = rows_per_second(native_predict, frame, size, args.seconds)
                results.append(
                    {
                        "model": name,
                        "batch": size,
                        "onnx_rows_per_s": round(onnx_rps),
                        "native_rows_per_s": round(native_rps),
                        "ratio": round(onnx_rps / native_rps, 2),
                    }
                )
                print(json.dumps(results[-1]), file=sys.stderr)
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
