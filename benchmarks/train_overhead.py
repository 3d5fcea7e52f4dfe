"""tabpipe's training overhead against the raw libraries, in one run.

* xgb: ``XGBoostModel.fit`` (what ``model=xgb`` runs) vs a plain ``xgboost.train`` script
  with the same parameters, rounds, early stopping and data. Ratio = tabpipe / raw
  seconds (target <= 1.10).
* mlp: ``LightningModel.fit`` with ``TabularMLP`` (what ``model=mlp`` runs) vs a plain
  PyTorch loop over the same network, optimiser, batch size and epochs (with a val pass
  per epoch). Ratio = tabpipe / raw samples per second (target >= 0.85).

Data: synthetic, ``--rows`` x 20 float32 features, binary target (default 1M rows).
Each side runs ``--repeats`` times, alternating; the median is reported.

    python benchmarks/train_overhead.py [--rows 1000000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from tempfile import TemporaryDirectory

import numpy as np
from omegaconf import OmegaConf

from tabpipe.config.schema import TrainerConfig
from tabpipe.models.base import FitData, RunContext


def synthetic(rows: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, 20)).astype(np.float32)
    logits = X[:, :5] @ rng.normal(size=5) + 0.5 * X[:, 5] * X[:, 6]
    y = (logits + rng.logistic(size=rows) > 0).astype(np.int64)
    return X, y


def fit_data(X: np.ndarray, y: np.ndarray) -> FitData:
    cut = int(len(X) * 0.85)
    names = [f"x{i}" for i in range(X.shape[1])]
    return FitData(X[:cut], y[:cut], X[cut:], y[cut:], "binary", 2, names)


XGB_PARAMS = {"learning_rate": 0.1, "max_depth": 6, "subsample": 1.0, "colsample_bytree": 1.0}


def tabpipe_xgb(data: FitData, rounds: int, trainer) -> float:
    from tabpipe.config.construct import build
    from tabpipe.config.schema import XGBModelConfig

    model = build(XGBModelConfig(n_estimators=rounds, early_stopping_rounds=10, **XGB_PARAMS), "model")
    with TemporaryDirectory() as out:
        start = time.perf_counter()
        model.fit(data, RunContext(0, trainer, {}, Path(out)))
        return time.perf_counter() - start


def raw_xgb(data: FitData, rounds: int, trainer) -> float:
    import xgboost as xgb

    from tabpipe.config.construct import build
    from tabpipe.config.schema import XGBModelConfig

    # the very parameters tabpipe would pass: objective, metrics, hist, seed, threads
    params = build(XGBModelConfig(**XGB_PARAMS), "model").booster_params("binary", 2, 0, "cpu")
    start = time.perf_counter()
    dtrain = xgb.DMatrix(data.X_train, label=data.y_train)
    dval = xgb.DMatrix(data.X_val, label=data.y_val)
    xgb.train(
        params,
        dtrain,
        num_boost_round=rounds,
        evals=[(dtrain, "train"), (dval, "val")],
        early_stopping_rounds=10,
        verbose_eval=False,
    )
    return time.perf_counter() - start


MLP = {
    "hidden_dims": [128, 64],
    "dropout": 0.1,
    "batch_norm": True,
    "embedding_dim": 0,
    "lr": 1e-3,
    "weight_decay": 1e-4,
}


def tabpipe_mlp(data: FitData, epochs: int, batch: int, trainer) -> float:
    from tabpipe.config.construct import build
    from tabpipe.config.schema import LightningModelConfig

    module = {"_target_": "tabpipe.models.mlp.TabularMLP", **MLP}
    model = build(LightningModelConfig(module=module, batch_size=batch), "model")
    with TemporaryDirectory() as out:
        start = time.perf_counter()
        model.fit(data, RunContext(0, trainer, {}, Path(out)))
        elapsed = time.perf_counter() - start
    return epochs * len(data.X_train) / elapsed


def raw_mlp(data: FitData, epochs: int, batch: int, trainer) -> float:
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    torch.manual_seed(0)
    torch.use_deterministic_algorithms(True)
    layers: list[nn.Module] = []
    width = data.X_train.shape[1]
    for hidden in MLP["hidden_dims"]:
        layers += [nn.Linear(width, hidden), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Dropout(0.1)]
        width = hidden
    net = nn.Sequential(*layers, nn.Linear(width, 1))
    optimiser = torch.optim.AdamW(net.parameters(), lr=MLP["lr"], weight_decay=MLP["weight_decay"])
    loss_fn = nn.BCEWithLogitsLoss()
    train = DataLoader(
        TensorDataset(torch.from_numpy(data.X_train), torch.from_numpy(data.y_train.astype(np.float32))),
        batch_size=batch,
        shuffle=True,
        drop_last=True,
    )
    val = DataLoader(
        TensorDataset(torch.from_numpy(data.X_val), torch.from_numpy(data.y_val.astype(np.float32))),
        batch_size=batch,
    )
    start = time.perf_counter()
    for _ in range(epochs):
        net.train()
        for x, y in train:
            optimiser.zero_grad()
            loss = loss_fn(net(x).squeeze(-1), y)
            loss.backward()
            optimiser.step()
        net.eval()
        with torch.no_grad():
            sum(loss_fn(net(x).squeeze(-1), y).item() for x, y in val)
    elapsed = time.perf_counter() - start
    return epochs * len(data.X_train) / elapsed


def median_pair(fn_a, fn_b, repeats: int, *args) -> tuple[float, float]:
    a, b = [], []
    for _ in range(repeats):
        a.append(fn_a(*args))
        b.append(fn_b(*args))
    return statistics.median(a), statistics.median(b)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    # import every library up front: import time is not fit time
    import torch  # noqa: F401
    import xgboost  # noqa: F401

    import tabpipe.models.lightning
    import tabpipe.models.xgb  # noqa: F401

    X, y = synthetic(args.rows)
    data = fit_data(X, y)
    trainer = OmegaConf.structured(
        TrainerConfig(
            max_epochs=args.epochs,
            min_epochs=args.epochs,
            enable_progress_bar=False,
            deterministic=True,
            check_val_every_n_epoch=1,
        )
    )
    xgb_tabpipe, xgb_raw = median_pair(tabpipe_xgb, raw_xgb, args.repeats, data, args.rounds, trainer)
    mlp_tabpipe, mlp_raw = median_pair(
        tabpipe_mlp, raw_mlp, args.repeats, data, args.epochs, args.batch_size, trainer
    )
    figures = {
        "rows": args.rows,
        "xgb_fit_s": {
            "tabpipe": round(xgb_tabpipe, 3),
            "raw": round(xgb_raw, 3),
            "ratio": round(xgb_tabpipe / xgb_raw, 3),
            "target": "<= 1.10",
        },
        "mlp_samples_per_s": {
            "tabpipe": round(mlp_tabpipe),
            "raw": round(mlp_raw),
            "ratio": round(mlp_tabpipe / mlp_raw, 3),
            "target": ">= 0.85",
        },
    }
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
