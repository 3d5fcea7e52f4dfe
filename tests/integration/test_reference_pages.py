"""The generated reference pages (docs/hooks/tabpipe_docgen, run at every ``mkdocs build``)
hold what their sources say: every config key and group option, every command's help, every
path and status of the server's OpenAPI, the bundle documents' JSON schemas, every exit code."""

from __future__ import annotations

import importlib
import json
import re
import sys
from pathlib import Path
from types import ModuleType

from serving_helpers import serve_config

ROOT = Path(__file__).resolve().parents[2]
HOOKS = ROOT / "docs" / "hooks"


def _docgen(name: str) -> ModuleType:
    if str(HOOKS) not in sys.path:
        sys.path.insert(0, str(HOOKS))
    return importlib.import_module(f"tabpipe_docgen.{name}")


def _cells(page: str, column: int = 0) -> set[str]:
    """The texts of one column of every table row of ``page``, backticks left out."""
    rows = [line.split(" | ") for line in page.splitlines() if line.startswith("| ") and "---" not in line]
    return {row[column].strip("| `") for row in rows if len(row) > column}


def test_config_page_lists_every_key_and_option_with_its_range() -> None:
    from tabpipe.config.app_schema import APP_SCHEMAS
    from tabpipe.config.schema import TrainConfig, XGBModelConfig

    keys, config_page = _docgen("config_keys"), _docgen("config_page")
    packaged = config_page.packaged_config_dir()
    page = config_page.render(packaged)
    listed = _cells(page)
    files = config_page.group_files(packaged)
    groups = set(files)
    root = {k.path for k in keys.schema_keys(TrainConfig) if k.path.split(".")[0] not in groups}
    assert root - listed == set() and "eval.threshold.cost.fn" in root
    assert {k.path for k in keys.schema_keys(XGBModelConfig, "model.")} - listed == set()
    for schema in APP_SCHEMAS.values():
        assert {k.path for k in keys.schema_keys(schema)} - listed == set()
    assert {"hydra.sweeper.n_trials", "hydra.sweeper.pruner.n_warmup_steps"} <= listed
    assert {"data", "model", "logger", "hparams_search"} <= groups
    assert {f.stem for options in files.values() for f in options} - listed == set()
    # a range from the schema's metadata, a default from the composed conf/train.yaml
    assert re.search(r"\| `model.learning_rate` \| float \| `0.05` \| > 0 \| Shrinkage", page)
    assert "`${oc.env:TABPIPE_REGISTRY,${paths.root_dir}/registry}`" in page


def test_cli_page_holds_each_commands_own_help() -> None:
    from tabpipe.cli.groups import help_text
    from tabpipe.cli.main import USAGE
    from tabpipe.cli.train import __doc__ as train_doc

    page = _docgen("cli_page").render()
    commands = re.findall(r"^  ([a-z][\w-]*) ", USAGE.split("commands:")[1], flags=re.MULTILINE)
    assert len(commands) >= 11
    for command in commands:
        assert f"## `tabpipe {command}`" in page
    assert help_text("tabpipe train", train_doc or "").strip() in page
    for sub in ("list", "show", "promote", "delete", "gc", "fsck", "sign"):
        assert f"### `tabpipe registry {sub}`" in page and f"usage: tabpipe registry {sub}" in page


def test_http_page_renders_every_path_status_and_schema_of_the_servers_openapi(binary_bundle) -> None:
    from tabpipe.serving.app import create_app

    spec = create_app(serve_config(binary_bundle.ref, binary_bundle.registry)).openapi()
    page = _docgen("http_page").render(spec, binary_bundle.ref)
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            section = page.split(f"### `{method.upper()} {path}`", 1)[1].split("\n### ", 1)[0]
            assert set(operation["responses"]) == _cells(section) - {"status"}
    for name in spec["components"]["schemas"]:
        assert f"{{#schema-{name.lower()}}}" in page
    # the request model is the bundle's: its inputs with their rules
    assert re.search(r"\| `tenure` \| number \(>= [^)]*\) or null \|", page)
    assert "[Record](#schema-record)" in page


def test_bundle_page_and_json_schemas_come_from_the_document_models() -> None:
    from tabpipe.export.bundle import MANIFEST, REQUIRED
    from tabpipe.export.documents import FORMAT_VERSION, MetadataDocument

    bundle_page = _docgen("bundle_page")
    page = bundle_page.render()
    assert page.startswith(f"# Bundle format, version {FORMAT_VERSION}")
    assert {*REQUIRED, MANIFEST} - _cells(page) == set()
    schemas = bundle_page.json_schemas()
    assert json.loads(
        schemas["reference/schemas/metadata.schema.json"]
    ) == MetadataDocument.model_json_schema(by_alias=True)
    assert (
        "(schemas/metadata.schema.json)" in page
        and "#### `DatasetFacts` {#metadata-json-datasetfacts}" in page
    )


def test_exit_codes_page_lists_every_code_with_its_errors() -> None:
    from tabpipe.errors import EXIT_CODES

    page = _docgen("exit_codes_page").render(ROOT / "src")
    rows = {row.split(" | ")[0].strip("| "): row for row in page.splitlines() if row.startswith("| ")}
    for code in EXIT_CODES:
        assert str(code) in rows
    assert (
        "`ParityError`" in rows["5"] and "`ConfigError`" in rows["2"] and "`BaselineGateError`" in rows["3"]
    )


