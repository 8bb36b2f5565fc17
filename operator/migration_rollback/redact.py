"""Keep secrets out of everything the tool prints, logs, stores or returns.

The secrets are known exactly: `conninfo` parses every connection string the way libpq does and
hands over the password (and `sslpassword`) it found. A `Redactor` removes each of them, in every
spelling a sink could produce (raw, percent-encoded, JSON- or repr-escaped), from text and from
nested JSON-like data, by two rules:

- where a password stands (a URL's password field, `password=` and the other secret keywords of
  a connection string, `PGPASSWORD=`), whatever stands there is masked, however short;
- anywhere else, a known secret is masked where it stands whole: between spaces, quotes,
  brackets, `=`, `,`, `;`, after `:` or before `@`, or ending a sentence. Inside a longer word,
  name, number or run of punctuation it is left: a password "2025" or "public" masked there
  mangled `20251113000001_timeline` and `public.users`, and the mask told the password by its
  absence. No sink we know glues a password to other text: libpq and the server do not quote
  it, and what this tool writes holds a connection string only in its safe form.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "***"

# Shorter secrets are not searched for in free text: masking every "ab" would mangle the
# output while protecting little. Structure keeps them out instead: no message we write holds
# the connection string, `conninfo` refuses URLs whose parts would smuggle a password into a
# host or database name that libpq echoes, and a password place is masked whatever it holds.
MIN_SCRUB_LENGTH = 4

# libpq keywords whose values are secrets, and the environment variables libpq reads them from.
SECRET_KEYWORDS = frozenset(
    {"password", "sslpassword", "scram_client_key", "scram_server_key", "oauth_client_secret"}
)
SECRET_ENV = ("PGPASSWORD", "PGSSLPASSWORD")


def spellings(secret: str) -> set[str]:
    """Every form in which `secret` may reach a sink: libpq shows it decoded, URLs encoded,
    JSON and Python's repr escaped, libpq keyword strings backslash-escaped."""
    # Bytes that are not UTF-8 (from the environment) are lone surrogates here: URL-encode the
    # bytes themselves, and match the \\xNN escapes the CLI's streams print them as.
    raw = secret.encode("utf-8", "surrogateescape")
    forms = {
        secret,
        raw.decode("utf-8", "backslashreplace"),
        quote(raw, safe=""),
        quote(raw),
        quote_plus(raw),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        repr(secret)[1:-1],
        secret.replace("\\", "\\\\").replace("'", "\\'"),
    }
    return {form for form in forms if len(form) >= MIN_SCRUB_LENGTH}


@dataclass(frozen=True)
class Redactor:
    """Scrubs known secrets from text and nested data. `secrets`: the spellings masked where
    they stand whole; `whole`: literals replaced wherever they are (a whole connection string by
    its safe form, a safe form by itself); `armed`: password places are masked too (a redactor
    given any secret, however short, is)."""

    secrets: frozenset[str] = frozenset()
    whole: Mapping[str, str] = field(default_factory=dict)
    armed: bool = False

    @classmethod
    def of(
        cls,
        secrets: Iterable[str],
        masked: Mapping[str, str] | None = None,
        kept: Iterable[str] = (),
    ) -> Redactor:
        """`kept`: texts built without any secret (a URL's safe form) that stay whole even when
        a secret is also a piece of them: a password "5432" must not turn the safe form's port
        into "***", which would tell what the password is."""
        given = [secret for secret in secrets if secret]
        spelled = frozenset(form for secret in given for form in spellings(secret))
        whole = {k: v for k, v in (masked or {}).items() if len(k) >= MIN_SCRUB_LENGTH}
        whole.update({k: k for k in kept if len(k) >= MIN_SCRUB_LENGTH and k not in whole})
        return cls(spelled, whole, armed=bool(given) or bool(whole))

    @classmethod
    def none(cls) -> Redactor:
        return cls()

    def combined(self, other: Redactor) -> Redactor:
        return Redactor(
            self.secrets | other.secrets, {**self.whole, **other.whole}, self.armed or other.armed
        )

    def with_env(self, env: Mapping[str, str]) -> Redactor:
        """Also scrub the password libpq would take from the environment."""
        extra = [env[key] for key in SECRET_ENV if env.get(key)]
        return self.combined(Redactor.of(extra)) if extra else self

    def scrub(self, text: str) -> str:
        if not self.armed or not text:
            return text
        if self.secrets or self.whole:
            text = _pattern(self.secrets, tuple(sorted(self.whole))).sub(self._replace, text)
        for place in _PASSWORD_PLACES:
            text = place.sub(_mask_place, text)
        return text

    def _replace(self, match: re.Match[str]) -> str:
        return self.whole.get(match.group(0), MASK)

    def scrub_obj(self, value: Any) -> Any:
        """A copy of JSON-like data (dicts, lists, strings) with every value scrubbed.

        Keys are left as they are: they are the document's field names, which the operator
        reads back (a password that happens to be "committed" must not rename the field that
        says whether the rollback committed), never text from the database or the driver."""
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, Mapping):
            return {str(k): self.scrub_obj(item) for k, item in value.items()}
        if isinstance(value, list | tuple):
            return [self.scrub_obj(item) for item in value]
        return value


