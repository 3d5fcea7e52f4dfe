"""What every versioned bundle document shares: ``format_version``, the one migration from
older formats, and the one-line refusal of a document that does not validate.

A document is read as: JSON -> :func:`migrate` (an older ``format_version`` brought to the
current one, in memory: the files on disk stay as written, so their checksums and signature
keep verifying) -> ``model_validate`` (a malformed document is refused with one line naming the
file, the field and the rule).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from tabpipe.errors import DocumentError
from tabpipe.io import write_text_atomic

FORMAT_VERSION = 1


class Document(BaseModel):
    """A JSON document with a ``format_version``. NaN and infinity are written as JSON's
    ``NaN``/``Infinity`` constants, as ``json.dumps`` does (metrics may be NaN)."""

    model_config = ConfigDict(extra="forbid", ser_json_inf_nan="constants", populate_by_name=True)

    format_version: int = FORMAT_VERSION

    def to_json(self) -> dict[str, Any]:
        """The JSON-ready dict (aliases such as ``_target_`` kept)."""
        return self.model_dump(mode="json", by_alias=True)

    def write(self, path: Path) -> Path:
        """Atomically (a temporary file, then a rename), keys sorted as ``write_json_atomic``."""
        return write_text_atomic(path, json.dumps(self.to_json(), indent=2, sort_keys=True) + "\n")


D = TypeVar("D", bound=Document)


def migrate(raw: dict[str, Any], name: str) -> dict[str, Any]:
    """The one migration: an older document brought to :data:`FORMAT_VERSION`.

    * no ``format_version`` (written before tabpipe versioned its documents; the fields are
      the same as version 1): read as version 1;
    * a version newer than this tabpipe reads, or not a positive integer: refused, naming it.
    """
    version = raw.get("format_version", 0)
    if type(version) is not int or version < 0:
        raise DocumentError(f"{name}: format_version {version!r}: must be a whole number")
    if version > FORMAT_VERSION:
        raise DocumentError(
            f"{name}: format_version {version} is newer than this tabpipe reads ({FORMAT_VERSION}); "
            "upgrade tabpipe"
        )
    if version == 0:
        raw = {**raw, "format_version": 1}
    return raw


def dotted(loc: tuple[int | str, ...]) -> str:
    """A pydantic error's location as a dotted path (``splits.0.train``)."""
    return ".".join(str(part) for part in loc) or "(document)"


def one_line(error: ValidationError, name: str) -> str:
    """The first problem of ``error``: the file, the field's dotted path, the rule."""
    first = error.errors()[0]
    return f"{name}: field {dotted(first['loc'])}: {first['msg']}"


def parse(model: type[D], raw: Any, name: str) -> D:
    """``raw`` (parsed JSON) migrated and validated; one line when it does not validate."""
    if not isinstance(raw, dict):
        raise DocumentError(f"{name}: expected a JSON object, got {type(raw).__name__}")
    try:
        return model.model_validate(migrate(raw, name))
    except ValidationError as error:
        raise DocumentError(one_line(error, name)) from None


def read(model: type[D], path: Path) -> D:
    """``path`` read, migrated and validated; one line naming the file when it does not."""
    try:
        raw = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise DocumentError(f"{path.name}: not valid JSON ({error.msg}, line {error.lineno})") from None
    return parse(model, raw, path.name)
