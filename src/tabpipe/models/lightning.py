"""Train any LightningModule on tabular features; the default is :mod:`tabpipe.models.mlp`."""

from __future__ import annotations

import inspect
import json
import os
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch
from hydra.utils import get_class, instantiate
from omegaconf import DictConfig, OmegaConf
from torch.utils.data import DataLoader, Dataset, default_collate

from tabpipe.distributed import is_rank_zero
from tabpipe.errors import ConfigError
from tabpipe.log_routing import route_lightning_to_root
from tabpipe.models.base import FitData, RunContext
from tabpipe.tasks import get_task

_TRAINER_KEYS = (
    "accelerator",
    "devices",
    "strategy",
    "precision",
    "min_epochs",
    "max_epochs",
    "deterministic",
    "gradient_clip_val",
    "fast_dev_run",
    "limit_train_batches",
    "limit_val_batches",
    "overfit_batches",
    "check_val_every_n_epoch",
    "log_every_n_steps",
    "enable_progress_bar",
)


class _MetricsJournal(pl.Callback):
    """Reports each epoch's logged metrics (rank zero only).

    In the process that called ``fit`` they go straight to the run's metric loggers, live,
    so a sweep trial can be pruned mid-training. Spawned DDP workers cannot reach those
    loggers: they append to a JSONL file that the parent replays after ``fit``.
    """

    def __init__(self, path: Path, live: Any = None) -> None:
        self.path = path
        self.live = live
        self.owner_pid = os.getpid()

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "live": None}  # the loggers stay in the parent process

    def on_train_epoch_end(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        # runs after the epoch's validation, so train/ and val/ metrics are both there
        if not trainer.is_global_zero:
            return
        metrics = {k: float(v) for k, v in trainer.callback_metrics.items() if v.numel() == 1}
        if self.live is not None and os.getpid() == self.owner_pid:
            self.live(metrics, trainer.current_epoch)
            return
        with self.path.open("a") as handle:
            handle.write(json.dumps({"step": trainer.current_epoch, "metrics": metrics}) + "\n")

    def replay(self, data: FitData) -> None:
        if not is_rank_zero() or not self.path.is_file():
            return
        for line in self.path.read_text().splitlines():
            entry = json.loads(line)
            data.report(entry["metrics"], entry["step"])
        self.path.unlink()


def _build_callbacks(callbacks_cfg: Any, fast_dev_run: bool) -> list[pl.Callback]:
    built = []
    for name, spec in (callbacks_cfg or {}).items():
        if spec is None:
            continue
        if not isinstance(spec, DictConfig | dict) or "_target_" not in spec:
            raise ConfigError(f"callbacks.{name}: needs a _target_")
        if fast_dev_run and "ModelCheckpoint" in str(spec["_target_"]):
            continue
        built.append(instantiate(spec))
    return built


class _Tensors(Dataset):
    """Rows of (x, y) tensors that hand out whole batches by fancy indexing.

    The DataLoader's fetcher calls ``__getitems__`` with a batch of indices, so there is
    no per-row collate; samplers stay standard, so Lightning can still swap them (DDP's
    DistributedSampler, overfit_batches).
    """

    def __init__(self, X: np.ndarray, y: np.ndarray) -> None:
        self.X = torch.from_numpy(X)
        self.y = torch.from_numpy(np.asarray(y, dtype=np.float32))

    def __len__(self) -> int:
        return len(self.X)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.X[index], self.y[index]

    def __getitems__(self, indices: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        rows = torch.as_tensor(indices)
        return self.X[rows], self.y[rows]


def _collate(batch: Any) -> Any:
    return batch if isinstance(batch, tuple) else default_collate(batch)


def _loader(
    X: np.ndarray, y: np.ndarray, batch_size: int, shuffle: bool, seed: int, num_workers: int
) -> DataLoader:
    generator = torch.Generator().manual_seed(seed)
    return DataLoader(
        _Tensors(X, y),
        batch_size=batch_size,
        shuffle=shuffle,
        generator=generator,
        drop_last=shuffle and len(X) > batch_size,
        num_workers=num_workers,
        collate_fn=_collate,
    )


class LightningModel:
    def __init__(self, module: Any, batch_size: int = 256, num_workers: int = 0) -> None:
        self.module = module
        self.batch_size = batch_size
        self.num_workers = num_workers

    def _build_module(self, data: FitData) -> pl.LightningModule:
        spec = (
            OmegaConf.to_container(self.module, resolve=True)
            if isinstance(self.module, DictConfig)
            else dict(self.module)
        )
        target = spec.pop("_target_", None)
        if not target:
            raise ConfigError("model.module._target_: required (a LightningModule class path)")
        cls = get_class(target)
        kwargs = {
            "n_inputs": data.X_train.shape[1],
            "task": data.task,
            "n_outputs": get_task(data.task).n_outputs(data.n_classes),
            **spec,
        }
        if "categorical_slots" in inspect.signature(cls).parameters:
            kwargs["categorical_slots"] = list(data.categorical_slots)
        try:
            return cls(**kwargs)
        except TypeError as exc:
            raise ConfigError(f"model.module ({target}): {exc}") from exc

    def fit(self, data: FitData, context: RunContext) -> LightningModel:
        route_lightning_to_root()  # each Lightning line once, through the run's handlers
        pl.seed_everything(context.seed, workers=True, verbose=False)
        self.task_ = data.task
        # numeric targets (regression) are standardised with train statistics for the network
        self.target_mean_, self.target_std_ = 0.0, 1.0
        if not get_task(data.task).has_classes:
            self.target_mean_ = float(np.mean(data.y_train))
            self.target_std_ = float(np.std(data.y_train)) or 1.0
        self.module_ = self._build_module(data)
        trainer_cfg = {k: context.trainer[k] for k in _TRAINER_KEYS if context.trainer[k] is not None}
        callbacks = _build_callbacks(context.callbacks, bool(context.trainer.fast_dev_run))
        Path(context.output_dir).mkdir(parents=True, exist_ok=True)
        journal = _MetricsJournal(Path(context.output_dir) / ".epoch_metrics.jsonl", live=data.report)
        if is_rank_zero():
            journal.path.unlink(missing_ok=True)
        trainer = pl.Trainer(
            **trainer_cfg,
            callbacks=[*callbacks, journal],
            logger=False,
            default_root_dir=str(context.output_dir),
            enable_model_summary=False,
        )
        seed, workers = context.seed, self.num_workers
        train = _loader(data.X_train, self._scaled(data.y_train), self.batch_size, True, seed, workers)
        val = _loader(data.X_val, self._scaled(data.y_val), self.batch_size, False, seed, workers)
        trainer.fit(self.module_, train, val, ckpt_path=context.ckpt_path)
        journal.replay(data)
        best = getattr(trainer.checkpoint_callback, "best_model_path", "")
        if best and Path(best).is_file():  # predict with the early-stopping optimum
            state = torch.load(best, map_location="cpu", weights_only=False)["state_dict"]
            self.module_.load_state_dict(state)
        self.best_checkpoint_ = best or None
        self.module_.to("cpu").eval()
        return self

    def _scaled(self, y: np.ndarray) -> np.ndarray:
        return (y - self.target_mean_) / self.target_std_ if not get_task(self.task_).has_classes else y

    @torch.no_grad()
    def predict(self, X: np.ndarray) -> np.ndarray:
        outputs = [
            self.module_(torch.from_numpy(np.ascontiguousarray(X[i : i + 65536])))
            for i in range(0, len(X), 65536)
        ]
        raw = torch.cat(outputs) if outputs else torch.empty((0, 1))
        task = get_task(self.task_)
        if task.output_activation == "sigmoid":
            return task.model_output(torch.sigmoid(raw.squeeze(-1)).double().numpy())
        if task.output_activation == "softmax":
            return torch.softmax(raw.double(), dim=-1).numpy()
        return raw.squeeze(-1).double().numpy() * self.target_std_ + self.target_mean_

    def save(self, directory: Path) -> list[Path]:
        import lightning

        from tabpipe.io import write_atomic

        checkpoint = {
            "state_dict": self.module_.state_dict(),
            "hyper_parameters": dict(self.module_.hparams),
            "pytorch-lightning_version": lightning.__version__,
            "module_class": f"{type(self.module_).__module__}.{type(self.module_).__qualname__}",
            "target_scaling": {"mean": self.target_mean_, "std": self.target_std_},
        }
        path = Path(directory) / "model.ckpt"
        return [write_atomic(path, lambda tmp: torch.save(checkpoint, tmp))]
