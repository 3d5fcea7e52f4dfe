"""``reference/bundle-format.md`` and the JSON schemas beside it: the files of a bundle and
the versioned documents, from :mod:`tabpipe.export.bundle` and the pydantic models of
:mod:`tabpipe.export.documents` (``model_json_schema``)."""

from __future__ import annotations

import json
import sys
from typing import Any

from tabpipe_docgen.json_schema import definitions
from tabpipe_docgen.markdown import code, docstring, table

SCHEMA_DIR = "reference/schemas"


def documents() -> dict[str, type]:
    """The bundle's typed documents, by file name, as :func:`tabpipe.export.bundle.load_bundle`
    reads them."""
    from tabpipe.export.documents import MetadataDocument, ProfileDocument, SchemaDocument

    return {
        "schema.json": SchemaDocument,
        "metadata.json": MetadataDocument,
        "reference_profile.json": ProfileDocument,
    }


def json_schemas() -> dict[str, str]:
    """``{site path: JSON schema text}`` of each document, for download."""
    return {
        f"{SCHEMA_DIR}/{name.removesuffix('.json')}.schema.json": json.dumps(
            model.model_json_schema(by_alias=True), indent=2, sort_keys=True
        )
        + "\n"
        for name, model in documents().items()
    }


def _files() -> list[tuple[str, str, str]]:
    from tabpipe.export import bundle, signing

    typed = documents()
    plain = {"model.onnx": "the ONNX graph: raw columns to outputs", "metrics.json": "the run's metrics"}
    rows = []
    for name in bundle.REQUIRED:
        link = f"typed document: [{name}](#{name.replace('.', '-').replace('_', '-')})"
        rows.append((code(name), "always", link if name in typed else plain.get(name, "")))
    rows.append((code(bundle.MANIFEST), "always", "sha256 of every other file, verified on every load"))
    rows.append((code(signing.SIGNATURE), "with `$TABPIPE_REGISTRY_KEY`", "an HMAC of the manifest"))
    rows.append((code("native/"), "always", "the native model: retraining and inspection, never serving"))
    return rows


def _document(name: str, model: type) -> list[str]:
    schema: dict[str, Any] = model.model_json_schema(by_alias=True)
    prefix = name.replace(".", "-").replace("_", "-")
    path = f"schemas/{name.removesuffix('.json')}.schema.json"
    out = [f"### `{name}` {{#{prefix}}}", "", docstring(sys.modules[model.__module__].__doc__), ""]
    out += [
        f"Model `{model.__module__}.{model.__name__}`; JSON schema: [{path.rsplit('/', 1)[1]}]({path}).",
        "",
    ]
    defs = {model.__name__: {k: v for k, v in schema.items() if k != "$defs"}, **schema.get("$defs", {})}
    return [*out, *definitions(defs, prefix, level=4)]


def render() -> str:
    from tabpipe.export import bundle
    from tabpipe.export.documents import FORMAT_VERSION, migrate

    base = sys.modules[migrate.__module__]  # the module of the shared document base

    out = [
        f"# Bundle format, version {FORMAT_VERSION}",
        "",
        "Generated at every docs build from `tabpipe.export.bundle` and the pydantic models of",
        "`tabpipe.export.documents`.",
        "",
        docstring(bundle.__doc__),
        "",
        "## Files",
        "",
        table(("file", "present", "contents"), _files()),
        "",
        f"## Versions: `format_version` {FORMAT_VERSION}",
        "",
        docstring(base.__doc__),
        "",
        "The migration rule (`tabpipe.export.documents.migrate`):",
        "",
        docstring(migrate.__doc__),
        "",
        "## Documents",
        "",
    ]
    for name, model in documents().items():
        out += _document(name, model)
    return "\n".join(out)
