"""The rollback files `generate` writes, and the header that makes them safe to regenerate.

The header records the forward file's sha256 (so `validate` can tell a stale rollback) and the
sha256 of the body as generated (so `generate` can tell a hand-edited file and refuse to
overwrite it without --force).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

HEADER_FIELDS = ("ROLLBACK", "Generated", "Source", "Source-SHA256", "Body-SHA256", "Generator")
# One whole line: matched from its start, up to its end (`match(text, start, end)`).
_HEADER_LINE = re.compile(r"-- (?P<key>[A-Za-z0-9-]+): ?(?P<value>.*)$")


@dataclass(frozen=True, slots=True)
class RollbackHeader:
    migration: str
    generated: str
    source: str
    source_sha256: str
    body_sha256: str
    generator: str

    def render(self) -> str:
        return (
            f"-- ROLLBACK: {self.migration}\n"
            f"-- Generated: {self.generated}\n"
            f"-- Source: {self.source}\n"
            f"-- Source-SHA256: {self.source_sha256}\n"
            f"-- Body-SHA256: {self.body_sha256}\n"
            f"-- Generator: {self.generator}\n"
        )


@dataclass(frozen=True, slots=True)
class RollbackFile:
    """A rollback file split into its header (when present) and body."""

    header: RollbackHeader | None
    body: str
    header_lines: int

    @property
    def hand_edited(self) -> bool:
        """True when the body no longer matches what the generator wrote."""
        if self.header is None:
            return True
        return body_sha256(self.body) != self.header.body_sha256


def normalized_body(body: str) -> str:
    """A body as its hash reads it: line ends and surrounding blank space do not count."""
    return body.replace("\r\n", "\n").strip() + "\n"


def body_sha256(body: str) -> str:
    return hashlib.sha256(normalized_body(body).encode()).hexdigest()


def compose(header: RollbackHeader, body: str) -> str:
    return header.render() + "\n" + body.strip() + "\n"


def split_file(text: str) -> RollbackFile:
    """Separate the generated header from the body; files without one are all body."""
    text_lf = text.replace("\r\n", "\n")
    values: dict[str, str] = {}
    count = start = 0  # the header's lines, and where the line after them starts
    while start <= len(text_lf):  # line by line from the top; the body is not split
        end = text_lf.find("\n", start)
        end = len(text_lf) if end < 0 else end
        match = _HEADER_LINE.match(text_lf, start, end)
        if match is None or match.group("key") not in HEADER_FIELDS:
            break
        values[match.group("key")] = match.group("value").strip()
        count, start = count + 1, end + 1
    body = text_lf[start:]
    if "ROLLBACK" not in values:
        return RollbackFile(header=None, body=text, header_lines=0)
    header = RollbackHeader(
        migration=values.get("ROLLBACK", ""),
        generated=values.get("Generated", ""),
        source=values.get("Source", ""),
        source_sha256=values.get("Source-SHA256", ""),
        body_sha256=values.get("Body-SHA256", ""),
        generator=values.get("Generator", ""),
    )
    return RollbackFile(header=header, body=body, header_lines=count)
