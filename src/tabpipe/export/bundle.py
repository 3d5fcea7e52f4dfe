"""The bundle: one self-contained directory per trained model.

``model.onnx`` (raw columns -> predictions), ``schema.json``, ``reference_profile.json``,
``metrics.json``, ``metadata.json`` (the three documents typed and versioned:
:mod:`tabpipe.export.documents`), the native model (``native/``, for retraining and
inspection only; serving never unpickles anything) and ``manifest.json`` with the sha256 of
every other file, verified on load. With ``$TABPIPE_REGISTRY_KEY`` set, ``signature.json`` (an
HMAC of the manifest, :mod:`tabpipe.export.signing`) is written with every manifest and
required on every load.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from tabpipe.documents.metrics import read_metrics
from tabpipe.errors import BundleError
from tabpipe.export import signing
from tabpipe.export.documents import (
    Document,
    DocumentError,
    InputColumn,
    MetadataDocument,
    OutputTensor,
    ProfileDocument,
    SchemaDocument,
    read,
)
from tabpipe.export.inputs import ONNX_INPUT_TYPES
from tabpipe.io import sha256_file, write_json_atomic
from tabpipe.tasks import get_task

MANIFEST = "manifest.json"
REQUIRED = ("model.onnx", "schema.json", "reference_profile.json", "metrics.json", "metadata.json")
INPUT_ENCODING = {
    "numeric": "float32; missing = NaN (or null in JSON)",
    "boolean": "float32 0/1; missing = NaN. Records accept true/false, yes/no, 1/0",
    "categorical": "string; missing = empty string. Unseen categories go to the sentinel",
    "datetime": "float64 seconds since 1970-01-01 UTC; missing = NaN. Records accept "
    "timestamp strings, parsed by tabpipe.export.inputs.graph_inputs",
}


def schema_document(
    schema: dict, task: str, classes: list[str] | None, id_columns: list[str], group_column: str | None = None
) -> SchemaDocument:
    inputs = [
        InputColumn(
            name=name,
            type=spec.type,
            onnx_type=ONNX_INPUT_TYPES[spec.type],
            nullable=spec.nullable,
            encoding=INPUT_ENCODING[spec.type],
            min=spec.min if spec.type == "numeric" else None,
            max=spec.max if spec.type == "numeric" else None,
            categories=None if spec.categories is None else [str(c) for c in spec.categories],
        )
        for name, spec in schema.items()
    ]
    # ranking: scores compare only within one value of group_column
    return SchemaDocument(
        task=task,
        classes=classes,
        id_columns=id_columns,
        inputs=inputs,
        outputs=[OutputTensor.model_validate(spec) for spec in get_task(task).output_specs(classes)],
        group_column=group_column or None,
    )


class Manifest(BaseModel):
    """``manifest.json``: the sha256 of every file of the bundle, by relative path."""

    model_config = ConfigDict(extra="allow")

    sha256: dict[str, str]


def write_manifest(directory: Path) -> dict[str, str]:
    """The sha256 of every file; signed when ``$TABPIPE_REGISTRY_KEY`` is set (an older
    signature, now stale, is removed when it is not)."""
    key = signing.signing_key()
    skip = {MANIFEST, signing.SIGNATURE}
    files = sorted(
        p for p in directory.rglob("*") if p.is_file() and str(p.relative_to(directory)) not in skip
    )
    manifest = {str(p.relative_to(directory)): sha256_file(p) for p in files}
    write_json_atomic(directory / MANIFEST, Manifest(sha256=manifest).model_dump())
    if key is not None:
        signing.sign(directory, directory / MANIFEST, key)
    else:
        (directory / signing.SIGNATURE).unlink(missing_ok=True)
    return manifest


def write_bundle(
    directory: Path, model_bytes: bytes, documents: dict[str, Any], native_files: list[Path]
) -> Path:
    """Write a complete bundle into ``directory`` (which must not exist yet)."""
    directory.mkdir(parents=True)
    (directory / "model.onnx").write_bytes(model_bytes)
    for name, payload in documents.items():
        if isinstance(payload, Document):
            payload.write(directory / name)
        else:
            write_json_atomic(directory / name, payload)
    native = directory / "native"
    native.mkdir()
    for path in native_files:
        shutil.copy2(path, native / path.name)
    write_manifest(directory)
    return directory


@dataclass
class Bundle:
    """A verified bundle with its validated documents."""

    path: Path
    schema: SchemaDocument
    metadata: MetadataDocument
    profile: ProfileDocument

    @property
    def model_path(self) -> Path:
        return self.path / "model.onnx"

    @property
    def name(self) -> str:
        """The registered name, else the directory's name."""
        return self.metadata.name or self.path.name

    @property
    def version(self) -> str:
        """The registered version, else ``unregistered``."""
        return self.metadata.version_label

    def read_json(self, name: str) -> dict[str, Any]:
        """A free-form JSON file of the bundle."""
        return json.loads((self.path / name).read_text())

    @property
    def metrics(self) -> dict[str, float]:
        """``metrics.json``: metric name -> value (NaN where a metric is undefined), validated;
        one line naming the bundle, the file and the metric when it does not."""
        try:
            return read_metrics(self.path / "metrics.json")
        except DocumentError as error:
            raise BundleError(f"bundle {str(self.path)!r}: {error}") from None


