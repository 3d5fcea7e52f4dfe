"""Optional HMAC signing of bundles: origin, on top of the manifest's integrity.

The manifest (sha256 of every file) detects a changed, truncated or missing file, but anyone
who can write the bundle can also rewrite the manifest. With a key in
``$TABPIPE_REGISTRY_KEY`` every manifest written is signed (``signature.json``: HMAC-SHA256 of
``manifest.json``'s bytes), and every bundle loaded (serve, predict, eval, monitor, promote,
compare) must carry a valid signature for that key. Without the key nothing is signed or
checked. The threat model is in docs/topics/registry.md ("Signing and the threat model").
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from tabpipe.errors import SignatureError
from tabpipe.io import write_json_atomic

KEY_ENV = "TABPIPE_REGISTRY_KEY"
SIGNATURE = "signature.json"
ALGORITHM = "hmac-sha256"
MIN_KEY_BYTES = 16


def signing_key() -> bytes | None:
    """The key from ``$TABPIPE_REGISTRY_KEY`` (None when unset or empty)."""
    value = os.environ.get(KEY_ENV, "")
    if not value:
        return None
    key = value.encode()
    if len(key) < MIN_KEY_BYTES:
        raise SignatureError(f"${KEY_ENV}: the key must be at least {MIN_KEY_BYTES} bytes")
    return key


def key_id(key: bytes) -> str:
    """A public name for a key (to tell keys apart in errors), not the key."""
    return hashlib.sha256(b"tabpipe-key-id:" + key).hexdigest()[:16]


def _mac(key: bytes, manifest: Path) -> str:
    return hmac.new(key, manifest.read_bytes(), hashlib.sha256).hexdigest()


class Signature(BaseModel):
    """``signature.json``: the HMAC of the manifest and the public name of the key."""

    model_config = ConfigDict(extra="allow")

    algorithm: str
    key_id: str | None = None
    hmac: str


def sign(directory: Path, manifest: Path, key: bytes) -> Path:
    """Write ``signature.json`` for ``manifest`` (in ``directory``)."""
    document = Signature(algorithm=ALGORITHM, key_id=key_id(key), hmac=_mac(key, manifest))
    return write_json_atomic(directory / SIGNATURE, document.model_dump())


def verify(directory: Path, manifest: Path, key: bytes) -> None:
    """One line naming the bundle when its signature is missing or does not match."""
    where = f"bundle {str(directory)!r}"
    path = directory / SIGNATURE
    if not path.is_file():
        raise SignatureError(f"{where}: not signed, and ${KEY_ENV} is set (sign it: tabpipe registry sign)")
    try:
        document = Signature.model_validate_json(path.read_text())
    except ValidationError as exc:  # not JSON, or a field missing or of the wrong kind
        raise SignatureError(f"{where}: {SIGNATURE} is corrupt") from exc
    algorithm, digest, signer = document.algorithm, document.hmac, document.key_id
    if algorithm != ALGORITHM:
        raise SignatureError(f"{where}: {SIGNATURE}: unknown algorithm {algorithm!r} (expected {ALGORITHM})")
    if not hmac.compare_digest(digest, _mac(key, manifest)):
        why = "signed with another key" if signer != key_id(key) else "the manifest was changed after signing"
        raise SignatureError(f"{where}: signature does not match ({why})")
