"""The generators of the documentation's reference pages (``docs/reference/``), run by the
mkdocs hook ``docs/hooks/reference_pages.py`` at every ``mkdocs build``, so a page cannot
drift from the code it documents. Each module renders one page from its source:

* :mod:`.config_page` -- the config schemas (dataclasses) and ``conf/`` group options;
* :mod:`.cli_page` -- each command's own ``--help``;
* :mod:`.http_page` -- the server's OpenAPI document, for a bundle trained at build time;
* :mod:`.bundle_page` -- the bundle documents' JSON schemas (pydantic);
* :mod:`.exit_codes_page` -- :data:`tabpipe.errors.EXIT_CODES`.

Not part of the installed package: it imports every layer of tabpipe (the CLI, serving,
training), which no module of the package may.
"""
