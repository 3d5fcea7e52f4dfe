"""Markdown building blocks: tables whose cells may hold any text."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Sequence
from typing import Any


def cell(text: object) -> str:
    """``text`` made safe for one table cell: one line, ``|`` escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


_CODE_SPAN = re.compile(r"(`+)(.+?)\1")
_ROLE = re.compile(r":(?:mod|class|func|meth|data|attr|exc):(`+)~?")
_BULLET = re.compile(r"^\s*[*-] ")


def _plain(text: str) -> str:
    """``<``, ``>`` and ``&`` as entities (``<run_dir>`` is not an HTML tag), ``[``/``]``
    escaped (``[DIR] [--example a|b]`` is not a link)."""
    return html.escape(text, quote=False).replace("[", "\\[").replace("]", "\\]")


def prose(text: object) -> str:
    """Docstring text for Markdown, on one line: :func:`_plain` outside code spans."""
    raw, out, last = _ROLE.sub(r"\1", " ".join(str(text).split())), [], 0
    for match in _CODE_SPAN.finditer(raw):
        out += [_plain(raw[last : match.start()]), match.group(0)]
        last = match.end()
    return "".join([*out, _plain(raw[last:])])


def code(text: object) -> str:
    """``text`` as inline code (backticks inside it fenced with a longer run)."""
    raw = str(text)
    fence = "``" if "`" in raw else "`"
    pad = " " if raw.startswith("`") or raw.endswith("`") else ""
    return f"{fence}{pad}{raw}{pad}{fence}"


def table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A Markdown table; every cell through :func:`cell`."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def literal(value: Any) -> str:
    """A config or JSON value as its YAML/JSON spelling: null, true, 0.5, [a, b]."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, default=str) if value else "{}"
    return str(getattr(value, "value", value))


def fenced(text: str, language: str = "text") -> str:
    return f"```{language}\n{text.rstrip()}\n```"


def docstring(text: str | None) -> str:
    """A docstring as Markdown: Sphinx roles dropped (``:mod:`x``` -> ```x```), ``<``/``>``
    escaped outside code, a blank line before a bullet list, ``::`` blocks fenced."""
    import inspect

    lines = inspect.cleandoc(text or "").splitlines()
    out: list[str] = []
    in_block = False
    for line in lines:
        if in_block and line and not line.startswith("    "):
            out += ["```", ""]
            in_block = False
        if in_block:
            out.append(line[4:])
            continue
        if (
            _BULLET.match(line)
            and out
            and out[-1]
            and not _BULLET.match(out[-1])
            and not out[-1].startswith("  ")
        ):
            out.append("")
        if line.rstrip().endswith("::"):
            out += [prose(line.rstrip()[:-1]), "", "```text"]
            in_block = True
            continue
        out.append(prose(line) if line.strip() else "")
        if line.startswith("  ") and out[-1]:
            out[-1] = "  " + out[-1]
    if in_block:
        out.append("```")
    return "\n".join(out).replace("```text\n\n", "```text\n")
