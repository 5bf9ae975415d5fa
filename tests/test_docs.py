"""The README is what a newcomer needs, short; the reference is in docs/, one page per
subject, and every link between them leads somewhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
README = ROOT / "README.md"
PAGES = sorted((ROOT / "docs").glob("*.md"))
LINK = re.compile(r"\]\(([^)\s]+)\)")


def slug(heading: str) -> str:
    """GitHub's anchor of a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", ""))
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    return {
        slug(line.lstrip("#"))
        for line in page.read_text().splitlines()
        if line.startswith("#") and not line.startswith("#!")
    }


def test_the_readme_is_short_and_starts_with_the_two_commands() -> None:
    text = README.read_text()
    assert len(text.splitlines()) < 300
    quick = text[text.index("## Quick start") :]
    assert quick.index("make run") < quick.index("make test") < quick.index("\n## ", 1)
    assert "SPEC.md" not in text  # cited, never in the repository: the contract is in docs/
    for page in [README, *PAGES]:
        assert "connectors later" not in page.read_text(), page.name


@pytest.mark.parametrize("page", [README, *PAGES], ids=lambda p: p.name)
def test_every_link_leads_somewhere(page: Path) -> None:
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
    for target in LINK.findall(text):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        assert linked.exists(), f"{page.name}: {target}"
        if anchor and linked.suffix == ".md":
            assert anchor in anchors(linked), f"{page.name}: {target}"


def test_every_page_of_docs_is_linked_from_the_readme() -> None:
    linked = {Path(t.partition("#")[0]).name for t in LINK.findall(README.read_text())}
    assert {p.name for p in PAGES} <= linked


def test_the_pages_name_the_administration_tabs_as_the_pages_do() -> None:
    layout = (ROOT / "src/agentstatus/web/templates/admin_layout.html").read_text()
    tabs = dict(re.findall(r'\("(\w+)", _\("([^"]+)"\)\)', layout))
    assert tabs["settings"] == "Organisation"
    for page in [README, *PAGES]:
        words = " ".join(page.read_text().split())
        assert "admin settings page" not in words, page.name
        assert "*Organisation* tab" in words or "admin/settings" not in words, page.name
