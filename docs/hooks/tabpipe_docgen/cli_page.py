"""``reference/cli.md``: every ``tabpipe`` command's own ``--help``, captured in-process.

The commands are the ones ``tabpipe --help`` lists (:data:`tabpipe.cli.main.USAGE`); the
subcommands of an argparse command (``tabpipe registry list``) are its parser's."""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
from collections.abc import Callable, Iterator

from tabpipe_docgen.markdown import fenced, prose

_COMMAND_LINE = re.compile(r"^  (?P<name>[a-z][\w-]*)\s+(?P<summary>.+)$")
_WIDTH = "100"  # argparse wraps at $COLUMNS: a fixed width gives the same page everywhere


def commands(usage: str) -> list[tuple[str, str]]:
    """``(command, summary)`` of each line of the ``commands:`` block of ``usage``."""
    block = usage.split("commands:", 1)[1].split("\n\n", 1)[0]
    return [(m["name"], m["summary"]) for line in block.splitlines() if (m := _COMMAND_LINE.match(line))]


@contextlib.contextmanager
def _columns() -> Iterator[None]:
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = _WIDTH
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = old


def captured_help(main: Callable[[list[str]], None], argv: list[str]) -> str:
    """What ``main(argv)`` prints on stdout (``--help`` exits 0 through argparse or returns)."""
    out = io.StringIO()
    with _columns(), contextlib.redirect_stdout(out):
        try:
            main(argv)
        except SystemExit as stop:
            if stop.code not in (0, None):
                raise RuntimeError(f"tabpipe {' '.join(argv)} exited {stop.code}") from None
    return out.getvalue()


def _subcommands(command: str) -> dict[str, argparse.ArgumentParser]:
    """An argparse command's subparsers (``registry``: list, show, ...), if it has any."""
    import importlib

    try:
        module = importlib.import_module(f"tabpipe.cli.{command}")
    except ImportError:
        return {}
    build = getattr(module, "_parser", None)
    if build is None:
        return {}
    with _columns():
        parser = build()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def render() -> str:
    from tabpipe.cli.main import USAGE, main

    out = [
        "# Command line reference",
        "",
        "Generated at every docs build from the commands' own `--help` (what you see in a",
        "terminal). Every option that is a `key=value` is a config key: see the",
        "[configuration reference](config.md). Exit codes: [exit codes](exit-codes.md).",
        "",
        "## `tabpipe`",
        "",
        fenced(captured_help(main, ["--help"])),
        "",
    ]
    for name, summary in commands(USAGE):
        out += [f"## `tabpipe {name}`", "", prose(summary), ""]
        out += [fenced(captured_help(main, [name, "--help"])), ""]
        for sub, parser in _subcommands(name).items():
            with _columns():
                text = parser.format_help()
            out += [f"### `tabpipe {name} {sub}`", "", fenced(text), ""]
    return "\n".join(out)
