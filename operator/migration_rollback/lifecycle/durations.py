"""Durations as the resource spells them (`5s`, `10m`, `1h`, `250ms`), and its timestamps."""

from __future__ import annotations

import datetime as dt
import re

_DURATION = re.compile(r"(?P<n>[0-9]+)(?P<unit>ms|s|m|h)")
# Integer milliseconds: a float loses the count past 2**53 (99999999999999m was sent as
# 5999999999999939584ms).
_MILLIS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000}


def parse_millis(text: str) -> int:
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a duration like 5s, 10m or 1h")
    return int(match.group("n")) * _MILLIS[match.group("unit")]


def parse_duration(text: str) -> float:
    return parse_millis(text) / 1000


def human(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m{rest:02d}s"


def parse_timestamp(value: object) -> dt.datetime | None:
    """A status timestamp (`2026-11-24T13:40:00.123Z`); None when absent or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
