"""The file-system model registry: ``<root>/<name>/<version>/`` bundles plus aliases.

* Versions are integers that only grow. A version number is reserved under the model's lock
  with an atomic symlink ``.reserved-<N> -> <pid>@<host>`` (its owner); the bundle is
  assembled in ``.staging-<N>`` and renamed into place, so a crash mid-write never leaves a
  visible half-version and concurrent registrations of the same name get distinct versions.
  What a killed registration leaves is removed by the next registration of that name once its
  owner is gone (:mod:`tabpipe.export.registry_fsck`); its number is then a gap or reused.
* Aliases (``production``, ``candidate``, ...) live in ``aliases.json``, validated when read;
  every move is appended to ``alias_history.jsonl`` (who, when, from, to), under a file lock.
  A version moves under an alias only after its bundle verifies (checksums, and the signature
  when ``$TABPIPE_REGISTRY_KEY`` is set). With the key, ``aliases.json`` is signed when written
  and verified when read (:func:`tabpipe.export.signing.read_aliases`).
* Deleting a version (never one an alias points to) appends to ``deletions.jsonl``; deleted
  numbers are never given out again.
* Refs: ``name@alias``, ``name:version``, or a bundle directory path. A ref resolves only to
  a directory inside the registry.
"""

from __future__ import annotations

import fcntl
import getpass
import json
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

import onnx
from pydantic import BaseModel, ValidationError

from tabpipe.documents.base import one_line
from tabpipe.errors import RegistryError
from tabpipe.export import documents
from tabpipe.export.bundle import load_bundle, verify_checksums, write_manifest
from tabpipe.export.documents import MetadataDocument, RegistryRecord
from tabpipe.export.registry_debris import DELETING, RESERVED, STAGING, remove_stale
from tabpipe.export.registry_records import AliasMove, Deletion
from tabpipe.export.signing import read_aliases, sign_aliases, signing_key
from tabpipe.faults import fault_point
from tabpipe.io import owner_token, write_json_atomic

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
ALIASES = "aliases.json"
HISTORY = "alias_history.jsonl"
DELETIONS = "deletions.jsonl"
R = TypeVar("R", bound=BaseModel)


def is_name(value: str) -> bool:
    """Whether ``value`` is a valid model name or alias (the whole string, no newline)."""
    return isinstance(value, str) and _NAME.fullmatch(value) is not None and ".." not in value


def check_name(value: str, what: str) -> str:
    if not is_name(value):
        raise RegistryError(
            f"{what} {value!r}: use letters, digits, '_', '-' and '.' (at most 128, starting with a "
            "letter or digit); no path separators, '..' or whitespace"
        )
    return value


def default_root() -> Path:
    """``$TABPIPE_REGISTRY``, else ``registry/`` under the project's root (wherever a command
    runs from inside the project; docs/topics/projects.md)."""
    from tabpipe.config.project import output_root

    pinned = os.environ.get("TABPIPE_REGISTRY")
    return Path(pinned) if pinned else output_root() / "registry"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def _copy_file(source: str, target: str) -> str:
    """``shutil.copy2`` with the ``registry.copying`` fault point (a kill mid-copy)."""
    copied = shutil.copy2(source, target)
    fault_point("registry.copying")
    return copied


def read_records(path: Path, model: type[R]) -> list[R]:
    """Every line of ``path`` validated as ``model``; one line naming the file, the line and
    the field when one does not validate."""
    if not path.is_file():
        return []
    records = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(model.model_validate_json(line))
        except ValidationError as exc:
            if exc.errors()[0]["type"] == "json_invalid":
                raise RegistryError(f"{path}: line {number} is not JSON") from None
            raise RegistryError(one_line(exc, f"{path}: line {number}")) from None
    return records


def append_record(path: Path, record: AliasMove | Deletion) -> None:
    with path.open("a") as handle:
        handle.write(json.dumps(record.to_json()) + "\n")


