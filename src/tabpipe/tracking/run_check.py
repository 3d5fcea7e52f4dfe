"""``tabpipe check-run <run_dir>``: is everything needed to trust and reproduce a run recorded?

Reads only ``metadata.json`` and the files it lists (no ML library is imported).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tabpipe.errors import IncompleteRunError
from tabpipe.io import sha256_file

# (dotted key, what it is): must be present and non-empty
REQUIRED = (
    ("config", "params (the resolved config)"),
    ("seed", "seed"),
    ("dataset.uri", "dataset source"),
    ("dataset.sha256", "dataset hash"),
    ("dataset.n_rows", "dataset row count"),
    ("dataset.n_columns", "dataset column count"),
    ("splits", "split sizes and row-id hashes"),
    ("packages", "package versions"),
    ("platform", "platform"),
    ("device", "device"),
    ("started_at", "start time"),
    ("ended_at", "end time"),
    ("duration_s", "duration"),
    ("metrics", "metrics"),
    ("artifacts", "artifacts with checksums"),
)
# must be present; null is a valid value (a run outside git, a run composed with Hydra's compose API)
PRESENT = (
    ("git.commit", "git commit"),
    ("git.dirty", "git dirty flag"),
    ("dataset.dvc_md5", "DVC md5 (null when DVC does not track the data)"),
    ("hydra.overrides", "config overrides"),
)


@dataclass
class RunCheck:
    run_dir: Path
    metadata: dict[str, Any]

    @property
    def summary(self) -> str:
        return (
            f"ok: {self.run_dir}: {len(self.metadata['artifacts'])} artifacts verified, "
            f"{len(self.metadata['metrics'])} metrics, seed {self.metadata['seed']}, "
            f"dataset sha256 {self.metadata['dataset']['sha256'][:12]}"
        )


def _lookup(record: dict[str, Any], dotted: str) -> tuple[bool, Any]:
    node: Any = record
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    return True, node


def _entry_problems(metadata: dict[str, Any]) -> list[str]:
    problems = []
    for key, what in REQUIRED:
        found, value = _lookup(metadata, key)
        if not found or value is None or value in ("", {}, []):
            problems.append(f"metadata.json: {key} ({what}) is missing")
    for key, what in PRESENT:
        if not _lookup(metadata, key)[0]:
            problems.append(f"metadata.json: {key} ({what}) is missing")
    for split in metadata.get("splits") or []:
        hashes = split.get("row_ids_sha256") or {}
        for part in ("train", "val", "test"):
            if not hashes.get(part):
                problems.append(
                    f"metadata.json: splits[fold={split.get('fold')}].row_ids_sha256.{part} is missing"
                )
    return problems


def _artifact_problems(run_dir: Path, artifacts: dict[str, Any]) -> list[str]:
    problems = []
    if "metrics.json" not in artifacts:
        problems.append("metadata.json: artifacts lack metrics.json")
    for name, record in sorted(artifacts.items()):
        path = run_dir / name
        if not path.is_file():
            problems.append(f"artifact {name}: missing")
        elif sha256_file(path) != record.get("sha256"):
            problems.append(f"artifact {name}: sha256 differs from the recorded one (changed after the run)")
    return problems


def check_run(run_dir: Path) -> RunCheck:
    """Raise :class:`IncompleteRunError` naming every missing entry or artifact."""
    run_dir = Path(run_dir)
    path = run_dir / "metadata.json"
    if not path.is_file():
        raise IncompleteRunError([f"{run_dir}: metadata.json is missing (not a tabpipe run directory?)"])
    try:
        metadata = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise IncompleteRunError([f"{path}: not valid JSON ({exc})"]) from exc
    problems = _entry_problems(metadata)
    problems += _artifact_problems(run_dir, metadata.get("artifacts") or {})
    if problems:
        raise IncompleteRunError([f"check-run {run_dir}: {problem}" for problem in problems])
    return RunCheck(run_dir, metadata)
