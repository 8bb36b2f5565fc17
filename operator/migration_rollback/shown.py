"""Text from outside as the tool prints it: a file name, an identifier, a name read from a database.

A name can hold any character: a newline starts a line of its own (a forged "valid" line), a
carriage return overwrites the line, ESC starts a terminal control sequence, a BiDi override
(U+202E) shows what follows reversed, a zero-width character hides a difference. Every character
Python does not count as printable (controls, format characters, line and paragraph separators,
other spaces than ' ') is written as its escape, `\\n`, `\\x1b`, `\\u202e`: the name stays
readable and nothing in it acts on the terminal. The one function every printer uses.
"""

from __future__ import annotations


def shown(text: str) -> str:
    """`text` with every unprintable character escaped, line breaks included (a name)."""
    if text.isprintable():  # the common case, at C speed
        return text
    return "".join(c if c.isprintable() else _escape(c) for c in text)


def shown_lines(text: str) -> str:
    """Output of several lines: each line `shown`, the line breaks the tool wrote kept."""
    if text.isprintable():
        return text
    return "\n".join(shown(line) for line in text.split("\n"))


def _escape(char: str) -> str:
    # repr's own escapes (\n, \x1b, \u202e, \udcff for a byte that is not UTF-8).
    return repr(char)[1:-1] if char != "'" else char
