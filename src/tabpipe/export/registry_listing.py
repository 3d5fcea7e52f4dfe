"""What ``tabpipe registry list`` and ``show`` print for each version.

Read from the version's ``metadata.json`` and ``metrics.json`` (checksums are verified by
``show``, not by ``list``, which stays fast on large registries).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from tabpipe.documents.metadata import RecordedConfig, RegistrationSource
from tabpipe.documents.metrics import read_metrics
from tabpipe.errors import TabpipeError, first_line
from tabpipe.export import documents
from tabpipe.export.documents import MetadataDocument
from tabpipe.export.registry import Registry


@dataclass
class VersionInfo:
    name: str
    version: int
    model: str | None = None
    task: str | None = None
    metric: str | None = None  # the primary test metric's key, e.g. test/auc
    value: float | None = None
    trained_at: str | None = None
    registered_at: str | None = None
    git_commit: str | None = None
    git_dirty: bool | None = None
    data_sha256: str | None = None
    source: RegistrationSource | None = None
    aliases: list[str] = field(default_factory=list)
    problem: str | None = None

    def as_dict(self) -> dict[str, Any]:
        source = self.source.model_dump(mode="json") if self.source else None
        return {**{f.name: getattr(self, f.name) for f in fields(self)}, "source": source}

    @property
    def source_text(self) -> str:
        return self.source.describe() if self.source else "-"


def model_label(config: RecordedConfig) -> str | None:
    """``xgb``-style label from the model's ``_target_`` (``tabpipe.models.xgb.XGBModel``)."""
    target = config.model.target
    if not target:
        return None
    parts = target.split(".")
    return parts[-2] if target.startswith("tabpipe.models.") and len(parts) > 2 else parts[-1]


def primary_key(metadata: MetadataDocument, metrics: dict[str, Any]) -> str | None:
    """The primary test metric: recorded at registration, else the config's, else None."""
    recorded = metadata.registry.primary_metric if metadata.registry else None
    configured = metadata.config.eval.primary_metric
    for name in (recorded, configured):
        if name and f"test/{name}" in metrics:
            return f"test/{name}"
    return None


def version_info(registry: Registry, name: str, version: int, aliases: dict[str, int]) -> VersionInfo:
    info = VersionInfo(name, version, aliases=sorted(a for a, v in aliases.items() if v == version))
    try:
        path = registry.version_dir(name, version)
        metadata = documents.read(MetadataDocument, path / "metadata.json")
        metrics = read_metrics(path / "metrics.json")
    except (OSError, TabpipeError) as error:
        info.problem = first_line(error)
        return info
    info.model = model_label(metadata.config)
    info.task = metadata.task
    info.metric = primary_key(metadata, metrics)
    info.value = metrics.get(info.metric) if info.metric else None
    info.trained_at = metadata.ended_at or metadata.started_at
    info.git_commit, info.git_dirty = metadata.git.commit, metadata.git.dirty
    info.data_sha256 = metadata.dataset.sha256
    if metadata.registry:
        info.registered_at = metadata.registry.registered_at
        info.source = metadata.registry.origin()
    return info


def list_versions(registry: Registry, names: list[str] | None = None) -> list[VersionInfo]:
    rows = []
    for name in names or registry.names():
        aliases = registry.aliases(name)
        rows += [version_info(registry, name, v, aliases) for v in registry.versions(name)]
    return rows
