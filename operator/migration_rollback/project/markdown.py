"""Put untrusted text (file names, SQL) into generated Markdown and shell commands safely.

A migration's file name is chosen by whoever wrote it: `$(touch pwned)`, `#`, backticks or a
run of three backticks must neither run anything when a person pastes a command, nor comment
out the flags after it, nor close a code block early.
"""

from __future__ import annotations

import re
import shlex

_BACKTICKS = re.compile(r"`+")


def shell(*words: str) -> str:
    """One shell command line, every word quoted as needed (`shlex.quote`)."""
    return shlex.join(words)


def _longest_backtick_run(text: str) -> int:
    return max((len(m.group(0)) for m in _BACKTICKS.finditer(text)), default=0)


def code(text: str) -> str:
    """An inline code span holding `text` verbatim, whatever backticks it contains."""
    ticks = "`" * (_longest_backtick_run(text) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def fenced(language: str, lines: list[str]) -> list[str]:
    """A fenced code block no line of `lines` can close early (CommonMark: a longer fence)."""
    fence = "`" * max(3, _longest_backtick_run("\n".join(lines)) + 1)
    return [f"{fence}{language}", *lines, fence]
