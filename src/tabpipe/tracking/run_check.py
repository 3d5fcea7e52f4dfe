"""``tabpipe check-run <run_dir>``: is everything needed to trust and reproduce a run recorded?

Reads only ``metadata.json`` (validated as :class:`~tabpipe.documents.metadata.MetadataDocument`)
and the files it lists (no ML library is imported).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from tabpipe.documents.base import dotted, migrate
from tabpipe.documents.metadata import ArtifactRecord, MetadataDocument, RecordedArtifacts
from tabpipe.errors import IncompleteRunError
from tabpipe.io import sha256_file

# (dotted key, what it is, its value): must be present and non-empty
REQUIRED: tuple[tuple[str, str, Callable[[MetadataDocument], Any]], ...] = (
    ("config", "params (the resolved config)", lambda m: m.config.tree()),
    ("seed", "seed", lambda m: m.seed),
    ("dataset.uri", "dataset source", lambda m: m.dataset.uri),
    ("dataset.sha256", "dataset hash", lambda m: m.dataset.sha256),
    ("dataset.n_rows", "dataset row count", lambda m: m.dataset.n_rows),
    ("dataset.n_columns", "dataset column count", lambda m: m.dataset.n_columns),
    ("splits", "split sizes and row-id hashes", lambda m: m.splits),
    ("packages", "package versions", lambda m: m.packages),
    ("platform", "platform", lambda m: m.platform),
    ("device", "device", lambda m: m.device),
    ("started_at", "start time", lambda m: m.started_at),
    ("ended_at", "end time", lambda m: m.ended_at),
    ("duration_s", "duration", lambda m: m.duration_s),
    ("metrics", "metrics", lambda m: m.metrics),
    ("artifacts", "artifacts with checksums", lambda m: m.artifacts),
)
# must be present; null is a valid value (a run outside git, a run composed with Hydra's compose API)
PRESENT: tuple[tuple[str, str, Callable[[MetadataDocument], bool]], ...] = (
    ("git.commit", "git commit", lambda m: "commit" in m.git.model_fields_set),
    ("git.dirty", "git dirty flag", lambda m: "dirty" in m.git.model_fields_set),
    (
        "dataset.dvc_md5",
        "DVC md5 (null when DVC does not track the data)",
        lambda m: "dvc_md5" in m.dataset.model_fields_set,
    ),
    (
        "hydra.overrides",
        "config overrides",
        lambda m: m.hydra is not None and "overrides" in m.hydra.model_fields_set,
    ),
)
WHAT = {key: what for key, what, _ in (*REQUIRED, *PRESENT)} | {"dataset": "dataset facts"}


@dataclass
class RunCheck:
    run_dir: Path
    metadata: MetadataDocument

    @property
    def summary(self) -> str:
        return (
            f"ok: {self.run_dir}: {len(self.metadata.artifacts)} artifacts verified, "
            f"{len(self.metadata.metrics)} metrics, seed {self.metadata.seed}, "
            f"dataset sha256 {self.metadata.dataset.sha256[:12]}"
        )


def _is_empty(value: Any) -> bool:
    return value is None or value in ("", {}, [])


def _entry_problems(metadata: MetadataDocument) -> list[str]:
    problems = [
        f"metadata.json: {key} ({what}) is missing"
        for key, what, value in REQUIRED
        if _is_empty(value(metadata))
    ]
    problems += [
        f"metadata.json: {key} ({what}) is missing" for key, what, present in PRESENT if not present(metadata)
    ]
    for split in metadata.splits:
        for part in ("train", "val", "test"):
            if not getattr(split.row_ids_sha256, part):
                problems.append(f"metadata.json: splits[fold={split.fold}].row_ids_sha256.{part} is missing")
    return problems


def _validation_problems(error: ValidationError) -> list[str]:
    """Every problem pydantic found, one line each: a missing entry named as ``_entry_problems``
    names it, any other as ``field <path>: <rule>``."""
    problems = []
    for entry in error.errors():
        key = dotted(entry["loc"])
        if entry["type"] == "missing":
            problems.append(f"metadata.json: {key} ({WHAT.get(key, key)}) is missing")
        else:
            problems.append(f"metadata.json: field {key}: {entry['msg']}")
    return problems


def _artifact_problems(run_dir: Path, artifacts: dict[str, ArtifactRecord]) -> list[str]:
    problems = []
    if "metrics.json" not in artifacts:
        problems.append("metadata.json: artifacts lack metrics.json")
    for name, record in sorted(artifacts.items()):
        path = run_dir / name
        if not path.is_file():
            problems.append(f"artifact {name}: missing")
        elif sha256_file(path) != record.sha256:
            problems.append(f"artifact {name}: sha256 differs from the recorded one (changed after the run)")
    return problems


def _problems(run_dir: Path, raw: Any) -> tuple[MetadataDocument | None, list[str]]:
    if not isinstance(raw, dict):
        return None, [f"metadata.json: expected a JSON object, got {type(raw).__name__}"]
    try:
        metadata = MetadataDocument.model_validate(migrate(raw, "metadata.json"))
    except ValidationError as error:
        try:  # the files are still verified, so that one run of check-run names every problem
            artifacts = RecordedArtifacts.model_validate(raw).artifacts
        except ValidationError:
            artifacts = {}
        return None, _validation_problems(error) + _artifact_problems(run_dir, artifacts)
    return metadata, _entry_problems(metadata) + _artifact_problems(run_dir, metadata.artifacts)


def check_run(run_dir: Path) -> RunCheck:
    """Raise :class:`IncompleteRunError` naming every missing entry or artifact."""
    run_dir = Path(run_dir)
    path = run_dir / "metadata.json"
    if not path.is_file():
        raise IncompleteRunError([f"{run_dir}: metadata.json is missing (not a tabpipe run directory?)"])
    try:
        raw = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise IncompleteRunError([f"{path}: not valid JSON ({exc})"]) from exc
    metadata, problems = _problems(run_dir, raw)
    if problems or metadata is None:
        raise IncompleteRunError([f"check-run {run_dir}: {problem}" for problem in problems])
    return RunCheck(run_dir, metadata)
