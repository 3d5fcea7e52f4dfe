"""The file-system model registry: ``<root>/<name>/<version>/`` bundles plus aliases.

* Versions are integers that only grow. A version number is reserved with an atomic
  ``mkdir``; the bundle is assembled in a temporary directory and renamed into place, so a
  crash mid-write never leaves a visible half-version and concurrent registrations of the
  same name get distinct versions.
* Aliases (``production``, ``candidate``, ...) live in ``aliases.json``; every move is
  appended to ``alias_history.jsonl`` (who, when, from, to), under a file lock.
* Refs: ``name@alias``, ``name:version``, or a bundle directory path.
"""

from __future__ import annotations

import fcntl
import getpass
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import onnx

from tabpipe.errors import TabpipeError
from tabpipe.export.bundle import load_bundle, write_manifest
from tabpipe.io import write_json_atomic

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class RegistryError(TabpipeError):
    exit_code = 2


def check_name(value: str, what: str) -> str:
    if not _NAME.match(value or "") or ".." in value:
        raise RegistryError(
            f"{what} {value!r}: use letters, digits, '_', '-' and '.'; no path separators or '..'"
        )
    return value


def default_root() -> Path:
    return Path(os.environ.get("TABPIPE_REGISTRY", "registry"))


class Registry:
    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root) if root else default_root()

    def _dir(self, name: str) -> Path:
        return self.root / check_name(name, "model name")

    @contextmanager
    def _locked(self, name: str) -> Iterator[None]:
        directory = self._dir(name)
        directory.mkdir(parents=True, exist_ok=True)
        with (directory / ".lock").open("w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and _NAME.match(p.name))

    def versions(self, name: str) -> list[int]:
        directory = self._dir(name)
        if not directory.is_dir():
            return []
        return sorted(int(p.name) for p in directory.iterdir() if p.is_dir() and p.name.isdigit())

    def _reserve(self, name: str) -> int:
        directory = self._dir(name)
        directory.mkdir(parents=True, exist_ok=True)
        taken = {
            int(p.name.split("-")[-1])
            for p in directory.iterdir()
            if p.name.isdigit() or p.name.startswith(".reserved-")
        }
        version = max(taken, default=0) + 1
        while True:
            try:
                (directory / f".reserved-{version}").mkdir()
                return version
            except FileExistsError:
                version += 1

    def register(self, name: str, bundle_dir: Path, source_run: str | None = None) -> int:
        """Copy a bundle in as the next version of ``name``; returns the version."""
        load_bundle(bundle_dir)  # never register a broken bundle
        version = self._reserve(name)
        directory = self._dir(name)
        staging = Path(tempfile.mkdtemp(prefix=f".staging-{version}-", dir=directory))
        target = staging / "bundle"
        shutil.copytree(bundle_dir, target)
        model = onnx.load(target / "model.onnx")
        props = {p.key: p.value for p in model.metadata_props}
        props |= {"model_name": name, "model_version": str(version)}
        del model.metadata_props[:]
        model.metadata_props.extend(onnx.StringStringEntryProto(key=k, value=v) for k, v in props.items())
        onnx.save(model, target / "model.onnx")
        metadata = json.loads((target / "metadata.json").read_text())
        metadata["registry"] = {
            "name": name,
            "version": version,
            "source_run": source_run,
            "registered_at": _now(),
        }
        write_json_atomic(target / "metadata.json", metadata)
        write_manifest(target)
        os.rename(target, directory / str(version))  # atomic: the version appears complete
        shutil.rmtree(staging)
        (directory / f".reserved-{version}").rmdir()
        return version

    def aliases(self, name: str) -> dict[str, int]:
        path = self._dir(name) / "aliases.json"
        return json.loads(path.read_text()) if path.is_file() else {}

    def history(self, name: str) -> list[dict[str, Any]]:
        path = self._dir(name) / "alias_history.jsonl"
        if not path.is_file():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def promote(
        self, name: str, version: int, alias: str, who: str | None = None, note: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        check_name(alias, "alias")
        if version not in self.versions(name):
            raise RegistryError(f"{name}:{version}: no such version (have {self.versions(name)})")
        with self._locked(name):
            aliases = self.aliases(name)
            move = {
                "alias": alias,
                "from": aliases.get(alias),
                "to": version,
                "who": who or getpass.getuser(),
                "when": _now(),
                **(note or {}),
            }
            aliases[alias] = version
            write_json_atomic(self._dir(name) / "aliases.json", aliases)
            with (self._dir(name) / "alias_history.jsonl").open("a") as handle:
                handle.write(json.dumps(move) + "\n")
        return move

    def resolve(self, ref: str) -> Path:
        """``name@alias`` | ``name:version`` | a bundle path -> the bundle directory."""
        if "@" in ref:
            name, alias = ref.split("@", 1)
            check_name(alias, "alias")
            version = self.aliases(name).get(alias)
            if version is None:
                raise RegistryError(f"{ref}: alias {alias!r} is not set for model {name!r}")
            return self._dir(name) / str(version)
        if ":" in ref and not Path(ref).exists():
            name, _, number = ref.partition(":")
            if not number.isdigit():
                raise RegistryError(f"{ref}: the version must be a number")
            path = self._dir(name) / number
            if not path.is_dir():
                raise RegistryError(f"{ref}: no such version (have {self.versions(name)})")
            return path
        path = Path(ref)
        if not path.is_dir():
            raise RegistryError(f"{ref}: not a registered ref (name@alias, name:version) or a bundle path")
        return path


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()