class Registry:
    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root) if root else default_root()

    def model_dir(self, name: str) -> Path:
        return self.root / check_name(name, "model name")

    @contextmanager
    def locked(self, name: str, create: bool = False) -> Iterator[None]:
        """The model's exclusive lock (reservations, aliases, deletions, repairs); only a
        registration (``create``) makes the model's directory."""
        directory = self.model_dir(name)
        if create:
            directory.mkdir(parents=True, exist_ok=True)
        elif not directory.is_dir():
            have = ", ".join(self.names()) or "none"
            raise RegistryError(f"{name}: no such model in {self.root} (models: {have})")
        with (directory / ".lock").open("w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and is_name(p.name))

    def versions(self, name: str) -> list[int]:
        directory = self.model_dir(name)
        if not directory.is_dir():
            return []
        return sorted(int(p.name) for p in directory.iterdir() if p.name.isdigit() and p.is_dir())

    def version_dir(self, name: str, version: int) -> Path:
        """The version's directory; refused when missing or outside the registry (a symlink)."""
        path = self.model_dir(name) / str(int(version))
        if not path.is_dir():
            raise RegistryError(f"{name}:{version}: no such version (have {self.versions(name)})")
        real, inside = Path(os.path.realpath(path)), Path(os.path.realpath(self.root))
        if not real.is_relative_to(inside):
            raise RegistryError(
                f"{name}:{version}: {path} is a symlink to {real}, outside the registry {self.root}; refused"
            )
        return path

    # -- registration -------------------------------------------------------------------

    def _highest_deleted(self, name: str) -> int:
        return max((d.version for d in self.deletions(name)), default=0)

    def _reserve(self, name: str) -> int:
        """The next version number, reserved by a symlink naming its owner (under the lock)."""
        directory = self.model_dir(name)
        with self.locked(name, create=True):
            remove_stale(directory)
            taken = {self._highest_deleted(name)}
            for p in directory.iterdir():
                number = p.name.rsplit("-", 1)[-1] if p.name.startswith(RESERVED) else p.name
                if number.isdigit():
                    taken.add(int(number))
            version = max(taken, default=0) + 1
            os.symlink(owner_token(), directory / f"{RESERVED}{version}")
            return version

    def register(
        self,
        name: str,
        bundle_dir: Path,
        source_run: str | None = None,
        source: dict[str, Any] | None = None,
        primary_metric: str | None = None,
    ) -> int:
        """Copy a bundle in as the next version of ``name``; returns the version. ``source``
        says where it came from (``kind``: run, multirun, sweep, dvc; run dir, experiment);
        ``primary_metric`` (e.g. ``auc``) is what ``registry list`` shows."""
        check_name(name, "model name")
        # never register a broken bundle; its signature is not needed: the copy is signed here
        verify_checksums(bundle_dir)
        version = self._reserve(name)
        fault_point("registry.reserved")
        directory = self.model_dir(name)
        staging = directory / f"{STAGING}{version}"
        try:
            self._assemble(name, version, bundle_dir, staging, source_run, source, primary_metric)
        finally:  # on success the version is in place; on an error nothing is left behind
            shutil.rmtree(staging, ignore_errors=True)
            (directory / f"{RESERVED}{version}").unlink()
        return version

    def _assemble(
        self,
        name: str,
        version: int,
        bundle_dir: Path,
        staging: Path,
        source_run: str | None,
        source: dict[str, Any] | None,
        primary_metric: str | None,
    ) -> None:
        """Copy, stamp and sign the bundle in ``staging``, then rename it into place."""
        target = staging / "bundle"
        staging.mkdir()
        shutil.copytree(bundle_dir, target, copy_function=_copy_file)
        model = onnx.load(target / "model.onnx")
        props = {p.key: p.value for p in model.metadata_props}
        props |= {"model_name": name, "model_version": str(version)}
        del model.metadata_props[:]
        model.metadata_props.extend(onnx.StringStringEntryProto(key=k, value=v) for k, v in props.items())
        onnx.save(model, target / "model.onnx")
        metadata = documents.read(MetadataDocument, target / "metadata.json")  # an older format migrated
        metadata.registry = RegistryRecord(
            name=name,
            version=version,
            source_run=source_run,
            source=source or ({"kind": "run", "run_dir": source_run} if source_run else None),
            primary_metric=primary_metric,
            registered_at=_now(),
        )
        metadata.write(target / "metadata.json")
        write_manifest(target)  # signed when $TABPIPE_REGISTRY_KEY is set
        fault_point("registry.assembled")
        os.rename(target, self.model_dir(name) / str(version))  # atomic: the version appears complete

    # -- aliases ------------------------------------------------------------------------

    def aliases(self, name: str, verify: bool = True) -> dict[str, int]:
        """``aliases.json``, validated: alias names as :func:`check_name`, versions positive ints;
        with ``$TABPIPE_REGISTRY_KEY`` (and ``verify``) its signature first."""
        path = self.model_dir(name) / ALIASES
        if not path.is_file():
            return {}
        content = read_aliases(path, name) if verify else path.read_bytes()
        try:
            raw = json.loads(content)
        except json.JSONDecodeError as exc:
            raise RegistryError(f"{path}: not valid JSON ({exc.msg}, line {exc.lineno})") from exc
        if not isinstance(raw, dict):
            raise RegistryError(f"{path}: expected an object of alias -> version, got {type(raw).__name__}")
        for alias, version in raw.items():
            if not is_name(alias):
                raise RegistryError(f"{path}: alias {alias!r} is not a valid alias name")
            if type(version) is not int or version < 1:
                raise RegistryError(
                    f"{path}: alias {alias!r} -> {version!r}: a version must be a positive integer"
                )
        return raw

    def history(self, name: str) -> list[AliasMove]:
        """Every alias move of ``name``, oldest first (``alias_history.jsonl``)."""
        return read_records(self.model_dir(name) / HISTORY, AliasMove)

    def deletions(self, name: str) -> list[Deletion]:
        """Every deleted version of ``name``, oldest first (``deletions.jsonl``)."""
        return read_records(self.model_dir(name) / DELETIONS, Deletion)

    def promote(
        self, name: str, version: int, alias: str, who: str | None = None, note: dict[str, Any] | None = None
    ) -> AliasMove:
        """Move ``alias`` to ``version`` once its bundle verifies; recorded in the history."""
        check_name(alias, "alias")
        with self.locked(name):
            load_bundle(self.version_dir(name, version))  # checksums (and signature) before any move
            aliases = self.aliases(name)
            move = AliasMove.model_validate(
                {
                    "alias": alias,
                    "from": aliases.get(alias),
                    "to": version,
                    "who": who or getpass.getuser(),
                    "when": _now(),
                    **(note or {}),
                }
            )
            aliases[alias] = version
            self._write_aliases(name, aliases)
            append_record(self.model_dir(name) / HISTORY, move)
        return move

    def _write_aliases(self, name: str, aliases: dict[str, int]) -> None:
        path = write_json_atomic(self.model_dir(name) / ALIASES, aliases)
        key = signing_key()
        if key is not None:
            sign_aliases(path, name, key)

    def sign_aliases(self, name: str) -> Path | None:
        """Sign model ``name``'s ``aliases.json`` as it is (validated, not verified: it has no
        signature yet) with ``$TABPIPE_REGISTRY_KEY``; None without a key or an aliases file."""
        key, path = signing_key(), self.model_dir(name) / ALIASES
        if key is None or not path.is_file():
            return None
        with self.locked(name):
            self.aliases(name, verify=False)  # never sign an invalid file
            return sign_aliases(path, name, key)

    def _alias_error(self, ref: str, name: str, alias: str) -> RegistryError:
        known = sorted(self.aliases(name))
        if not self.model_dir(name).is_dir():
            have = ", ".join(self.names()) or "none"
            return RegistryError(f"{ref}: no model {name!r} in {self.root} (models: {have})")
        listed = ", ".join(known) if known else "none yet (tabpipe registry promote <name>:<version> <alias>)"
        return RegistryError(f"{ref}: alias {alias!r} is not set for model {name!r} (aliases: {listed})")

    def resolve(self, ref: str) -> Path:
        """``name@alias`` | ``name:version`` | a bundle path -> the bundle directory."""
        if "@" in ref:
            name, alias = ref.split("@", 1)
            check_name(name, "model name")
            check_name(alias, "alias")
            version = self.aliases(name).get(alias)
            if version is None:
                raise self._alias_error(ref, name, alias)
            return self.version_dir(name, version)
        if ":" in ref and not Path(ref).exists():
            name, _, number = ref.partition(":")
            if not number.isdigit():
                raise RegistryError(f"{ref}: the version must be a number")
            return self.version_dir(name, int(number))
        path = Path(ref)
        if not path.is_dir():
            raise RegistryError(f"{ref}: not a registered ref (name@alias, name:version) or a bundle path")
        return path

    # -- deletion -----------------------------------------------------------------------

    def delete(self, name: str, version: int, who: str | None = None, reason: str = "delete") -> None:
        """Remove a version no alias points to; the number is never given out again."""
        with self.locked(name):
            self._delete_locked(name, version, who, reason)

    def _delete_locked(self, name: str, version: int, who: str | None, reason: str) -> None:
        path = self.model_dir(name) / str(int(version))
        if not path.is_dir():
            raise RegistryError(f"{name}:{version}: no such version (have {self.versions(name)})")
        holders = sorted(a for a, v in self.aliases(name).items() if v == version)
        if holders:
            raise RegistryError(
                f"{name}:{version}: aliased as {', '.join(holders)}; move the alias first, nothing deleted"
            )
        record = Deletion(version=int(version), who=who or getpass.getuser(), when=_now(), reason=reason)
        append_record(self.model_dir(name) / DELETIONS, record)
        doomed = self.model_dir(name) / f"{DELETING}{version}-{owner_token()}"
        os.rename(path, doomed)  # atomic: the version disappears whole
        if doomed.is_symlink():
            doomed.unlink()
        else:
            shutil.rmtree(doomed)

    def gc(self, name: str, keep: int, who: str | None = None, dry_run: bool = False) -> list[int]:
        """Delete all but the newest ``keep`` versions, never an aliased one; returns the deleted."""
        if keep < 0:
            raise RegistryError(f"--keep {keep}: must be 0 or more")
        with self.locked(name):
            aliased = set(self.aliases(name).values())
            versions = self.versions(name)
            newest = set(versions[-keep:]) if keep else set()
            doomed = [v for v in versions if v not in newest and v not in aliased]
            if not dry_run:
                for version in doomed:
                    self._delete_locked(name, version, who, f"gc --keep {keep}")
        return doomed