# A secret stands whole between these (or at either end of the text): ':' before and '@' after
# also, as around a URL's password; '.' and ':' after only when they end a sentence or a label
# ("password hunter2." / "hunter2: bad"). '_', '-', '/', '.' and the rest join it to a name, a
# number, a date, a version; and a neighbour equal to its own first or last character makes it
# a piece of a longer run ("!!!!" in "done!!!!!").
_APART = "\\s'\"`()\\[\\]{}<>,;=!?"
_BEFORE = f"(?<![^{_APART}:])"
_AFTER = f"(?=[{_APART}@]|[.:](?:\\s|\\Z)|\\Z)"


def _standing_whole(literal: str) -> str:
    first, last = re.escape(literal[0]), re.escape(literal[-1])
    return f"{_BEFORE}(?<!{first}){re.escape(literal)}(?!{last}){_AFTER}"


# Where a password stands, as (before)(password)(after): a URL's password field (to the last '@'
# of the authority, as a reader would read it), a secret keyword's value (quoted or not).
_KEYWORDS = "|".join(sorted(SECRET_KEYWORDS | {name.lower() for name in SECRET_ENV}))
_PASSWORD_PLACES: tuple[re.Pattern[str], ...] = (
    re.compile(r"([a-z][a-z0-9+.-]*://[^\s/@:]*:)([^\s/]+)(@)", re.IGNORECASE),
    re.compile(
        rf"(?<!\w)((?:{_KEYWORDS})\s*=\s*)('(?:[^'\\]|\\.)*'?|(?:[^\s\"'\\]|\\.)+)()",
        re.IGNORECASE,
    ),
)


def _mask_place(match: re.Match[str]) -> str:
    return f"{match.group(1)}{MASK}{match.group(3)}"


_PATTERNS: dict[tuple[frozenset[str], tuple[str, ...]], re.Pattern[str]] = {}


def _pattern(secrets: frozenset[str], whole: tuple[str, ...]) -> re.Pattern[str]:
    """One alternation, longest literal first, so a secret holding another goes whole; the
    literals replaced wherever they are come first."""
    key = (secrets, whole)
    pattern = _PATTERNS.get(key)
    if pattern is None:
        branches = [_alternation(whole)] if whole else []
        ordered = sorted(secrets, key=len, reverse=True)
        branches += [_standing_whole(secret) for secret in ordered]
        pattern = re.compile("|".join(branches))
        _PATTERNS[key] = pattern
    return pattern


def _alternation(literals: Iterable[str]) -> str:
    return "|".join(re.escape(literal) for literal in sorted(literals, key=len, reverse=True))
