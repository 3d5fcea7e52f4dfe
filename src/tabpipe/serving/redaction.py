"""Redaction of the inputs written to the prediction log (``prediction_log.redact``).

Fields listed in ``redact.hash`` are written as a keyed HMAC-SHA256 of the value's text (32 hex
digits); those in ``redact.drop`` are left out. The bundle's id columns are hashed unless
listed in ``redact.keep`` (or ``drop``).

The hash is keyed so that an id cannot be found again by hashing a list of candidate ids:
without the key the log's hashes are opaque; with it, one id always gives the same hash, so a
customer's requests can still be grouped. The key is ``prediction_log.key`` (by default from
``TABPIPE_PREDICTION_LOG_KEY``), else the contents of ``prediction_log.key_file`` (default
``.<log name>.key`` beside the log), created with 32 random bytes and mode 0600 on first use,
and refused if others may read it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from tabpipe.config.app_schema import PredictionLogConfig
from tabpipe.errors import ConfigError
from tabpipe.export.documents import SchemaDocument

HASH, DROP, KEEP = "hash", "drop", "keep"
HASH_HEX_DIGITS = 32


@dataclass(frozen=True)
class Redaction:
    """The columns to hash and to drop, and the HMAC key."""

    hashed: tuple[str, ...]
    dropped: tuple[str, ...]
    key: bytes

    @cached_property  # read for every logged request; the redaction never changes
    def marker(self) -> dict[str, str]:
        """What each log line records under ``redacted``: column -> hash | drop."""
        return {**dict.fromkeys(self.hashed, HASH), **dict.fromkeys(self.dropped, DROP)}

    def digest(self, value: Any) -> str:
        return hmac.new(self.key, str(value).encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[
            :HASH_HEX_DIGITS
        ]

    def apply(self, record: dict[str, Any]) -> dict[str, Any]:
        """A redacted copy of one input record (null values stay null)."""
        out = {k: v for k, v in record.items() if k not in self.dropped}
        for name in self.hashed:
            value = out.get(name)
            if value is not None:
                out[name] = self.digest(value)
        return out


def read_or_create_key(path: Path) -> bytes:
    """The key file's contents; a new random key (mode 0600) when there is none."""
    where = f"prediction_log.key_file={str(path)!r}"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        fd = None
    except OSError as exc:
        raise ConfigError(f"{where}: cannot create it ({exc.strerror})") from exc
    if fd is not None:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32) + "\n")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ConfigError(f"{where}: readable by others (mode {mode:04o}); chmod 600 it")
    key = path.read_bytes().strip()
    if not key:
        raise ConfigError(f"{where}: empty; delete it or put a key in it")
    return key


def default_key_file(log_path: Path) -> Path:
    return log_path.parent / f".{log_path.name}.key"


def build_redaction(log_cfg: PredictionLogConfig, schema: SchemaDocument) -> Redaction | None:
    """The redaction for the ``prediction_log`` config against the bundle's ``schema.json``;
    None when nothing is redacted. An unknown field, or one listed twice, is a one-line
    config error."""
    inputs = list(schema.input_types)
    ids = list(schema.id_columns)
    modes = dict.fromkeys(ids, HASH)
    listed: dict[str, str] = {}
    for mode in (HASH, DROP, KEEP):
        for name in getattr(log_cfg.redact, mode):
            if name not in inputs and name not in ids:
                raise ConfigError(
                    f"prediction_log.redact.{mode}: {name!r} is not a field of the bundle's requests "
                    f"(id columns and inputs: {', '.join([*ids, *inputs])})"
                )
            if name in listed:
                raise ConfigError(
                    f"prediction_log.redact: {name!r} is listed in both {listed[name]} and {mode}"
                )
            listed[name] = modes[name] = mode
    hashed = tuple(n for n, m in modes.items() if m == HASH)
    dropped = tuple(n for n, m in modes.items() if m == DROP)
    if not hashed and not dropped:
        return None
    key = b""
    if hashed:
        if log_cfg.key:
            key = str(log_cfg.key).encode()
        else:
            key_file = Path(log_cfg.key_file) if log_cfg.key_file else default_key_file(Path(log_cfg.path))
            try:
                key_file.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:  # a parent is a regular file
                raise ConfigError(
                    f"prediction_log.key_file={str(key_file)!r}: cannot create its folder ({exc.strerror}; "
                    "is a parent a regular file?)"
                ) from exc
            key = read_or_create_key(key_file)
    return Redaction(hashed, dropped, key)
