"""Durations as the resource spells them (`5s`, `10m`, `1h`, `250ms`), and its timestamps."""

from __future__ import annotations

import datetime as dt
import re

_DURATION = re.compile(r"(?P<n>[0-9]+)(?P<unit>ms|s|m|h)")
_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> float:
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a duration like 5s, 10m or 1h")
    return int(match.group("n")) * _SECONDS[match.group("unit")]


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
