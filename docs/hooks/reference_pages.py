"""mkdocs hook (``mkdocs.yml`` ``hooks:``): generates the reference pages at every build, from
the code they document, so they cannot go stale (:mod:`tabpipe_docgen`).

``reference/config.md``, ``cli.md``, ``http-api.md``, ``bundle-format.md``, ``exit-codes.md``
and ``python-api.md`` (mkdocstrings directives for ``tabpipe.__all__``; mkdocstrings renders
them), and the bundle documents' JSON schemas, are added to the site as generated
files, replacing the placeholder of the same name in ``docs/`` (kept so that links to the pages
from the README resolve in the repository too). A config key without a description
fails the build.

The sources documented are this checkout's ``src/``, put first on ``sys.path``.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"


def _sources_first() -> None:
    """This checkout's ``src/`` first on ``sys.path`` (a shared virtualenv may hold an
    editable install of another checkout)."""
    if sys.path[:1] != [str(SRC)]:
        sys.path.insert(0, str(SRC))


_sources_first()  # before the first import of tabpipe (mkdocs restores sys.path after loading a hook)
from tabpipe_docgen import (  # noqa: E402
    bundle_page,
    cli_page,
    config_page,
    exit_codes_page,
    http_page,
    python_api_page,
)

log = logging.getLogger("mkdocs.hooks.reference_pages")
# a Sphinx role left in a docstring that mkdocstrings rendered: ":class:<code>Bundle</code>"
SPHINX_ROLE = re.compile(r":(?:mod|class|func|meth|data|attr|exc|obj):(?=<code>)")


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    _sources_first()  # for what is imported later (Hydra's plugins scan hydra_plugins' path)
    return config


def generated_pages() -> dict[str, str]:
    """``{path under docs/: content}`` of every generated file."""
    config_dir = config_page.packaged_config_dir()
    pages = {}
    for path, render in (
        ("reference/config.md", lambda: config_page.render(config_dir)),
        ("reference/cli.md", cli_page.render),
        ("reference/exit-codes.md", lambda: exit_codes_page.render(SRC)),
        ("reference/python-api.md", python_api_page.render),
        ("reference/bundle-format.md", bundle_page.render),
        ("reference/http-api.md", lambda: http_page.render(*http_page.example_openapi(config_dir))),
    ):
        started = time.perf_counter()
        pages[path] = render()
        log.debug("generated %s in %.1f s", path, time.perf_counter() - started)
    return {**pages, **bundle_page.json_schemas()}


def on_files(files: Files, config: MkDocsConfig) -> Files:
    try:
        pages = generated_pages()
    except ValueError as error:  # a config key without a description: one line, the build fails
        raise PluginError(str(error)) from None
    for path, content in pages.items():
        existing = files.get_file_from_path(path)
        if existing is not None:
            files.remove(existing)
        files.append(File.generated(config, path, content=content))
    return files


def on_page_content(html: str, **kwargs: object) -> str:
    """The docstrings' Sphinx roles (the code base's convention) shown as plain code."""
    return SPHINX_ROLE.sub("", html)
