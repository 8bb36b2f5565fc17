"""Every relative link in docs/*.md points at a file that exists, and every #anchor at a
heading that exists (GitHub's anchors), so a 3 a.m. reader never lands nowhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
DOCS = sorted((REPO / "docs").glob("*.md"))
LINK = re.compile(r"\]\(([^)\s]+)\)")
CODE = re.compile(r"```.*?```|`[^`\n]*`", re.S)  # code is not a link (patterns have "](")


def slug(heading: str) -> str:
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    headings = re.findall(r"^#{1,6} (.+)$", path.read_text(encoding="utf-8"), re.M)
    return {slug(h) for h in headings}


def test_there_are_docs() -> None:
    names = {d.name for d in DOCS}
    assert {"reference.md", "runbook.md", "gitops.md"} <= names


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: d.name)
def test_relative_links_and_anchors_resolve(doc: Path) -> None:
    broken = []
    for target in LINK.findall(CODE.sub("", doc.read_text(encoding="utf-8"))):
        if re.match(r"^[a-z]+://", target):
            continue
        file_part, _, anchor = target.partition("#")
        resolved = (doc.parent / file_part).resolve() if file_part else doc
        if not resolved.exists():
            broken.append(f"{target}: no such file")
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            broken.append(f"{target}: no such heading")
    assert not broken, f"{doc.name}: {broken}"


def test_the_slug_is_githubs() -> None:
    assert slug("Reasons: what each means and what to do") == (
        "reasons-what-each-means-and-what-to-do"
    )
    assert slug("`execute` exit codes") == "execute-exit-codes"
    assert slug("From the pg_dump backup") == "from-the-pg_dump-backup"
