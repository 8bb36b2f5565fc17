"""Keep secrets out of everything the tool prints, logs, stores or returns.

The secrets are known exactly: `conninfo` parses every connection string the way libpq does and
hands over the password (and `sslpassword`) it found. A `Redactor` removes each of them, in every
spelling a sink could produce (raw, percent-encoded, JSON- or repr-escaped), from text and from
nested JSON-like data. No guessing over text: what is scrubbed is what was parsed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "***"

# Shorter secrets are not searched for in free text: masking every "ab" would mangle the
# output while protecting little. Structure keeps them out instead: no message we write holds
# the connection string, and `conninfo` refuses URLs whose parts would smuggle a password into
# a host or database name that libpq echoes.
MIN_SCRUB_LENGTH = 4


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
    """Scrubs known secrets from text and nested data; `replacements` maps a literal to what
    stands in its place (a password to `***`, a whole connection string to its safe form)."""

    replacements: Mapping[str, str]

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
        table: dict[str, str] = {}
        for secret in secrets:
            table.update(dict.fromkeys(spellings(secret), MASK))
        table.update({k: v for k, v in (masked or {}).items() if len(k) >= MIN_SCRUB_LENGTH})
        table.update({k: k for k in kept if len(k) >= MIN_SCRUB_LENGTH and k not in table})
        return cls(table)

    @classmethod
    def none(cls) -> Redactor:
        return cls({})

    def with_env(self, env: Mapping[str, str]) -> Redactor:
        """Also scrub the password libpq would take from the environment."""
        extra = [env[key] for key in ("PGPASSWORD", "PGSSLPASSWORD") if env.get(key)]
        if not extra:
            return self
        return Redactor({**self.replacements, **Redactor.of(extra).replacements})

    def scrub(self, text: str) -> str:
        if not self.replacements or not text:
            return text
        return _pattern(tuple(sorted(self.replacements))).sub(
            lambda match: self.replacements[match.group(0)], text
        )

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


_PATTERNS: dict[tuple[str, ...], re.Pattern[str]] = {}


def _pattern(literals: tuple[str, ...]) -> re.Pattern[str]:
    """One alternation, longest literal first, so a secret holding another goes whole."""
    pattern = _PATTERNS.get(literals)
    if pattern is None:
        ordered = sorted(literals, key=len, reverse=True)
        pattern = re.compile("|".join(re.escape(literal) for literal in ordered))
        _PATTERNS[literals] = pattern
    return pattern
