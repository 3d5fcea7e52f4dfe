"""Optional HMAC signing of bundles: origin, on top of the manifest's integrity.

The manifest (sha256 of every file) detects a changed, truncated or missing file, but anyone
who can write the bundle can also rewrite the manifest. With a key in
``$TABPIPE_REGISTRY_KEY`` every manifest written is signed (``signature.json``: HMAC-SHA256 of
``manifest.json``'s bytes), and every bundle loaded (serve, predict, eval, monitor, promote,
compare) must carry a valid signature for that key. Without the key nothing is signed or
checked. The threat model is in docs/topics/registry.md ("Signing and the threat model").

A model's ``aliases.json`` is signed the same way (``aliases.signature.json``: the HMAC of its
bytes, bound to the model's name) whenever the registry writes it with the key, and verified
whenever the registry reads it with the key, so an alias cannot be pointed elsewhere without it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from tabpipe.errors import SignatureError
from tabpipe.io import write_json_atomic

KEY_ENV = "TABPIPE_REGISTRY_KEY"
SIGNATURE = "signature.json"
ALIAS_SIGNATURE = "aliases.signature.json"
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
    _check(f"bundle {str(directory)!r}", directory / SIGNATURE, _mac(key, manifest), key, "the manifest")


def _alias_mac(key: bytes, name: str, content: bytes) -> str:
    # bound to the model's name: a signed aliases.json copied to another model does not verify
    message = b"tabpipe-aliases\0" + name.encode() + b"\0" + content
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def sign_aliases(aliases: Path, name: str, key: bytes) -> Path:
    """Write ``aliases.signature.json`` beside model ``name``'s ``aliases.json``."""
    mac = _alias_mac(key, name, aliases.read_bytes())
    document = Signature(algorithm=ALGORITHM, key_id=key_id(key), hmac=mac)
    return write_json_atomic(aliases.with_name(ALIAS_SIGNATURE), document.model_dump())


def verify_aliases(aliases: Path, content: bytes, name: str, key: bytes) -> None:
    """One line naming ``aliases.json`` when the signature of ``content`` (its bytes as read)
    is missing or does not match."""
    mac = _alias_mac(key, name, content)
    _check(str(aliases), aliases.with_name(ALIAS_SIGNATURE), mac, key, str(aliases.name))


def read_aliases(aliases: Path, name: str) -> bytes:
    """``aliases.json``'s bytes, their signature verified when ``$TABPIPE_REGISTRY_KEY`` is set.
    A move writes the file, then its signature: a mismatch is read again a few times (for
    ~0.1 s) before it is final, so a reader during a move does not fail."""
    key = signing_key()
    if key is None:
        return aliases.read_bytes()
    for _ in range(4):
        content = aliases.read_bytes()
        try:
            verify_aliases(aliases, content, name, key)
            return content
        except SignatureError:
            time.sleep(0.025)
    content = aliases.read_bytes()
    verify_aliases(aliases, content, name, key)
    return content


def _check(where: str, path: Path, expected: str, key: bytes, signed: str) -> None:
    if not path.is_file():
        raise SignatureError(f"{where}: not signed, and ${KEY_ENV} is set (sign it: tabpipe registry sign)")
    try:
        document = Signature.model_validate_json(path.read_text())
    except ValidationError as exc:  # not JSON, or a field missing or of the wrong kind
        raise SignatureError(f"{where}: {path.name} is corrupt") from exc
    algorithm, digest, signer = document.algorithm, document.hmac, document.key_id
    if algorithm != ALGORITHM:
        raise SignatureError(f"{where}: {path.name}: unknown algorithm {algorithm!r} (expected {ALGORITHM})")
    if not hmac.compare_digest(digest, expected):
        why = "signed with another key" if signer != key_id(key) else f"{signed} was changed after signing"
        raise SignatureError(f"{where}: signature does not match ({why})")
