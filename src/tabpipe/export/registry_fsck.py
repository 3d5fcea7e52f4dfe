"""Registry debris and ``tabpipe registry fsck``.

A killed registration leaves ``.reserved-<N>`` (a symlink naming its owner, ``<pid>@<host>``)
and ``.staging-<N>`` (the bundle being copied, ~1 MB); a killed deletion leaves
``.deleting-<N>-<pid>@<host>``. Debris whose owner is gone (no such process on this host, or a
process started after the debris was written, i.e. a reused pid) is stale: the next
registration of that model removes it, and ``fsck --repair`` does too. Debris from before
owners were recorded (a ``.reserved-<N>`` directory) counts as stale once older than
:data:`LEGACY_STALE_S`. Debris of another host is reported, never removed.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from tabpipe.errors import TabpipeError
from tabpipe.export.bundle import load_bundle
from tabpipe.export.registry import DELETING, RESERVED, STAGING, Registry
from tabpipe.io import owner_gone, remove_path

LEGACY_STALE_S = 3600.0


@dataclass
class Debris:
    path: Path
    owner: str
    gone: bool | None  # None: cannot be told (another host, or too recent to say)


@dataclass
class Finding:
    model: str
    problem: str
    path: Path | None = None
    repaired: bool = False


def _legacy(path: Path) -> bool | None:
    return True if time.time() - path.lstat().st_mtime > LEGACY_STALE_S else None


def find_debris(registry: Registry, name: str) -> list[Debris]:
    """Everything a killed registration or deletion of ``name`` may have left."""
    directory = registry.model_dir(name)
    if not directory.is_dir():
        return []
    entries = sorted(directory.iterdir())
    found: list[Debris] = []
    reservations: dict[str, bool | None] = {}
    for path in entries:
        if path.name.startswith(RESERVED):
            number = path.name[len(RESERVED) :]
            try:  # a registration that finishes meanwhile removes its reservation
                if path.is_symlink():
                    owner = os.readlink(path)
                    gone = owner_gone(owner, path.lstat().st_mtime)
                else:
                    owner, gone = "unrecorded", _legacy(path)
            except FileNotFoundError:
                continue
            reservations[number] = gone
            found.append(Debris(path, owner, gone))
    for path in entries:
        if path.name.startswith(STAGING):
            number = path.name[len(STAGING) :].split("-", 1)[0]
            # no reservation: its registration is over (the reservation goes last)
            found.append(Debris(path, f"reservation {number}", reservations.get(number, True)))
        elif path.name.startswith(DELETING):
            owner = path.name[len(DELETING) :].split("-", 1)[-1]
            try:
                found.append(Debris(path, owner, owner_gone(owner, path.lstat().st_mtime)))
            except FileNotFoundError:
                continue
    return found


def remove_stale(registry: Registry, name: str) -> list[Path]:
    """Remove ``name``'s stale debris (call under the model's lock); returns what went."""
    stale = [d.path for d in find_debris(registry, name) if d.gone]
    # staging and deletions before the reservations, so no number is reused under a live copy
    for path in sorted(stale, key=lambda p: p.name.startswith(RESERVED)):
        remove_path(path)
    return stale


def gaps(registry: Registry, name: str) -> tuple[list[int], list[int]]:
    """Version numbers below the highest that are absent: (deleted, never completed)."""
    present = set(registry.versions(name))
    deleted = {int(d["version"]) for d in registry.deletions(name) if "version" in d}
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
        debris = find_debris(registry, name)
        if repair and any(d.gone for d in debris):
            with registry.locked(name):
                removed = set(remove_stale(registry, name))
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
