"""Registry debris: what killed registrations and deletions leave, and when it is stale.

A killed registration leaves ``.reserved-<N>`` (a symlink naming its owner, ``<pid>@<host>``)
and ``.staging-<N>`` (the bundle being copied, ~1 MB); a killed deletion leaves
``.deleting-<N>-<pid>@<host>``. Debris whose owner is gone (no such process on this host, or a
process started after the debris was written, i.e. a reused pid) is stale: the next
registration of that model removes it, and ``tabpipe registry fsck --repair``
(:mod:`tabpipe.export.registry_fsck`) does too. Debris from before
owners were recorded (a ``.reserved-<N>`` directory) counts as stale once older than
:data:`LEGACY_STALE_S`. Debris of another host is reported, never removed.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from tabpipe.io import owner_gone, remove_path

RESERVED = ".reserved-"
STAGING = ".staging-"
DELETING = ".deleting-"
LEGACY_STALE_S = 3600.0


@dataclass
class Debris:
    path: Path
    owner: str
    gone: bool | None  # None: cannot be told (another host, or too recent to say)


def _legacy(path: Path) -> bool | None:
    return True if time.time() - path.lstat().st_mtime > LEGACY_STALE_S else None


def find_debris(directory: Path) -> list[Debris]:
    """Everything a killed registration or deletion may have left in a model's directory."""
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


def remove_stale(directory: Path) -> list[Path]:
    """Remove a model directory's stale debris (call under the model's lock); returns what went."""
    stale = [d.path for d in find_debris(directory) if d.gone]
    # staging and deletions before the reservations, so no number is reused under a live copy
    for path in sorted(stale, key=lambda p: p.name.startswith(RESERVED)):
        remove_path(path)
    return stale
