"""The prediction log's line format: strict JSON, one object per line.

JSON has no NaN or Infinity, so a non-finite number (a ``NaN`` or ``1e999`` sent in a request,
an output that overflowed) is written as ``null`` and named, with its value, in the line's
``non_finite`` object, keyed by JSON Pointer (RFC 6901)::

    {"inputs": [{"tenure": null}], ..., "non_finite": {"/inputs/0/tenure": "Infinity"}}

:func:`decode_line` puts the values back, so a reader sees the floats the server saw. The
server writes with :func:`encode_line`; ``tabpipe monitor`` reads with :func:`decode_line`.
"""

from __future__ import annotations

import json
import math
from typing import Any

NON_FINITE = "non_finite"
_TOKENS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def _token(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def _escape(key: Any) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


def _unescape(part: str) -> str:
    return part.replace("~1", "/").replace("~0", "~")


def _finite(value: Any, pointer: str, found: dict[str, str]) -> Any:
    """``value`` with every non-finite float replaced by None and recorded in ``found``."""
    if isinstance(value, float) and not math.isfinite(value):
        found[pointer] = _token(value)
        return None
    if isinstance(value, dict):
        return {k: _finite(v, f"{pointer}/{_escape(k)}", found) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v, f"{pointer}/{i}", found) for i, v in enumerate(value)]
    return value


def encode_line(entry: dict[str, Any]) -> str:
    """``entry`` as one line of strict JSON (values JSON cannot hold, such as datetimes, as text)."""
    try:
        return json.dumps(entry, allow_nan=False, default=str)
    except ValueError:  # a non-finite float somewhere: the rare path walks the entry
        found: dict[str, str] = {}
        clean = _finite(entry, "", found)
        return json.dumps({**clean, NON_FINITE: found}, allow_nan=False, default=str)


def _restore(entry: dict[str, Any], pointer: str, token: str) -> None:
    if token not in _TOKENS or not pointer.startswith("/"):
        raise ValueError(f"{NON_FINITE}: bad entry {pointer!r}: {token!r}")
    parts = [_unescape(p) for p in pointer[1:].split("/")]
    container: Any = entry
    try:
        for part in parts[:-1]:
            container = container[int(part)] if isinstance(container, list) else container[part]
        last = parts[-1]
        if isinstance(container, list):
            container[int(last)] = _TOKENS[token]
        elif isinstance(container, dict) and last in container:
            container[last] = _TOKENS[token]
        else:
            raise KeyError(last)
    except (KeyError, IndexError, TypeError) as exc:
        raise ValueError(f"{NON_FINITE}: {pointer!r} names no value of the line") from exc


def decode_line(text: str) -> dict[str, Any]:
    """One log line as written by :func:`encode_line`, non-finite numbers restored. Raises
    ``ValueError`` (``json.JSONDecodeError`` included) for a line that is not such an object.
    Lines of older logs with bare ``NaN`` tokens still read."""
    entry = json.loads(text)
    if not isinstance(entry, dict):
        raise ValueError("a log line must be a JSON object")
    found = entry.pop(NON_FINITE, None) or {}
    if not isinstance(found, dict):
        raise ValueError(f"{NON_FINITE}: must be an object")
    for pointer, token in found.items():
        _restore(entry, pointer, token)
    return entry
