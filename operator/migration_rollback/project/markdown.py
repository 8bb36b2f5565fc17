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
    """One shell command line, every word quoted as needed (`shlex.quote`); a word with an
    unprintable character (a file name's ESC, newline, BiDi override) in bash's $'...' form,
    its escapes written out: the same word when pasted, nothing raw on the page."""
    return " ".join(shlex.quote(w) if w.isprintable() else _ansi_c(w) for w in words)


def _ansi_c(word: str) -> str:
    body = "".join(c if c.isprintable() and c not in "\\'" else _ansi_c_escape(c) for c in word)
    return f"$'{body}'"


def _ansi_c_escape(char: str) -> str:
    if char in "\\'":
        return "\\" + char
    code_point = ord(char)
    if code_point < 0x80:
        return f"\\x{code_point:02x}"
    return f"\\u{code_point:04x}" if code_point <= 0xFFFF else f"\\U{code_point:08x}"


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
