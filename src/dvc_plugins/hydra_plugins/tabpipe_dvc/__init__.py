"""Loaded by DVC alone (``.dvc/config``: ``hydra.plugins_path = src/dvc_plugins``) just before
``dvc exp run`` composes ``conf/``: tabpipe's errors and the recorded overrides
(:mod:`tabpipe.pipeline.dvc_compose`). No other process has this directory on its path."""

from tabpipe.pipeline.dvc_compose import install

install()
