"""Weights & Biases: offline-first, never prompts, one W&B run per training job.

Offline (the default without ``WANDB_API_KEY``) it writes ``<save_dir>/wandb/offline-run-*/``
(``run-<id>.wandb`` holds the config, history, summary and artifact records; upload it with
``wandb sync``). ``finalize`` always calls ``finish``, with exit code 1 for a failed job, so
the jobs of a multirun never share a run.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tabpipe.errors import ConfigError

MODES = ("online", "offline", "disabled", "shared")


def resolve_mode(mode: str | None) -> str:
    """The configured mode, else ``$WANDB_MODE``, else online with an API key, else offline."""
    chosen = (
        mode or os.environ.get("WANDB_MODE") or ("online" if os.environ.get("WANDB_API_KEY") else "offline")
    )
    if chosen == "dryrun":  # the old name of offline
        chosen = "offline"
    if chosen not in MODES:
        raise ConfigError(f"logger.wandb.mode={chosen!r}: must be one of {', '.join(MODES)}")
    return chosen


def artifact_name(name: str) -> str:
    """W&B artifact names allow letters, digits, dashes, underscores and dots."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "model"


def writable_dir(path: Path) -> Path:
    """Create ``path``; raise if it cannot be written (W&B would fall back to /tmp silently)."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OSError(f"logger.wandb.save_dir={str(path)!r}: cannot create ({exc.strerror})") from exc
    if not os.access(path, os.W_OK | os.X_OK):
        raise OSError(f"logger.wandb.save_dir={str(path)!r}: not writable")
    return path


class WandbLogger:
    def __init__(
        self,
        save_dir: str,
        project: str = "tabpipe",
        group: str | None = None,
        name: str | None = None,
        tags: Sequence[str] = (),
        job_type: str | None = None,
        entity: str | None = None,
        mode: str | None = None,
        log_model: bool = True,
    ) -> None:
        self.save_dir = Path(save_dir)
        self.project = project
        self.group = group
        self.name = name
        self.tags = list(tags or [])
        self.job_type = job_type
        self.entity = entity
        self.mode = resolve_mode(mode)
        self.log_model = log_model
        self.run: Any = None

    def log_config(self, config: dict[str, Any]) -> None:
        """Start the W&B run with the resolved config (the first call of a job)."""
        import wandb

        offline = self.mode != "online"
        settings = wandb.Settings(
            silent=True,
            console="off",
            # offline: no system monitor and no machine probe (they may reach cloud metadata URLs)
            x_disable_stats=offline,
            x_disable_machine_info=offline,
            save_code=False,
        )
        # wandb's terminal output is configured once per process, by its setup (not init)
        wandb.setup(settings=wandb.Settings(silent=True))
        self.run = wandb.init(
            project=self.project,
            entity=self.entity,
            group=self.group,
            name=self.name,
            tags=self.tags,
            job_type=self.job_type,
            config=config,
            dir=str(writable_dir(self.save_dir)),
            mode=self.mode,
            settings=settings,
        )
        # per-epoch / per-round metrics are plotted against the epoch or round number
        self.run.define_metric("step", hidden=True)
        self.run.define_metric("*", step_metric="step")

    def log_metrics(self, metrics: dict[str, float], step: int) -> None:
        if self.run is not None:
            self.run.log({**metrics, "step": step})

    def log_summary(self, metrics: dict[str, float]) -> None:
        if self.run is not None:
            self.run.summary.update(metrics)

    def log_plots(self, paths: list[Path]) -> None:
        if self.run is None or not paths:
            return
        import wandb

        self.run.log({f"plots/{Path(p).stem}": wandb.Image(str(p)) for p in paths})

    def log_artifact(self, path: Path, name: str, type: str) -> None:
        if self.run is None or (type == "model" and not self.log_model):
            return
        import wandb

        artifact = wandb.Artifact(artifact_name(name), type=type)
        path = Path(path)
        # immutable: W&B references the files instead of copying them to a staging dir
        if path.is_dir():
            artifact.add_dir(str(path), policy="immutable")
        else:
            artifact.add_file(str(path), policy="immutable")
        self.run.log_artifact(artifact)

    def finalize(self, status: str) -> None:
        run, self.run = self.run, None
        if run is not None:
            run.finish(exit_code=0 if status == "finished" else 1)
