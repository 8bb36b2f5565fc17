"""libpq's lexical rules for connection strings, written once, for every place that reads one.

libpq itself (`conninfo.parse_database_url`, through psycopg) parses the strings we connect
with. But some text is read before or beside it: the surrounding whitespace a Secret or a file
adds is dropped before parsing, and a password place in free text (an error message, a pasted
argument) is found by pattern. Each of those once followed Python's rules instead of libpq's:
`str.strip()` took the escaped trailing space of `password=abc\\ ` (libpq keeps it) and a
no-break space (not whitespace to libpq); the password-place pattern stopped a bare value at a
quote (`password=ab"cd`, which libpq reads whole) and at Unicode spaces. So the rules live here:

- whitespace is the C locale's isspace: space, tab, newline, vertical tab, form feed, return;
- a bare value runs to the next whitespace; a backslash keeps the character after it (a space
  too); quotes inside it are ordinary characters;
- a quoted value is in single quotes, a backslash keeps the character after it;
- a URL (postgresql:// or postgres://) may hold no whitespace at all.
"""

from __future__ import annotations

LIBPQ_SPACE = " \t\n\v\f\r"
URL_PREFIXES = ("postgresql://", "postgres://")

# Regex pieces, libpq's rules as they are (its conninfo_parse): whitespace is the six C
# characters above (Python's `\s` is not: it takes a no-break space, which libpq reads as part
# of a value); a single-quoted value's body (line breaks too); a bare value runs to the next
# whitespace, a backslash keeping the character after it, and quotes inside it are characters
# (`ab",xyz` is one value: a quote never ends it, whatever follows the quote).
SPACE_CLASS = r"[ \t\n\v\f\r]"
QUOTED_BODY = r"(?:[^'\\]|\\[\s\S])*"
BARE_VALUE = r"(?:[^ \t\n\v\f\r\\]|\\[\s\S])+"
# A keyword's '=' with the whitespace libpq skips around it.
EQUALS = rf"{SPACE_CLASS}*={SPACE_CLASS}*"


def is_url(text: str) -> bool:
    return text.startswith(URL_PREFIXES)


def trimmed(text: str) -> str:
    """`text` without the surrounding whitespace libpq ignores, and nothing more: a keyword
    string's last value keeps a trailing space its backslash escapes (`password=abc\\ `), and
    whitespace is libpq's (a no-break space is part of a value)."""
    start = text.lstrip(LIBPQ_SPACE)
    end = start.rstrip(LIBPQ_SPACE)
    if is_url(end) or len(end) == len(start):
        return end
    backslashes = len(end) - len(end.rstrip("\\"))
    return start[: len(end) + 1] if backslashes % 2 else end
