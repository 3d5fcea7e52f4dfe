"""The file-system registry: versions, aliases and their history, concurrency, atomicity."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import cli_env
from tabpipe.export.bundle import verify_bundle, write_manifest
from tabpipe.export.registry import Registry, RegistryError

REGISTER = (
    "import sys; from pathlib import Path; from tabpipe.export.registry import Registry; "
    "print(Registry(sys.argv[1]).register('churn', Path(sys.argv[2])))"
)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    from helpers import compose_config
    from tabpipe.training.train import run_training

    out = tmp_path_factory.mktemp("reg") / "run"
    return run_training(compose_config(["model=linear", "registry.name=null"], out)).bundle


def register_in_subprocess(root: Path, source: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", REGISTER, str(root), str(source)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(),
    )


def test_versions_increase_and_refs_resolve(bundle: Path, tmp_path: Path) -> None:
    registry = Registry(tmp_path / "registry")
    assert [registry.register("churn", bundle) for _ in range(3)] == [1, 2, 3]
    assert registry.versions("churn") == [1, 2, 3] and registry.names() == ["churn"]
    assert registry.resolve("churn:2") == tmp_path / "registry" / "churn" / "2"
    registry.promote("churn", 2, "production")
    assert registry.resolve("churn@production").name == "2"
    assert registry.resolve(str(bundle)) == bundle
    for version in (1, 2, 3):
        verify_bundle(registry.resolve(f"churn:{version}"))


def test_alias_history_records_every_move(bundle: Path, tmp_path: Path) -> None:
    registry = Registry(tmp_path / "registry")
    for _ in range(2):
        registry.register("churn", bundle)
    registry.promote("churn", 1, "production", who="alice")
    registry.promote("churn", 2, "production", who="bob")
    registry.promote("churn", 2, "candidate", who="bob")
    assert registry.aliases("churn") == {"production": 2, "candidate": 2}
    history = registry.history("churn")
    assert [(h["alias"], h["from"], h["to"], h["who"]) for h in history] == [
        ("production", None, 1, "alice"),
        ("production", 1, 2, "bob"),
        ("candidate", None, 2, "bob"),
    ]
    assert all(h["when"] for h in history)


@pytest.mark.parametrize("bad", ["../evil", "a/b", "..", "x/../y", ""])
def test_names_and_aliases_with_path_parts_are_rejected(bundle: Path, tmp_path: Path, bad: str) -> None:
    registry = Registry(tmp_path / "registry")
    registry.register("churn", bundle)
    with pytest.raises(RegistryError):
        registry.promote("churn", 1, bad)
    with pytest.raises(RegistryError):
        registry.register(bad, bundle)
    with pytest.raises(RegistryError):
        registry.resolve(f"churn@{bad}" if bad else "churn@")


def test_concurrent_registrations_get_distinct_versions(bundle: Path, tmp_path: Path) -> None:
    root = tmp_path / "registry"
    processes = [register_in_subprocess(root, bundle) for _ in range(4)]
    versions = sorted(int(p.communicate(timeout=120)[0].strip()) for p in processes)
    assert versions == [1, 2, 3, 4]
    registry = Registry(root)
    assert registry.versions("churn") == [1, 2, 3, 4]
    for version in versions:
        verify_bundle(registry.resolve(f"churn:{version}"))


def test_killed_registration_leaves_no_visible_half_version(bundle: Path, tmp_path: Path) -> None:
    """SIGKILL at several points mid-copy: only complete, verifiable versions are listed."""
    import shutil

    big = tmp_path / "big"
    shutil.copytree(bundle, big)
    (big / "native" / "padding.bin").write_bytes(os.urandom(64 << 20))  # a slow copy
    write_manifest(big)
    root = tmp_path / "registry"
    interrupted = 0
    for delay in (0.0, 0.03, 0.1, 0.2, 0.4):
        before = set((root / "churn").glob(".reserved-*")) if (root / "churn").exists() else set()
        process = register_in_subprocess(root, big)
        deadline = time.time() + 60
        while time.time() < deadline and process.poll() is None:  # wait for the write to begin
            if (root / "churn").exists() and set((root / "churn").glob(".reserved-*")) - before:
                break
            time.sleep(0.002)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        interrupted += process.wait() == -signal.SIGKILL
        registry = Registry(root)
        for version in registry.versions("churn"):
            verify_bundle(registry.resolve(f"churn:{version}"))
    assert interrupted >= 3  # most kills landed mid-registration
    after = Registry(root).register("churn", bundle)
    assert after == max(Registry(root).versions("churn"))


def test_cli_promote_and_list(bundle: Path, tmp_path: Path) -> None:
    root = tmp_path / "registry"
    Registry(root).register("churn", bundle)
    run = [sys.executable, "-m", "tabpipe.cli.main", "registry", "--root", str(root)]
    promote = subprocess.run(
        [*run, "promote", "churn:1", "production", "--who", "ci"],
        capture_output=True,
        text=True,
        env=cli_env(),
    )
    assert promote.returncode == 0 and "churn@production: None -> 1" in promote.stdout
    listing = subprocess.run([*run, "list"], capture_output=True, text=True, env=cli_env())
    assert "churn" in listing.stdout and "production->1" in listing.stdout
    bad = subprocess.run(
        [*run, "promote", "churn:7", "production"], capture_output=True, text=True, env=cli_env()
    )
    assert bad.returncode == 2 and bad.stderr.strip().splitlines() == [
        "error: churn:7: no such version (have [1])"
    ]
