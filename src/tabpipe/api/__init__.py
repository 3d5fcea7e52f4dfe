"""tabpipe's Python API, for notebooks and scripts (the names are exported by :mod:`tabpipe`).

Each function does what its CLI command does, with the same configs, files and one-line
errors, and returns typed objects instead of printing: :func:`tabpipe.train`,
:func:`tabpipe.load_bundle`, :class:`tabpipe.Registry`, :func:`tabpipe.evaluate`,
:func:`tabpipe.compare`, :func:`tabpipe.monitor`. Errors are raised as the exceptions of
:mod:`tabpipe.errors`; nothing here exits the process.
"""
