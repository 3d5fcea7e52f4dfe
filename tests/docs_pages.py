"""The documentation site's pages as the docs tests read them: the nav of mkdocs.yml, and the
blocks of a tutorial marked runnable (a line ``<!-- runnable -->`` before the fence)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from helpers import ROOT

MKDOCS_YML = ROOT / "mkdocs.yml"
DOCS = ROOT / "docs"
RUNNABLE = re.compile(r"^<!-- runnable -->\n\s*^```(bash|python)\n(.*?)^```$", re.M | re.S)


class _Loader(yaml.SafeLoader):
    """mkdocs.yml may hold tags of mkdocs' own (``!!python/name:``, ``!ENV``): read as null."""


_Loader.add_multi_constructor("", lambda loader, suffix, node: None)


def mkdocs_config() -> dict[str, Any]:
    return yaml.load(MKDOCS_YML.read_text(), Loader=_Loader)  # a SafeLoader


def nav_section(title: str) -> list[Path]:
    """The pages of one top-level nav section, in nav order."""
    for entry in mkdocs_config()["nav"]:
        if isinstance(entry, dict) and title in entry:
            return [DOCS / next(iter(page.values())) for page in entry[title]]
    raise KeyError(f"mkdocs.yml nav has no section {title!r}")


@dataclass(frozen=True)
class Block:
    page: Path
    language: str  # bash or python
    code: str

    def __str__(self) -> str:
        return f"{self.page.relative_to(ROOT)} ({self.language}):\n{self.code}"


def runnable_blocks(page: Path) -> list[Block]:
    return [Block(page, lang, code) for lang, code in RUNNABLE.findall(page.read_text())]
