"""What makes a text not SQL at all, the one rule for a file the CLI reads and a text the
operator is given (inline in the spec or in a ConfigMap): PostgreSQL cannot take a NUL byte in
a query's text (psql never sends one), so a NUL means a binary or UTF-16 file, not SQL."""

from __future__ import annotations

NUL_PROBLEM = "NUL byte: not a SQL text file"


def line_of(data: bytes, offset: int) -> int:
    """The line (from 1) of the byte at `offset`."""
    return data.count(b"\n", 0, offset) + 1


def nul_line(data: bytes) -> int | None:
    """The line (from 1) of the first NUL byte; None without one."""
    nul = data.find(b"\x00")
    return None if nul < 0 else line_of(data, nul)


def looks_utf16(data: bytes) -> bool:
    """NUL bytes in every other position: UTF-16 without a byte-order mark."""
    zeros = max(data[0::2].count(0), data[1::2].count(0))
    return zeros > len(data) // 4
