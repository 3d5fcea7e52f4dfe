"""Atomic file writes: write to a temporary file in the same directory, then rename.

Every temporary name carries the writing process's id (``.<name>.<pid>-<random>.tmp<suffix>``),
so debris left by a killed process can be told from a write in progress:
:func:`remove_stale_debris` removes only what belongs to a process that is gone.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def write_atomic(path: Path, writer: Callable[[Path], None]) -> Path:
    """Call ``writer(tmp_path)`` and rename the result onto ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # the temp name keeps the final suffix: some writers pick the format from it
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{path.name}.{os.getpid()}-", suffix=f".tmp{path.suffix}", dir=path.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        writer(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file normal permissions
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def write_text_atomic(path: Path, text: str) -> Path:
    return write_atomic(path, lambda tmp: tmp.write_text(text))


def json_safe(value: Any) -> Any:
    """NaN / inf (e.g. a t-test over identical folds) become null: strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    return value


def write_json_atomic(path: Path, payload: Any) -> Path:
    return write_text_atomic(path, json.dumps(payload, indent=2, sort_keys=True) + "\n")


def sha256_file(path: Path, chunk_size: int = 1 << 20) -> str:
    """sha256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


# ``.<name>.<pid>.tmp`` (batch outputs), ``.<name>.<pid>-<random>.tmp<suffix>`` (write_atomic),
# ``.bundle-<pid>-<random>`` (a run's bundle being assembled)
_DEBRIS = (
    re.compile(r"\..+\.(?P<pid>\d+)(?:-[A-Za-z0-9_]+)?\.tmp(?:\.[^/]*)?"),
    re.compile(r"\.bundle-(?P<pid>\d+)-[A-Za-z0-9_]+"),
)


def temp_dir(directory: Path, prefix: str) -> Path:
    """``tempfile.mkdtemp`` named ``<prefix><pid>-<random>``, so that it is recognised as debris
    by :func:`remove_stale_debris` once its process is gone."""
    return Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-", dir=directory))


def debris_owner(name: str) -> int | None:
    """The pid in a temporary name this package writes, or None for any other name."""
    for pattern in _DEBRIS:
        match = pattern.fullmatch(name)
        if match:
            return int(match["pid"])
    return None


def owner_token() -> str:
    """``<pid>@<host>``: who holds a lock or reservation (see :func:`owner_gone`)."""
    return f"{os.getpid()}@{socket.gethostname()}"


def owner_gone(token: str, since: float) -> bool | None:
    """Whether the process of ``<pid>[@<host>]``, owner of something last modified at ``since``,
    is gone: True, False, or None when it cannot be told (another host)."""
    pid_text, _, host = token.partition("@")
    if not pid_text.isdigit():
        return None
    if host and host != socket.gethostname():
        return None
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        pass
    state, started = process_state(pid)
    if state == "Z":  # killed, not yet reaped by its parent
        return True
    # a process that started well after the debris was written only reuses the owner's pid
    # (the margin absorbs the clock's skew between file times and /proc)
    return started is not None and started > since + PID_REUSE_MARGIN_S


PID_REUSE_MARGIN_S = 60.0


def process_state(pid: int) -> tuple[str | None, float | None]:
    """A process's state letter and start time (epoch seconds), from ``/proc`` (Linux);
    ``(None, None)`` elsewhere."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = next(
            float(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime ")
        )
    except (OSError, StopIteration, ValueError):
        return None, None
    fields = stat.rsplit(")", 1)[1].split()
    return fields[0], boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")


def remove_stale_debris(directory: Path, depth: int = 0) -> list[Path]:
    """Remove the temporary files and directories (names as in :func:`debris_owner`) under
    ``directory`` (``depth`` levels of subdirectories) whose writing process is gone.
    Returns what was removed. Debris of a live process, or of another host, is kept."""
    removed: list[Path] = []
    directory = Path(directory)
    if not directory.is_dir():
        return removed
    for entry in sorted(directory.iterdir()):
        pid = debris_owner(entry.name)
        if pid is not None:
            try:
                modified = entry.lstat().st_mtime
            except FileNotFoundError:  # renamed into place meanwhile
                continue
            if owner_gone(str(pid), modified):
                remove_path(entry)
                removed.append(entry)
        elif depth > 0 and entry.is_dir() and not entry.is_symlink():
            removed += remove_stale_debris(entry, depth - 1)
    return removed


def remove_path(path: Path) -> None:
    """Remove a file, a symlink or a directory tree; a missing path is no error."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


_RUN_DIR_MARKERS = (".hydra", "metadata.json", "config_resolved.yaml")


def remove_stale_run_debris(output_dir: Path) -> list[Path]:
    """At the start of a run: stale debris in ``output_dir`` and in its sibling run
    directories (those with a Hydra or tabpipe record; other folders are left alone)."""
    output_dir = Path(output_dir)
    removed = remove_stale_debris(output_dir, depth=2)
    parent = output_dir.parent
    if parent.is_dir():
        for sibling in sorted(parent.iterdir()):
            is_run = sibling.is_dir() and any((sibling / m).exists() for m in _RUN_DIR_MARKERS)
            if sibling != output_dir and is_run and not sibling.is_symlink():
                removed += remove_stale_debris(sibling, depth=2)
    return removed
