"""Keep database passwords out of everything the runner prints, logs or writes.

A libpq URL carries the password, and libpq / psycopg error messages may echo the connection
string back (a malformed URL is quoted verbatim). Every sink (stdout, the JSON log, the result
file, the report, the audit row) passes its text through a `Redactor` built from the URL, which
removes the literal password in every spelling we can predict, plus anything shaped like one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

MASK = "***"

_URL = re.compile(r"(?P<scheme>postgres(?:ql)?://)(?P<netloc>[^/?#\s]*)", re.IGNORECASE)
_QUERY_PASSWORD = re.compile(r"(?P<key>[?&]password=)[^&#\s]*", re.IGNORECASE)
_KV_PASSWORD = re.compile(
    r"(?P<key>\bpassword\s*=\s*)(?:'(?:[^'\\]|\\.)*'|[^\s'\"]+)", re.IGNORECASE
)


def _redact_netloc(match: re.Match[str]) -> str:
    netloc = match.group("netloc")
    userinfo, at, hosts = netloc.rpartition("@")
    if not at or ":" not in userinfo:
        return match.group(0)
    user = userinfo.split(":", 1)[0]
    return f"{match.group('scheme')}{user}:{MASK}@{hosts}"


def redact_url(url: str) -> str:
    """The URL or key=value DSN with any password replaced by `***`; safe to print."""
    text = _URL.sub(_redact_netloc, url)
    text = _QUERY_PASSWORD.sub(lambda m: m.group("key") + MASK, text)
    return _KV_PASSWORD.sub(lambda m: m.group("key") + MASK, text)


def passwords_in(dsn: str) -> set[str]:
    """Every password literally present in a URL or DSN, even one libpq would reject."""
    found: set[str] = set()
    for match in _URL.finditer(dsn):
        userinfo, at, _ = match.group("netloc").rpartition("@")
        if at and ":" in userinfo:
            found.add(unquote(userinfo.split(":", 1)[1]))
    query = dsn.partition("?")[2]
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key.lower() == "password":
            found.add(value)
    for match in _KV_PASSWORD.finditer(dsn):
        value = match.group(0)[len(match.group("key")) :]
        if value.startswith("'") and value.endswith("'"):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        found.add(value)
    return {p for p in found if p}


@dataclass(frozen=True)
class Redactor:
    """Scrubs known secrets (and anything password-shaped) from text and nested data."""

    secrets: frozenset[str] = frozenset()

    @classmethod
    def for_dsn(cls, dsn: str | None, env: Mapping[str, str] | None = None) -> Redactor:
        secrets: set[str] = passwords_in(dsn) if dsn else set()
        if env and env.get("PGPASSWORD"):
            secrets.add(env["PGPASSWORD"])
        return cls.of(secrets)

    @classmethod
    def of(cls, secrets: Iterable[str]) -> Redactor:
        spellings: set[str] = set()
        for secret in secrets:
            if secret:
                # libpq shows the decoded form, URLs the encoded one; JSON escapes quotes.
                spellings.update({secret, quote(secret, safe=""), quote(secret)})
                spellings.add(secret.replace("\\", "\\\\").replace('"', '\\"'))
        return cls(frozenset(s for s in spellings if s))

    def scrub(self, text: str) -> str:
        # Longest first, so a secret that contains another is removed whole.
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, MASK)
        return redact_url(text)

    def scrub_obj(self, value: Any) -> Any:
        """A copy of JSON-like data (dicts, lists, strings) with every string scrubbed."""
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, Mapping):
            return {key: self.scrub_obj(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self.scrub_obj(item) for item in value]
        return value
