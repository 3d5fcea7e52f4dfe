"""The human tables (and ``--json`` documents) of ``tabpipe registry list`` and ``show``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tabpipe.documents.metrics import read_metrics
from tabpipe.export.registry import Registry
from tabpipe.export.registry_listing import VersionInfo, list_versions, version_info
from tabpipe.export.registry_records import AliasMove

if TYPE_CHECKING:
    from tabpipe.export.bundle import Bundle

COLUMNS = ("version", "model", "primary test metric", "trained (UTC)", "git", "data", "source", "aliases")


def _date(value: str | None) -> str:
    return value[:16].replace("T", " ") if value else "-"


def _cells(info: VersionInfo) -> list[str]:
    if info.problem:
        return [f"{info.name}:{info.version}", "!", info.problem, "", "", "", "", ", ".join(info.aliases)]
    metric = f"{info.metric.removeprefix('test/')} {info.value:.4f}" if info.value is not None else "-"
    git = (info.git_commit or "-")[:10] + ("+dirty" if info.git_dirty else "")
    return [
        f"{info.name}:{info.version}",
        info.model or "-",
        metric,
        _date(info.trained_at),
        git,
        (info.data_sha256 or "-")[:12],
        info.source_text,
        ", ".join(info.aliases) or "-",
    ]


def table(rows: list[list[str]], header: tuple[str, ...] = COLUMNS) -> str:
    """Plain left-aligned columns, two spaces apart."""
    widths = [max(len(str(r[i])) for r in [list(header), *rows]) for i in range(len(header))]
    lines = [
        "  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in [list(header), *rows]
    ]
    return "\n".join(lines)


def with_default_metric(registry: Registry, info: VersionInfo) -> VersionInfo:
    """Versions registered before the primary metric was recorded: the task's default
    (the evaluation package is imported only for them)."""
    if info.metric is None and info.task and not info.problem:
        from tabpipe.evaluation.metrics import primary_metric

        key = f"test/{primary_metric(info.task, None)}"
        path = registry.version_dir(info.name, info.version) / "metrics.json"
        metrics = read_metrics(path)
        if key in metrics:
            info.metric, info.value = key, metrics[key]
    return info


def print_list(registry: Registry, name: str | None, as_json: bool) -> None:
    rows = [with_default_metric(registry, r) for r in list_versions(registry, [name] if name else None)]
    if as_json:
        print(json.dumps({"root": str(registry.root), "versions": [r.as_dict() for r in rows]}, indent=2))
    elif not rows:
        print(f"no models in {registry.root}" if not name else f"no versions of {name} in {registry.root}")
    else:
        print(table([_cells(r) for r in rows]))


@dataclass
class _Shown:
    """What ``registry show`` shows: the verified bundle, its registry row, its test metrics."""

    bundle: Bundle
    info: VersionInfo | None
    metrics: dict[str, Any]
    history: list[AliasMove]

    def as_json(self) -> dict[str, Any]:
        schema, metadata = self.bundle.schema, self.bundle.metadata
        return (
            {"path": str(self.bundle.path)}
            | (self.info.as_dict() if self.info else {})
            | {
                "registry": metadata.registry.model_dump(mode="json") if metadata.registry else {},
                "task": schema.task,
                "classes": schema.classes,
                "inputs": [f"{name}:{kind}" for name, kind in schema.input_types.items()],
                "metrics": self.metrics,
                "export": metadata.export.model_dump(mode="json") if metadata.export else None,
                "alias_history": [move.to_json() for move in self.history],
            }
        )


def _shown(registry: Registry, ref: str) -> _Shown:
    from tabpipe.export.bundle import load_bundle

    bundle = load_bundle(registry.resolve(ref))  # checksums (and signature) verified
    record = bundle.metadata.registry
    info = None
    if record:
        info = with_default_metric(
            registry, version_info(registry, record.name, record.version, registry.aliases(record.name))
        )
    metrics = {k: v for k, v in bundle.metrics.items() if k.startswith("test/")}
    return _Shown(bundle, info, metrics, registry.history(record.name) if record else [])


def print_show(registry: Registry, ref: str, as_json: bool) -> None:
    shown = _shown(registry, ref)
    if as_json:
        print(json.dumps(shown.as_json(), indent=2))
        return
    schema, info = shown.bundle.schema, shown.info
    rows = [["path", str(shown.bundle.path)], ["task", schema.task]]
    if info is not None:
        cells = dict(zip(COLUMNS, _cells(info), strict=True))
        rows = [["version", cells.pop("version")], *rows, *([k, v] for k, v in cells.items())]
        rows += [["registered (UTC)", _date(info.registered_at)], ["data sha256", info.data_sha256 or "-"]]
    if schema.classes:
        rows.append(["classes", ", ".join(schema.classes)])
    inputs = [f"{name}:{kind}" for name, kind in schema.input_types.items()]
    rows.append(["inputs", f"{len(inputs)}: " + ", ".join(inputs)])
    export = shown.bundle.metadata.export
    if export and export.parity:
        parity = export.parity
        rows.append(
            ["parity", f"labels {100 * parity.label_agreement:.2f}%, max |diff| {parity.max_abs_diff:.3g}"]
        )
    print(table(rows, ("field", "value")))
    print()
    print(
        table(
            [[k, f"{v:.4f}" if isinstance(v, float) else str(v)] for k, v in sorted(shown.metrics.items())],
            ("test metric", "value"),
        )
    )
    if shown.history:
        print()
        moves = [[m.alias, str(m.from_), str(m.to), str(m.who), _date(m.when)] for m in shown.history]
        print(table(moves, ("alias", "from", "to", "who", "when (UTC)")))
