"""The documentation site builds with ``mkdocs build --strict`` (a broken link, a missing anchor
or a page left out of the nav fails), offline, and fetches nothing when it is read; the README's
links to the pages resolve on GitHub as they are."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

from docs_pages import DOCS, mkdocs_config
from helpers import ROOT, TESTS, cli_env

# a resource the browser would fetch from elsewhere: fonts, stylesheets, scripts
REMOTE_ASSET = re.compile(
    r"""<(?:script|link|img)\b[^>]*\b(?:src|href)=["'](?:https?:)?//[^"']*["'][^>]*>|fonts\.googleapis|fonts\.gstatic"""
)
MARKDOWN_LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def _build(config: Path, site: Path, network_log: Path) -> subprocess.CompletedProcess:
    env = cli_env()
    # every connection to a non-loopback address is refused and logged (tests/network_guard)
    env["PYTHONPATH"] = f"{TESTS / 'network_guard'}:{env['PYTHONPATH']}"
    env["TABPIPE_NETWORK_LOG"] = str(network_log)
    env["NO_MKDOCS_2_WARNING"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(site)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_site_builds_strict_offline_and_self_contained(tmp_path: Path) -> None:
    network_log = tmp_path / "network.log"
    done = _build(ROOT / "mkdocs.yml", tmp_path / "site", network_log)
    assert done.returncode == 0, done.stderr[-5000:]
    assert not network_log.exists(), network_log.read_text()
    pages = list((tmp_path / "site").rglob("*.html"))
    assert (tmp_path / "site" / "index.html") in pages
    remote = {str(p.relative_to(tmp_path)): REMOTE_ASSET.findall(p.read_text()) for p in pages}
    assert {page: found for page, found in remote.items() if found} == {}


def test_every_page_is_in_the_nav() -> None:
    def pages(entries: list) -> set[str]:
        found: set[str] = set()
        for entry in entries:
            value = next(iter(entry.values())) if isinstance(entry, dict) else entry
            found |= pages(value) if isinstance(value, list) else {value}
        return found

    on_disk = {str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md")}
    assert on_disk - pages(mkdocs_config()["nav"]) == set()


def test_a_broken_link_or_anchor_fails_the_build(tmp_path: Path) -> None:
    """The validation settings of mkdocs.yml, on a two-page site with a planted broken link and
    a planted missing anchor: the strict build refuses both, naming them."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text("# Home\n\n[gone](missing.md) and [no such part](other.md#nowhere)\n")
    (docs / "other.md").write_text("# Other\n\n## Somewhere\n")
    config = tmp_path / "mkdocs.yml"
    settings = {
        "site_name": "planted",
        "docs_dir": str(docs),
        "strict": mkdocs_config()["strict"],
        "validation": mkdocs_config()["validation"],
    }
    config.write_text(yaml.safe_dump(settings))
    done = _build(config, tmp_path / "site", tmp_path / "network.log")
    assert done.returncode != 0
    assert "missing.md" in done.stderr
    assert "#nowhere" in done.stderr


def test_readme_links_resolve() -> None:
    """Relative links of the README and the root documents point at files that exist."""
    for document in ("README.md", "CONTRIBUTING.md", "CHANGELOG.md"):
        targets = MARKDOWN_LINK.findall((ROOT / document).read_text())
        broken = [t for t in targets if "://" not in t and not (ROOT / t).exists()]
        assert broken == [], f"{document}: {broken}"
