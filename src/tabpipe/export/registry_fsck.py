"""``tabpipe registry fsck``: every version loads, every alias names a version, and the
debris of killed processes (:mod:`tabpipe.export.registry_debris`) is reported or repaired.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tabpipe.errors import TabpipeError
from tabpipe.export.bundle import load_bundle
from tabpipe.export.registry import Registry
from tabpipe.export.registry_debris import find_debris, remove_stale


@dataclass
class Finding:
    model: str
    problem: str
    path: Path | None = None
    repaired: bool = False


def gaps(registry: Registry, name: str) -> tuple[list[int], list[int]]:
    """Version numbers below the highest that are absent: (deleted, never completed)."""
    present = set(registry.versions(name))
    deleted = {d.version for d in registry.deletions(name)}
    top = max(present | deleted, default=0)
    missing = [n for n in range(1, top + 1) if n not in present]
    return [n for n in missing if n in deleted], [n for n in missing if n not in deleted]


def _check_versions(registry: Registry, name: str) -> list[Finding]:
    findings = []
    for version in registry.versions(name):
        try:
            load_bundle(registry.version_dir(name, version))
        except TabpipeError as error:
            findings.append(
                Finding(name, f"version {version}: {error}", registry.model_dir(name) / str(version))
            )
    return findings


def _check_aliases(registry: Registry, name: str) -> list[Finding]:
    try:
        aliases = registry.aliases(name)
        registry.history(name)
        registry.deletions(name)
    except TabpipeError as error:
        return [Finding(name, str(error))]
    versions = set(registry.versions(name))
    return [
        Finding(name, f"alias {alias!r} -> {version}: no such version")
        for alias, version in sorted(aliases.items())
        if version not in versions
    ]


def fsck(registry: Registry, repair: bool = False) -> tuple[list[Finding], list[str]]:
    """Check every model: debris, every version's bundle, the aliases. With ``repair``,
    remove stale debris. Returns the findings and informational lines (gaps, live work)."""
    findings: list[Finding] = []
    notes: list[str] = []
    for name in registry.names():
        debris = find_debris(registry.model_dir(name))
        if repair and any(d.gone for d in debris):
            with registry.locked(name):
                removed = set(remove_stale(registry.model_dir(name)))
        else:
            removed = set()
        for item in debris:
            if item.gone:
                what = f"stale debris of a killed process ({item.owner}): {item.path.name}"
                findings.append(Finding(name, what, item.path, repaired=item.path in removed))
            elif item.gone is None:
                findings.append(
                    Finding(name, f"debris of unknown state ({item.owner}): {item.path.name}", item.path)
                )
            else:
                notes.append(f"{name}: {item.path.name}: in progress ({item.owner})")
        findings += _check_versions(registry, name) + _check_aliases(registry, name)
        deleted, lost = gaps(registry, name)
        if deleted:
            notes.append(f"{name}: deleted versions {deleted}")
        if lost:
            notes.append(f"{name}: version numbers never completed (killed registrations) {lost}")
    return findings, notes
