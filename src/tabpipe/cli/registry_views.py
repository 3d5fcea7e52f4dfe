"""The human tables (and ``--json`` documents) of ``tabpipe registry list`` and ``show``."""

from __future__ import annotations

import json
from typing import Any

from tabpipe.export.registry import Registry
from tabpipe.export.registry_listing import VersionInfo, list_versions, version_info

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
        metrics = json.loads(path.read_text())
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


def _show_document(registry: Registry, ref: str) -> dict[str, Any]:
    from tabpipe.export.bundle import load_bundle

    bundle = load_bundle(registry.resolve(ref))  # checksums (and signature) verified
    record = bundle.metadata.registry
    document: dict[str, Any] = {"path": str(bundle.path)}
    if record:
        info = version_info(registry, record.name, record.version, registry.aliases(record.name))
        document |= with_default_metric(registry, info).as_dict()
    export = bundle.metadata.export
    document |= {
        "registry": record.model_dump(mode="json") if record else {},
        "task": bundle.schema.task,
        "classes": bundle.schema.classes,
        "inputs": [f"{name}:{kind}" for name, kind in bundle.schema.input_types.items()],
        "metrics": {k: v for k, v in bundle.read_json("metrics.json").items() if k.startswith("test/")},
        "export": export.model_dump(mode="json") if export else None,
        "alias_history": registry.history(record.name) if record else [],
    }
    return document


def print_show(registry: Registry, ref: str, as_json: bool) -> None:
    document = _show_document(registry, ref)
    if as_json:
        print(json.dumps(document, indent=2))
        return
    info = (
        VersionInfo(**{k: document[k] for k in VersionInfo.__dataclass_fields__})
        if "version" in document
        else None
    )
    rows = [["path", document["path"]], ["task", str(document["task"])]]
    if info is not None:
        cells = dict(zip(COLUMNS, _cells(info), strict=True))
        rows = [["version", cells.pop("version")], *rows, *([k, v] for k, v in cells.items())]
        rows += [["registered (UTC)", _date(info.registered_at)], ["data sha256", info.data_sha256 or "-"]]
    if document["classes"]:
        rows.append(["classes", ", ".join(map(str, document["classes"]))])
    rows.append(["inputs", f"{len(document['inputs'])}: " + ", ".join(document["inputs"])])
    parity = (document.get("export") or {}).get("parity") or {}
    if parity:
        rows.append(
            [
                "parity",
                f"labels {100 * parity.get('label_agreement', 0):.2f}%, max |diff| "
                f"{parity.get('max_abs_diff', 0):.3g}",
            ]
        )
    print(table(rows, ("field", "value")))
    print()
    print(
        table(
            [
                [k, f"{v:.4f}" if isinstance(v, float) else str(v)]
                for k, v in sorted(document["metrics"].items())
            ],
            ("test metric", "value"),
        )
    )
    if document["alias_history"]:
        print()
        moves = [
            [m["alias"], str(m["from"]), str(m["to"]), str(m["who"]), _date(m["when"])]
            for m in document["alias_history"]
        ]
        print(table(moves, ("alias", "from", "to", "who", "when (UTC)")))
