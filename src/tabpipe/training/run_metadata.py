"""``metadata.json``: everything needed to check and reproduce a run.

Written into the run directory (and, through the bundle, next to the model): the resolved
config and the Hydra overrides of the job, the seed, the dataset (source, sha256 of the raw
bytes, DVC md5 when DVC tracks the file, shape), a hash of the row ids of every split, git
commit and dirty flag, package versions, platform and device, start/end time, the metrics,
and every artifact of the run directory with its sha256.
"""

from __future__ import annotations

import hashlib
import os
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from tabpipe.config.schema import TrainConfig
from tabpipe.config.typed import as_dict
from tabpipe.data.ingestion import Dataset
from tabpipe.data.splits import Split
from tabpipe.documents.base import FORMAT_VERSION
from tabpipe.documents.metadata import HydraJob, MetadataDocument
from tabpipe.io import sha256_file
from tabpipe.training import reproducibility

METADATA = "metadata.json"
# written by loggers at the end of the job or by W&B itself: not artifacts of the run
UNTRACKED = frozenset({METADATA, "wandb", "csv"})


def _find_out(outs: list[dict[str, Any]], base: Path, target: Path) -> str | None:
    """The md5 of the DVC output that is ``target`` or a directory holding it."""
    for out in outs or []:
        path = (base / str(out.get("path", ""))).resolve()
        if (path == target or path in target.parents) and out.get("md5"):
            return str(out["md5"])
    return None


def dvc_md5(path: Path) -> dict[str, str] | None:
    """The md5 DVC recorded for ``path``: from ``<path>.dvc`` (or a tracked parent's
    ``.dvc`` file), else from the ``outs`` of a ``dvc.lock`` in a parent directory."""
    target = path.resolve()
    for candidate in (target, *target.parents):
        dvc_file = candidate.parent / f"{candidate.name}.dvc"
        if candidate.name and dvc_file.is_file():
            md5 = _find_out(yaml.safe_load(dvc_file.read_text()).get("outs"), dvc_file.parent, target)
            if md5:
                return {"md5": md5, "tracked_by": str(dvc_file)}
        lock = candidate / "dvc.lock"
        if candidate != target and lock.is_file():
            stages = (yaml.safe_load(lock.read_text()) or {}).get("stages", {})
            for stage in stages.values():
                md5 = _find_out(stage.get("outs"), lock.parent, target)
                if md5:
                    return {"md5": md5, "tracked_by": str(lock)}
    return None


def dataset_facts(dataset: Dataset) -> dict[str, Any]:
    uri = dataset.source.uri
    dvc = None if "://" in uri else dvc_md5(Path(uri))
    return {
        "uri": uri,
        "sha256": dataset.source.sha256,
        "dvc_md5": dvc["md5"] if dvc else None,
        "dvc_tracked_by": dvc["tracked_by"] if dvc else None,
        "n_rows": dataset.report.n_rows,
        "n_columns": dataset.report.n_columns,
    }


def run_facts(cfg: TrainConfig, dataset: Dataset) -> dict[str, Any]:
    """The dataset and git facts, computed once and shared by metadata.json and the trackers."""
    return {
        "dataset": dataset_facts(dataset),
        "git": reproducibility.git_state(Path(cfg.paths.root_dir)),
    }


def row_ids_sha256(dataset: Dataset, rows: Any) -> str:
    """sha256 of the split's row ids (the id columns, else row numbers) as headerless CSV."""
    text = dataset.ids.iloc[rows].to_csv(index=False, header=False, lineterminator="\n")
    return hashlib.sha256(text.encode()).hexdigest()


def split_facts(dataset: Dataset, split: Split) -> dict[str, Any]:
    parts = {"train": split.train, "val": split.val, "test": split.test}
    return {
        "fold": split.fold,
        **{name: len(rows) for name, rows in parts.items()},
        "row_ids_sha256": {name: row_ids_sha256(dataset, rows) for name, rows in parts.items()},
    }


def hydra_job() -> HydraJob:
    """The job's command-line overrides (what ``tabpipe reproduce`` replays) and directory."""
    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized():  # a plain Hydra compose() (tests, DVC); tabpipe.train runs a job
        return HydraJob(overrides=None, cwd=os.getcwd(), mode=None)
    hydra_cfg = HydraConfig.get()
    return HydraJob(
        overrides=list(hydra_cfg.overrides.task),
        cwd=hydra_cfg.runtime.cwd,
        mode=str(hydra_cfg.mode.name) if hydra_cfg.mode is not None else None,
    )


def device_info(cfg: TrainConfig) -> dict[str, Any]:
    return {
        "accelerator": str(cfg.trainer.accelerator),
        "devices": as_dict(cfg.trainer)["devices"],
        "cuda_devices": reproducibility.cuda_device_count(),
        "onnx_providers": list(cfg.export.providers),
    }


def build(
    cfg: TrainConfig, dataset: Dataset, splits: list[Split], started: float, facts: dict[str, Any]
) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,  # the bundle's copy is a MetadataDocument
        "config": as_dict(cfg),
        "seed": int(cfg.seed),
        "hydra": hydra_job(),
        "task": dataset.task,
        "classes": dataset.classes,
        "dataset": facts["dataset"],
        "splits": [split_facts(dataset, split) for split in splits],
        "git": facts["git"],
        "packages": reproducibility.package_versions(),
        "platform": reproducibility.platform_info(),
        "device": device_info(cfg),
        "started_at": _iso(started),
    }


def is_artifact(relative: Path) -> bool:
    top = relative.parts[0]
    hidden = any(part.startswith(".") for part in relative.parts)
    return not hidden and top not in UNTRACKED and not (len(relative.parts) == 1 and top.endswith(".log"))


def artifact_checksums(run_dir: Path) -> dict[str, dict[str, Any]]:
    """Every artifact file of the run directory (relative path) with its sha256 and size."""
    found = {}
    for path in sorted(p for p in run_dir.rglob("*") if p.is_file()):
        relative = path.relative_to(run_dir)
        if is_artifact(relative):
            found[relative.as_posix()] = {"sha256": sha256_file(path), "bytes": path.stat().st_size}
    return found


def write(metadata: dict[str, Any], run_dir: Path, metrics: dict[str, float], started: float) -> Path:
    """Complete ``metadata`` (metrics, artifacts, end time), validate it as the
    :class:`MetadataDocument` every reader reads, and write that atomically."""
    ended = time.time()
    metadata["metrics"] = dict(metrics)
    metadata["artifacts"] = artifact_checksums(run_dir)
    metadata["ended_at"] = _iso(ended)
    metadata["duration_s"] = round(ended - started, 3)
    return MetadataDocument.model_validate(metadata).write(run_dir / METADATA)


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).isoformat()