def _manifest_path(path: Path) -> Path:
    """``path``'s manifest; one line when ``path`` is not a bundle directory."""
    if not path.is_dir():
        raise BundleError(f"bundle {str(path)!r}: no such bundle directory")
    manifest_path = path / MANIFEST
    if not manifest_path.is_file():
        raise BundleError(f"bundle {str(path)!r}: missing {MANIFEST}; not a tabpipe bundle")
    return manifest_path


def verify_bundle(path: Path) -> dict[str, str]:
    """Check the signature (when ``$TABPIPE_REGISTRY_KEY`` is set) and every file against
    the manifest; one line naming the first bad file."""
    manifest_path = _manifest_path(path)
    try:  # one error type for every reason a bundle does not load
        key = signing.signing_key()
        if key is not None:
            signing.verify(path, manifest_path, key)
    except signing.SignatureError as error:
        raise BundleError(str(error)) from error
    return verify_checksums(path)


def verify_checksums(path: Path) -> dict[str, str]:
    """Every file against the manifest (not the signature); one line naming the first bad file."""
    manifest_path = _manifest_path(path)
    try:
        manifest = Manifest.model_validate_json(manifest_path.read_text()).sha256
    except ValidationError as exc:  # not JSON, or no sha256 object of file -> digest
        raise BundleError(f"bundle {str(path)!r}: {MANIFEST} is corrupt") from exc
    for name in REQUIRED:
        if name not in manifest:
            raise BundleError(f"bundle {str(path)!r}: {name} is not in the manifest")
    for name, digest in manifest.items():
        if Path(name).is_absolute() or ".." in Path(name).parts:
            raise BundleError(f"bundle {str(path)!r}: {MANIFEST} names {name!r}, outside the bundle")
        file = path / name
        if not file.is_file():
            raise BundleError(f"bundle {str(path)!r}: file {name} is missing")
        if sha256_file(file) != digest:
            raise BundleError(f"bundle {str(path)!r}: file {name} fails its checksum (tampered or truncated)")
    return manifest


def load_bundle(path: Path) -> Bundle:
    """A verified bundle (checksums, signature when a key is set, registry location)."""
    verify_bundle(path)
    try:  # an older format is migrated in memory (the files, checksummed, stay as written)
        bundle = Bundle(
            path,
            read(SchemaDocument, path / "schema.json"),
            read(MetadataDocument, path / "metadata.json"),
            read(ProfileDocument, path / "reference_profile.json"),
        )
    except DocumentError as error:
        raise BundleError(f"bundle {str(path)!r}: {error}") from None
    _check_location(bundle)
    return bundle


def _check_location(bundle: Bundle) -> None:
    """A registered version sits at ``<name>/<version>``: one found under another registry
    version's path was moved or copied there (its signed metadata names its own place)."""
    info = bundle.metadata.registry
    path = bundle.path
    if not (info and info.name and path.name.isdigit()):
        return
    if (path.parent.name, path.name) != (info.name, str(info.version)):
        raise BundleError(
            f"bundle {str(path)!r}: registered as {info.ref} but found at "
            f"{path.parent.name}/{path.name} (a moved or copied version)"
        )
