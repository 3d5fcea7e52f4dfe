"""JSON Schema (as pydantic and FastAPI write it) rendered as Markdown tables: one table per
object schema, its ``$ref`` types linked to their own tables on the same page."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tabpipe_docgen.markdown import code, prose, table

Link = Callable[[str], str]  # a referenced schema's name -> a Markdown link to its table


def anchor_link(prefix: str) -> Link:
    """Links to headings written with :func:`heading` under the same ``prefix``."""
    return lambda name: f"[{name}](#{anchor(prefix, name)})"


def anchor(prefix: str, name: str) -> str:
    return f"{prefix}-{name}".lower().replace("_", "-")


def heading(level: int, prefix: str, name: str) -> str:
    """A heading with an explicit id (attr_list), the target of :func:`anchor_link`."""
    return f"{'#' * level} `{name}` {{#{anchor(prefix, name)}}}"


_BOUNDS = (
    ("minimum", ">="),
    ("exclusiveMinimum", ">"),
    ("maximum", "<="),
    ("exclusiveMaximum", "<"),
    ("minLength", "length >="),
    ("maxLength", "length <="),
    ("minItems", "items >="),
    ("maxItems", "items <="),
)


def _constraints(schema: dict[str, Any]) -> str:
    parts = [f"{symbol} {schema[key]:g}" for key, symbol in _BOUNDS if key in schema]
    if "pattern" in schema:
        parts.append("a pattern")
    if "format" in schema:
        parts.append(f"format {schema['format']}")
    return f" ({', '.join(parts)})" if parts else ""


def type_text(schema: dict[str, Any], link: Link) -> str:
    """``string``, ``number (>= 0)``, ``list of [Record](#...)``, ``one of "a", "b"``, ``X or null``."""
    if "$ref" in schema:
        return link(schema["$ref"].rsplit("/", 1)[1])
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            return " or ".join(type_text(option, link) for option in schema[key])
    if "const" in schema:
        return code(json.dumps(schema["const"]))
    if "enum" in schema:
        return "one of " + ", ".join(code(json.dumps(v)) for v in schema["enum"])
    kind = schema.get("type", "any")
    if kind == "array":
        items = schema.get("items")
        text = f"list of {type_text(items, link)}" if items else "list"
    elif kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        text = f"mapping of {type_text(schema['additionalProperties'], link)}"
    else:
        text = " or ".join(kind) if isinstance(kind, list) else kind
    return text + _constraints(schema)


def object_table(schema: dict[str, Any], link: Link) -> str:
    """The fields of an object schema: name, type, required (or its default), description."""
    required = set(schema.get("required", []))
    rows = []
    for name, prop in schema.get("properties", {}).items():
        need = ""
        if name in required:
            need = "required"
        elif "default" in prop:
            need = "default " + code(json.dumps(prop["default"]))
        rows.append((code(name), type_text(prop, link), need, prose(prop.get("description", ""))))
    if not rows:
        return f"Any JSON object: {type_text(schema, link)}."
    return table(("field", "type", "required", "description"), rows)


def definitions(defs: dict[str, dict[str, Any]], prefix: str, level: int = 3) -> list[str]:
    """A heading, the description and the table of each named schema, in name order."""
    link = anchor_link(prefix)
    out: list[str] = []
    for name, schema in sorted(defs.items()):
        out += [heading(level, prefix, name), ""]
        if schema.get("description"):
            out += [prose(schema["description"]), ""]
        if schema.get("type") == "object" or "properties" in schema:
            out += [object_table(schema, link), ""]
        else:
            out += [type_text(schema, link), ""]
    return out