def test_the_mkdocs_hook_replaces_each_placeholder_with_its_generated_page(
    binary_bundle, monkeypatch
) -> None:
    """What ``mkdocs build`` runs (mkdocs.yml ``hooks:``): the files of docs/ as mkdocs collects
    them, then the hook's ``on_files``. The example bundle is the session's (the build trains
    its own)."""
    from mkdocs.config import load_config
    from mkdocs.structure.files import get_files

    from tabpipe.serving.app import create_app

    config = load_config(str(ROOT / "mkdocs.yml"))
    hook = config.hooks["docs/hooks/reference_pages.py"]
    assert Path(hook.__file__) == HOOKS / "reference_pages.py"
    spec = create_app(serve_config(binary_bundle.ref, binary_bundle.registry)).openapi()
    monkeypatch.setattr(_docgen("http_page"), "example_openapi", lambda config_dir: (spec, binary_bundle.ref))
    files = get_files(config)
    placeholders = {f.src_uri: f.content_string for f in files if f.src_uri.startswith("reference/")}
    files = config.plugins.on_files(files, config=config)  # every plugin's, the hook's among them
    pages = {f.src_uri: f.content_string for f in files if f.src_uri.startswith("reference/")}
    generated = {"config.md", "cli.md", "http-api.md", "bundle-format.md", "exit-codes.md", "python-api.md"}
    for name in generated:
        uri = f"reference/{name}"
        assert "is generated at every docs build" in placeholders[uri]
        assert pages[uri] != placeholders[uri] and "placeholder" not in pages[uri]
    assert "::: tabpipe.errors" in pages["reference/python-api.md"]
    assert (
        "`model.max_depth`" in pages["reference/config.md"]
        and "## `tabpipe registry`" in pages["reference/cli.md"]
    )
    assert json.loads(pages["reference/schemas/schema.schema.json"])["title"] == "SchemaDocument"
    # docstrings' Sphinx roles, as mkdocstrings renders them, shown as plain code
    rendered = (
        "<p>See :class:<code>Bundle</code> and :func:<code>tabpipe.train</code>; a:b:<code>c</code></p>"
    )
    assert (
        hook.on_page_content(rendered)
        == "<p>See <code>Bundle</code> and <code>tabpipe.train</code>; a:b:<code>c</code></p>"
    )


def test_prose_keeps_code_spans_and_escapes_tags_and_link_brackets_outside_them() -> None:
    prose = _docgen("markdown").prose
    text = "writes <run_dir>/x; see :mod:`tabpipe.io`;\n usage: init [DIR] [--example a|b] `[x] <y>`"
    assert prose(text) == (
        r"writes &lt;run_dir&gt;/x; see `tabpipe.io`; usage: init \[DIR\] \[--example a|b\] `[x] <y>`"
    )


def test_python_api_page_has_a_directive_for_every_public_name_by_defining_module(monkeypatch) -> None:
    import tabpipe
    from tabpipe import errors

    public = ["__version__", "errors", "first_line", "TabpipeError", "error_line", "FORMAT_VERSION"]
    monkeypatch.setattr(tabpipe, "__all__", public, raising=False)
    monkeypatch.setattr(tabpipe, "errors", errors, raising=False)
    monkeypatch.setattr(tabpipe, "first_line", errors.first_line, raising=False)
    monkeypatch.setattr(tabpipe, "TabpipeError", errors.TabpipeError, raising=False)
    monkeypatch.setattr(tabpipe, "error_line", errors.error_line, raising=False)
    monkeypatch.setattr(tabpipe, "FORMAT_VERSION", 1, raising=False)  # a constant: no module, skipped
    api = _docgen("python_api_page")
    assert api.public_names(tabpipe) == {"tabpipe.errors": ["first_line", "error_line", "TabpipeError"]}
    page = api.render()
    assert "## Errors\n\nErrors that end a run with one clear line" in page  # the module's summary
    assert page.index("::: tabpipe.first_line\n") < page.index("::: tabpipe.TabpipeError\n")
    assert "::: tabpipe.errors" in page and "::: tabpipe.export.documents" in page


def test_python_api_page_orders_modules_as_the_package_docstring_tours_them(monkeypatch) -> None:
    import tabpipe
    from tabpipe import errors, io

    monkeypatch.setattr(tabpipe, "__all__", ["first_line", "write_text_atomic"], raising=False)
    monkeypatch.setattr(tabpipe, "first_line", errors.first_line, raising=False)
    monkeypatch.setattr(tabpipe, "write_text_atomic", io.write_text_atomic, raising=False)
    monkeypatch.setattr(
        tabpipe, "__doc__", "Tour: tabpipe.write_text_atomic(p, t), then tabpipe.first_line(e)."
    )
    assert list(_docgen("python_api_page").public_names(tabpipe)) == ["tabpipe.io", "tabpipe.errors"]
    monkeypatch.setattr(tabpipe, "__doc__", "No tour.")
    assert list(_docgen("python_api_page").public_names(tabpipe)) == ["tabpipe.errors", "tabpipe.io"]
