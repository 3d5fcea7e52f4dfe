"""The file-system registry: versions, aliases and their history, concurrency, atomicity."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from helpers import cli_env
from registry_helpers import register_in_subprocess, trained_bundle
from tabpipe.errors import TabpipeError
from tabpipe.export.bundle import BundleError, load_bundle, verify_bundle, write_manifest
from tabpipe.export.registry import Registry, RegistryError


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    return trained_bundle(tmp_path_factory)


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
    assert [(h.alias, h.from_, h.to, h.who) for h in history] == [
        ("production", None, 1, "alice"),
        ("production", 1, 2, "bob"),
        ("candidate", None, 2, "bob"),
    ]
    assert all(h.when for h in history)


@pytest.mark.parametrize(
    "bad", ["../evil", "a/b", "..", "x/../y", "", "prod\n", "prod\nx", " prod", "a" * 129]
)
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
    row = listing.stdout.splitlines()[1].split()
    assert row[0] == "churn:1" and row[-1] == "production"
    bad = subprocess.run(
        [*run, "promote", "churn:7", "production"], capture_output=True, text=True, env=cli_env()
    )
    assert bad.returncode == 2 and bad.stderr.strip().splitlines() == [
        "error: churn:7: no such version (have [1])"
    ]


def _registry_with(bundle: Path, root: Path, versions: int = 1) -> Registry:
    registry = Registry(root)
    for _ in range(versions):
        registry.register("churn", bundle)
    return registry


def test_promote_refuses_a_version_that_fails_its_checksum(bundle: Path, tmp_path: Path) -> None:
    registry = _registry_with(bundle, tmp_path / "registry", 2)
    registry.promote("churn", 1, "production")
    with (tmp_path / "registry" / "churn" / "2" / "model.onnx").open("ab") as handle:
        handle.write(b"\0")
    with pytest.raises(TabpipeError, match=r"file model.onnx fails its checksum"):
        registry.promote("churn", 2, "production")
    assert registry.aliases("churn") == {"production": 1}
    assert len(registry.history("churn")) == 1


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ('"../../elsewhere"', "positive integer"),
        ("0", "positive integer"),
        ("-1", "positive integer"),
        ("true", "positive integer"),
        ("1.5", "positive integer"),
    ],
)
def test_alias_values_are_validated_when_read(bundle: Path, tmp_path: Path, value: str, rule: str) -> None:
    registry = _registry_with(bundle, tmp_path / "registry")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "registry" / "churn" / "aliases.json").write_text(f'{{"production": {value}}}')
    with pytest.raises(RegistryError, match=rf"aliases.json: alias 'production' -> .*{rule}"):
        registry.resolve("churn@production")


def test_alias_names_in_the_file_are_validated(bundle: Path, tmp_path: Path) -> None:
    registry = _registry_with(bundle, tmp_path / "registry")
    (tmp_path / "registry" / "churn" / "aliases.json").write_text('{"prod\\n": 1}')
    with pytest.raises(RegistryError, match=r"alias 'prod\\n' is not a valid alias name"):
        registry.aliases("churn")


def test_a_version_symlinked_outside_the_registry_is_refused(bundle: Path, tmp_path: Path) -> None:
    import shutil

    registry = _registry_with(bundle, tmp_path / "registry")
    outside = tmp_path / "outside"
    shutil.copytree(tmp_path / "registry" / "churn" / "1", outside)
    (tmp_path / "registry" / "churn" / "2").symlink_to(outside, target_is_directory=True)
    for ref in ("churn:2",):
        with pytest.raises(RegistryError, match=r"churn:2: .* is a symlink to .*outside the registry"):
            registry.resolve(ref)
    with pytest.raises(RegistryError, match="outside the registry"):
        registry.promote("churn", 2, "production")
    assert registry.aliases("churn") == {}


def test_a_version_copied_under_another_number_is_refused(bundle: Path, tmp_path: Path) -> None:
    import shutil

    registry = _registry_with(bundle, tmp_path / "registry")
    shutil.copytree(tmp_path / "registry" / "churn" / "1", tmp_path / "registry" / "churn" / "5")
    with pytest.raises(TabpipeError, match=r"registered as churn:1 but found at churn/5"):
        load_bundle(registry.resolve("churn:5"))


def test_an_unknown_alias_lists_the_aliases_that_exist(bundle: Path, tmp_path: Path) -> None:
    registry = _registry_with(bundle, tmp_path / "registry")
    with pytest.raises(RegistryError, match=r"alias 'nope' is not set for model 'churn' \(aliases: none yet"):
        registry.resolve("churn@nope")
    registry.promote("churn", 1, "production")
    registry.promote("churn", 1, "candidate")
    with pytest.raises(RegistryError) as error:
        registry.resolve("churn@nope")
    assert (
        str(error.value)
        == "churn@nope: alias 'nope' is not set for model 'churn' (aliases: candidate, production)"
    )
    with pytest.raises(RegistryError, match=r"no model 'churm' .*\(models: churn\)"):
        registry.resolve("churm@production")


KEY = "k" * 32


def test_signing_verifies_origin_on_load_promote_and_serve(
    bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With $TABPIPE_REGISTRY_KEY: a registered version is signed; editing a file and
    regenerating the manifest (what the checksums alone cannot catch) is refused by
    load_bundle, promote, and the serving/batch loader."""
    from tabpipe.serving.loaded_model import load_model

    root = tmp_path / "registry"
    monkeypatch.setenv("TABPIPE_REGISTRY_KEY", KEY)
    registry = _registry_with(bundle, root, 2)
    assert (root / "churn" / "1" / "signature.json").is_file()
    registry.promote("churn", 1, "production")
    assert load_model("churn@production", root, ["CPUExecutionProvider"]).bundle.path == root / "churn" / "1"
    metadata = root / "churn" / "2" / "metadata.json"
    metadata.write_text(metadata.read_text().replace('"seed": 42', '"seed": 7'))
    monkeypatch.delenv("TABPIPE_REGISTRY_KEY")
    write_manifest(root / "churn" / "2")  # the attacker regenerates the manifest, without the key
    verify_bundle(root / "churn" / "2")  # checksums alone are satisfied
    monkeypatch.setenv("TABPIPE_REGISTRY_KEY", KEY)
    with pytest.raises(TabpipeError, match=r"churn/2': not signed"):
        load_bundle(root / "churn" / "2")
    with pytest.raises(TabpipeError, match="not signed"):
        registry.promote("churn", 2, "production")
    with pytest.raises(TabpipeError, match="not signed"):
        load_model("churn:2", root, ["CPUExecutionProvider"])
    monkeypatch.setenv("TABPIPE_REGISTRY_KEY", "another key of 32 bytes or more!")
    write_manifest(root / "churn" / "2")  # signed, but with another key
    monkeypatch.setenv("TABPIPE_REGISTRY_KEY", KEY)
    with pytest.raises(TabpipeError, match=r"signature does not match \(signed with another key\)"):
        load_bundle(root / "churn" / "2")
    assert registry.aliases("churn") == {"production": 1}


