"""Keep secrets out of everything the tool prints, logs, stores or returns.

The secrets are known exactly: `conninfo` parses every connection string the way libpq does and
hands over the password (and `sslpassword`) it found. A `Redactor` removes each of them, in every
spelling a sink could produce (raw, percent-encoded, JSON- or repr-escaped), from text and from
nested JSON-like data, wherever it stands, even inside other text (glued to quotes, escapes,
ports, paths, markup). No guessing over text: what is scrubbed is what was parsed. One addition
that needs no guess: where a password stands (a URL's password field, `password=`,
`PGPASSWORD=`), whatever stands there is masked, however short.

Known limit: a password that is also a common word or number ("public", "2025") is masked inside
the names that hold it too (`***.users`); masking only whole words would let a password glued to
other text through, and safety comes first.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from urllib.parse import quote, quote_plus

from migration_rollback.conninfo_syntax import BARE_VALUE, EQUALS, QUOTED_BODY, SPACE_CLASS

MASK = "***"

# Shorter secrets are not searched for in free text: masking every "ab" would mangle the
# output while protecting little. Structure keeps them out instead: no message we write holds
# the connection string, and `conninfo` refuses URLs whose parts would smuggle a password into
# a host or database name that libpq echoes; and a password place is masked whatever it holds.
MIN_SCRUB_LENGTH = 4

# libpq keywords whose values are secrets, and the environment variables libpq reads them from.
SECRET_KEYWORDS = frozenset(
    {"password", "sslpassword", "scram_client_key", "scram_server_key", "oauth_client_secret"}
)
SECRET_ENV = ("PGPASSWORD", "PGSSLPASSWORD")


def spellings(secret: str) -> set[str]:
    """Every form in which `secret` may reach a sink: libpq shows it decoded, URLs encoded,
    JSON and Python's repr escaped, libpq keyword strings backslash-escaped, and that keyword
    spelling as JSON or repr shows it in turn (a pasted keyword string quoted in an error)."""
    # Bytes that are not UTF-8 (from the environment) are lone surrogates here: URL-encode the
    # bytes themselves, and match the \\xNN escapes the CLI's streams print them as.
    raw = secret.encode("utf-8", "surrogateescape")
    typed = secret.replace("\\", "\\\\").replace("'", "\\'")
    forms = {
        secret,
        raw.decode("utf-8", "backslashreplace"),
        quote(raw, safe=""),
        quote(raw),
        quote_plus(raw),
        typed,
        *(escaped for text in (secret, typed) for escaped in _escaped(text)),
    }
    return {form for form in forms if len(form) >= MIN_SCRUB_LENGTH}


def _escaped(text: str) -> tuple[str, str, str]:
    return json.dumps(text)[1:-1], json.dumps(text, ensure_ascii=False)[1:-1], repr(text)[1:-1]


# Fields whose values the tool builds from facts no secret is in, and which a later run compares
# whole: the database identity (system identifier, database name and oid, the URL's digest),
# which the operator passes back as --expect-database, and files' digests. Scrubbed, a password
# equal to the database's name ("postgres", Supabase's local default) masked the name, and the
# real run refused the identity its own rehearsal reported, every time.
FACT_KEYS = frozenset({"database_identity", "databaseIdentity", "sha256"})


@dataclass(frozen=True)
class Redactor:
    """Scrubs known secrets from text and nested data; `replacements` maps a literal to what
    stands in its place (a password to `***`, a whole connection string to its safe form);
    `places`: password places are masked too (set once any secret, however short, was given)."""

    replacements: Mapping[str, str]
    places: bool = False

    @classmethod
    def of(
        cls,
        secrets: Iterable[str],
        masked: Mapping[str, str] | None = None,
        kept: Iterable[str] = (),
    ) -> Redactor:
        """`kept`: texts built without any secret (a URL's safe form) that stay whole even when
        a secret is also a piece of them: a password "shop" must not turn the database
        "shop_prod" into "***_prod", which would tell what the password is."""
        given = [secret for secret in secrets if secret]
        table: dict[str, str] = {}
        for secret in given:
            table.update(dict.fromkeys(spellings(secret), MASK))
        table.update({k: v for k, v in (masked or {}).items() if len(k) >= MIN_SCRUB_LENGTH})
        table.update({k: k for k in kept if len(k) >= MIN_SCRUB_LENGTH and k not in table})
        return cls(table, places=bool(given))

    @classmethod
    def none(cls) -> Redactor:
        return cls({})

    @classmethod
    def places_only(cls) -> Redactor:
        """Knows no secret, masks whatever stands in a password place."""
        return cls({}, places=True)

    def combined(self, other: Redactor) -> Redactor:
        return Redactor({**self.replacements, **other.replacements}, self.places or other.places)

    def with_env(self, env: Mapping[str, str]) -> Redactor:
        """Also scrub the password libpq would take from the environment."""
        extra = [env[key] for key in SECRET_ENV if env.get(key)]
        return self.combined(Redactor.of(extra)) if extra else self

    def scrub(self, text: str) -> str:
        if not text:
            return text
        if self.replacements:
            text = self._literals.sub(self._replace, text)
            if CUT_MARK in text and self._secrets:
                text = _mask_cut_edges(text, self._secrets)
        return mask_places(text) if self.places else text

    @cached_property
    def _literals(self) -> re.Pattern[str]:
        """One alternation, longest literal first, so a secret holding another goes whole;
        built once per Redactor (a long password's spellings make a long pattern)."""
        ordered = sorted(self.replacements, key=len, reverse=True)
        return re.compile("|".join(_any_hex_case(re.escape(literal)) for literal in ordered))

    @cached_property
    def _secrets(self) -> tuple[str, ...]:
        """The spellings masked (not safe forms kept), long enough to have a head or tail."""
        masked = (k for k, v in self.replacements.items() if v == MASK)
        return tuple(sorted(k for k in masked if len(k) > MIN_SCRUB_LENGTH))

    def holds_secret(self, text: str) -> bool:
        """Whether `text` holds one of the known secrets (in any spelling), not counting a safe
        form kept whole that a secret is a piece of."""
        found = self._literals.finditer(text) if self.replacements else ()
        return any(self._replace(match) == MASK for match in found)

    def _replace(self, match: re.Match[str]) -> str:
        # Not in the table: a spelling whose escapes' hex digits differ in case (%3a for %3A).
        return self.replacements.get(match.group(0), MASK)

    def scrub_obj(self, value: Any) -> Any:
        """A copy of JSON-like data (dicts, lists, strings) with every value scrubbed.

        Keys are left as they are: they are the document's field names, which the operator
        reads back (a password that happens to be "committed" must not rename the field that
        says whether the rollback committed), never text from the database or the driver.
        So are the values of FACT_KEYS (see there)."""
        return map_text(value, self.scrub)


def map_text(value: Any, text: Callable[[str], str]) -> Any:
    """A copy of JSON-like data (dicts, lists, strings) with `text` applied to every string
    value; keys, and the values of FACT_KEYS, as they are."""
    if isinstance(value, str):
        return text(value)
    if isinstance(value, Mapping):
        return {
            str(k): item if k in FACT_KEYS else map_text(item, text) for k, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [map_text(item, text) for item in value]
    return value


# Where text was cut (see `clip`): what stands against the mark may be the first or the last
# part of a secret, which is no longer the secret the literal search knows. Only against the
# mark: a password "Winter2025" must not mask every version that starts with its tail "2025".
CUT_MARK = "..."


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, the cut marked with CUT_MARK: the one way to
    shorten text that may reach an output before it is scrubbed, so a secret cut in two is
    still masked (the piece left stands against the mark)."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - len(CUT_MARK))] + CUT_MARK


def _mask_cut_edges(text: str, secrets: tuple[str, ...]) -> str:
    """`text` with a secret's head (MIN_SCRUB_LENGTH or more of its first characters, not all)
    masked right before each cut mark, and a secret's tail right after one. Checked at each
    mark rather than by a pattern of every head and tail: that pattern grows with the square
    of a password's length (a 2000-character cloud token: millions of characters)."""
    pieces = text.split(CUT_MARK)
    for index in range(len(pieces) - 1):
        pieces[index] = _without_head(pieces[index], secrets)
        pieces[index + 1] = _without_tail(pieces[index + 1], secrets)
    return CUT_MARK.join(pieces)


def _without_head(before: str, secrets: tuple[str, ...]) -> str:
    """`before` with the longest secret head it ends with masked."""
    longest = max((_head_length(before, s) for s in secrets), default=0)
    return before[: len(before) - longest] + MASK if longest else before


def _head_length(before: str, secret: str) -> int:
    # Where the last characters could begin a head: at a copy of the secret's first ones.
    window = before[len(before) - len(secret) + 1 :] if len(before) >= len(secret) else before
    start = window.find(secret[:MIN_SCRUB_LENGTH])
    while start != -1 and not secret.startswith(window[start:]):
        start = window.find(secret[:MIN_SCRUB_LENGTH], start + 1)
    return 0 if start == -1 else len(window) - start


def _without_tail(after: str, secrets: tuple[str, ...]) -> str:
    """`after` with the longest secret tail it starts with masked."""
    longest = max((_tail_length(after, s) for s in secrets), default=0)
    return MASK + after[longest:] if longest else after


def _tail_length(after: str, secret: str) -> int:
    # Where the first characters could end a tail: at a copy of them inside the secret.
    window, key = after[: len(secret) - 1], after[:MIN_SCRUB_LENGTH]
    if len(key) < MIN_SCRUB_LENGTH:
        return 0
    start = secret.find(key, 1)
    while start != -1 and not window.startswith(secret[start:]):
        start = secret.find(key, start + 1)
    return 0 if start == -1 else len(secret) - start


# The hex digits of an escape (%3A, \xff, \u00e4) in an escaped literal: encoders differ in
# their case, and %3a decodes to the same password as %3A.
_ESCAPE_HEX = re.compile(r"(%|\\\\x)([0-9A-Fa-f]{2})|(\\\\u)([0-9A-Fa-f]{4})")


def _any_hex_case(escaped: str) -> str:
    return _ESCAPE_HEX.sub(_hex_either_case, escaped)


def _hex_either_case(match: re.Match[str]) -> str:
    return f"{match.group(1) or match.group(3)}(?i:{match.group(2) or match.group(4)})"


# Where a password stands. A URL's password field: from the user's ':' to the last '@' before
# the next space (a pasted password may hold a raw '/' or '@'). A scheme starts a word: tried
# from every letter of a long run (a base64 or hex literal in a failed statement's text), the
# search took the square of its length (a 60 kB line: 3 s).
_URL_CREDENTIALS = re.compile(r"(?<![a-z0-9+.-])[a-z][a-z0-9+.-]*://[^\s/@:]*:", re.IGNORECASE)
_SPACE = re.compile(SPACE_CLASS)  # libpq's whitespace: a no-break space is password
# The value of a libpq secret keyword or of PGPASSWORD, as (before)(password)(after), by
# libpq's rules (conninfo_syntax, the parser's own): a value opened by a single quote runs to
# the closing one (line breaks too; unclosed, libpq refuses it: masked to the line's end);
# any other runs to libpq whitespace, quotes and all (`password=ab",xyz` is one value). A value
# opened by a double quote (a shell's `PGPASSWORD="a b"`) is masked to its closing quote and
# then as a bare value, which covers what libpq reads too. Whitespace around '=' is libpq's
# (a no-break space is the password's). The patterns run in turn; each leaves the masks of
# the ones before it as they are.
_KEYWORDS = "|".join(sorted(SECRET_KEYWORDS | {name.lower() for name in SECRET_ENV}))
_KEYWORD = rf"(?<!\w)((?:{_KEYWORDS}){EQUALS}"
_KEYWORD_PLACES = (
    re.compile(rf"{_KEYWORD}')({QUOTED_BODY})(')", re.IGNORECASE),
    re.compile(rf"{_KEYWORD}')((?:[^'\\\n]|\\.)*)('?)", re.IGNORECASE),
    re.compile(rf'{_KEYWORD})("(?:[^"\\\n]|\\.)*"?(?:{BARE_VALUE})?)()', re.IGNORECASE),
    re.compile(rf"{_KEYWORD})(?!')({BARE_VALUE})()", re.IGNORECASE),
)


def mask_places(text: str) -> str:
    """`text` with whatever stands in a password place masked."""
    text = _mask_url_passwords(text)
    for place in _KEYWORD_PLACES:
        text = place.sub(_masked_place, text)
    return text


def _mask_url_passwords(text: str) -> str:
    """Each URL's password field masked, in one pass: a word without '@' after a URL start
    has none after any later start either, so it is skipped whole (`a://a://...` stays
    linear)."""
    out: list[str] = []
    pos = 0
    while (start := _URL_CREDENTIALS.search(text, pos)) is not None:
        space = _SPACE.search(text, start.end())
        word_end = space.start() if space else len(text)
        at = text.rfind("@", start.end(), word_end)
        if at <= start.end():  # no '@' after it (or an empty password): none in the word
            out.append(text[pos:word_end])
            pos = word_end
            continue
        out.append(f"{text[pos : start.end()]}{MASK}@")
        pos = at + 1
    return "".join(out) + text[pos:]


def _masked_place(match: re.Match[str]) -> str:
    return f"{match.group(1)}{MASK}{match.group(3)}"


# What makes a piece of text a connection string (or part of one) a reader would take for
# one: a PostgreSQL URL scheme anywhere (SQLAlchemy's `postgresql+psycopg2://` too), any URL
# with credentials (`scheme://...@`), or a secret keyword followed by '=' where keywords stand
# (first, or after a space, quote or separator): not inside a file name ('/srv/password=x.sql').
POSTGRES_SCHEME = r"postgres(?:ql)?(?:\+\w+)?://"
_CONNINFO_SIGNS = re.compile(
    rf"{POSTGRES_SCHEME}|(?<![a-z0-9+.-])[a-z][a-z0-9+.-]*://\S*@"
    rf"|(?<![^\s\"'`(;,])(?:{_KEYWORDS})\s*=",
    re.IGNORECASE,
)
# Short values longer than this are described, not quoted: cut, a value is no longer what the
# scrubber knows.
SHOWN_INPUT_LIMIT = 60


def looks_like_conninfo(text: str) -> bool:
    """Whether `text` holds a connection string (or a password place of one)."""
    return _CONNINFO_SIGNS.search(text) is not None


def shown_input(text: str, limit: int | None = SHOWN_INPUT_LIMIT) -> str:
    """A value the user gave, as an error may quote it: whole, or described without any of it.

    Never a piece: a password cut in half is neither the secret the scrubber knows nor in a
    password place any more, so the first half would print. A connection string is never
    quoted at all (its password may be one no redactor was told about). A short value
    (a duration, a version) longer than `limit` is described: a raw password pasted there is
    nothing the scrubber knows. `limit=None` for values that are long by nature (paths)."""
    if looks_like_conninfo(text):
        return "(a connection string: not shown)"
    if limit is not None and len(text) > limit:
        return f"(a {len(text)}-character value: not shown)"
    return repr(text)