def test_signing_key_must_not_be_short(bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TABPIPE_REGISTRY_KEY", "short")
    with pytest.raises(TabpipeError, match=r"\$TABPIPE_REGISTRY_KEY: the key must be at least 16 bytes"):
        Registry(tmp_path / "registry").register("churn", bundle)
    # the registration failed while signing its copy: nothing is left behind
    assert sorted(p.name for p in (tmp_path / "registry" / "churn").iterdir()) == [".lock"]


def test_without_a_key_signatures_are_not_required(bundle: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("TABPIPE_REGISTRY_KEY", raising=False)
    registry = _registry_with(bundle, tmp_path / "registry")
    assert not (tmp_path / "registry" / "churn" / "1" / "signature.json").exists()
    load_bundle(registry.resolve("churn:1"))


def test_registry_sign_signs_verified_versions_only(
    bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    from registry_helpers import registry_cli

    monkeypatch.delenv("TABPIPE_REGISTRY_KEY", raising=False)
    root = tmp_path / "registry"
    registry = _registry_with(bundle, root, 2)  # registered before there was a key
    code, _, err = registry_cli(capsys, "--root", str(root), "sign", "--all")
    assert code == 2 and err.strip() == "error: $TABPIPE_REGISTRY_KEY is not set: nothing to sign with"
    monkeypatch.setenv("TABPIPE_REGISTRY_KEY", KEY)
    with pytest.raises(BundleError, match="not signed"):
        load_bundle(registry.resolve("churn:1"))
    manifest = (root / "churn" / "1" / "manifest.json").read_bytes()
    (root / "churn" / "1" / "planted.py").write_text("import os")  # added after registration
    code, out, _ = registry_cli(capsys, "--root", str(root), "sign", "churn:1")
    assert code == 0 and out.strip() == f"signed {root / 'churn' / '1'}"
    # the verified manifest is signed as it is: a file added since is not signed in
    assert (root / "churn" / "1" / "manifest.json").read_bytes() == manifest
    load_bundle(registry.resolve("churn:1"))
    (root / "churn" / "2" / "metrics.json").write_text("{}")
    code, _, err = registry_cli(capsys, "--root", str(root), "sign", "--all")
    assert code == 2 and "churn/2': file metrics.json fails its checksum" in err
    assert not (root / "churn" / "2" / "signature.json").exists()


def test_alias_moves_are_signed_and_a_changed_aliases_file_is_refused(
    bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """With $TABPIPE_REGISTRY_KEY, aliases.json is signed by every move: pointing
    ``production`` at another (signed) version without the key is refused by resolve, the
    serving/batch loader and promote; ``registry sign name@alias`` accepts the file as it is."""
    from registry_helpers import registry_cli
    from tabpipe.serving.loaded_model import load_model

    root = tmp_path / "registry"
    monkeypatch.setenv("TABPIPE_REGISTRY_KEY", KEY)
    registry = _registry_with(bundle, root, 2)
    registry.promote("churn", 2, "production")
    assert (root / "churn" / "aliases.signature.json").is_file()
    assert registry.resolve("churn@production") == root / "churn" / "2"
    aliases = root / "churn" / "aliases.json"
    aliases.write_text('{"production": 1}')  # the attacker, without the key: back to an older version
    changed = r"churn/aliases.json: signature does not match \(aliases.json was changed after signing\)"
    with pytest.raises(TabpipeError, match=changed):
        registry.resolve("churn@production")
    with pytest.raises(TabpipeError, match=changed):
        load_model("churn@production", root, ["CPUExecutionProvider"])
    with pytest.raises(TabpipeError, match=changed):
        registry.promote("churn", 2, "candidate")  # never re-signs a changed file
    code, _, err = registry_cli(capsys, "--root", str(root), "show", "churn@production")
    assert code == 2 and err.count("\n") == 1 and "signature does not match" in err
    (root / "churn" / "aliases.signature.json").unlink()
    with pytest.raises(TabpipeError, match=r"aliases.json: not signed, and \$TABPIPE_REGISTRY_KEY is set"):
        registry.resolve("churn@production")
    code, out, _ = registry_cli(capsys, "--root", str(root), "sign", "churn@production")
    assert code == 0 and f"signed {aliases}" in out.splitlines()
    assert registry.resolve("churn@production") == root / "churn" / "1"  # accepted as it is
    monkeypatch.delenv("TABPIPE_REGISTRY_KEY")
    aliases.write_text('{"production": 2}')
    assert registry.resolve("churn@production") == root / "churn" / "2"  # without a key: not checked


DOCUMENTS = ("schema.json", "metadata.json", "reference_profile.json")


def _rewrite_documents(bundle: Path, target: Path, change) -> Path:
    """A copy of ``bundle`` whose three documents went through ``change(name, raw)``, with a
    manifest made for them (signed when a key is set): a bundle as another tabpipe wrote it."""
    import json
    import shutil

    shutil.copytree(bundle, target)
    for name in DOCUMENTS:
        path = target / name
        path.write_text(json.dumps(change(name, json.loads(path.read_text()))))
    write_manifest(target)
    return target


def test_a_bundle_written_before_format_version_loads_registers_and_serves(
    bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The unversioned format (tabpipe before the typed documents) goes through the one
    migration in memory: its signed files stay as written and keep verifying."""
    import json

    import numpy as np

    from tabpipe.export.inputs import records_to_feeds
    from tabpipe.serving.loaded_model import load_model

    current = load_bundle(bundle)  # (unsigned)
    monkeypatch.setenv("TABPIPE_REGISTRY_KEY", KEY)
    old = _rewrite_documents(
        bundle, tmp_path / "old", lambda _, raw: {k: v for k, v in raw.items() if k != "format_version"}
    )
    assert all("format_version" not in json.loads((old / name).read_text()) for name in DOCUMENTS)
    loaded = load_bundle(old)
    assert (loaded.schema, loaded.profile) == (current.schema, current.profile)
    assert loaded.metadata.format_version == 1 and loaded.metadata.dataset == current.metadata.dataset
    registry = Registry(tmp_path / "registry")
    version = registry.register("churn", old)  # stamped with the registry record, re-signed
    registry.promote("churn", version, "production")
    stamped = json.loads((registry.resolve("churn@production") / "metadata.json").read_text())
    assert stamped["format_version"] == 1 and stamped["registry"]["name"] == "churn"
    served = load_model("churn@production", registry.root, ["CPUExecutionProvider"])
    row = {name: ("x" if kind == "categorical" else 1.0) for name, kind in served.types.items()}
    (prediction,) = served.score(records_to_feeds([row], served.types))
    assert prediction["label"] in served.classes and np.isclose(sum(prediction["probabilities"].values()), 1)


@pytest.mark.parametrize(
    ("name", "change", "line"),
    [
        ("schema.json", {"format_version": 9}, "schema.json: format_version 9 is newer than this tabpipe"),
        ("metadata.json", {"seed": "seven"}, "metadata.json: field seed: Input should be a valid integer"),
    ],
)
def test_a_bundle_from_a_newer_tabpipe_or_malformed_is_refused_in_one_line(
    bundle: Path, tmp_path: Path, capsys, name: str, change: dict, line: str
) -> None:
    from registry_helpers import registry_cli

    bad = _rewrite_documents(bundle, tmp_path / "bad", lambda n, raw: raw | change if n == name else raw)
    with pytest.raises(BundleError, match=f"^bundle '{bad}': {line}"):
        load_bundle(bad)
    code, _, err = registry_cli(capsys, "--root", str(tmp_path / "registry"), "show", str(bad))
    assert code == 2 and line in err and len(err.strip().splitlines()) == 1
