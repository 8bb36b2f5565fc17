"""A URL as messages, Events and status show it, with whatever may be a token masked.

A maintenance or health-check endpoint, or a URL written in a migration, may carry its
credential anywhere: user information, a query value, a path segment (a Slack webhook's
`/services/T000/B000/<token>`), a `;param` or the fragment. No secret is known here, so the
rule is by shape: what an on-call engineer needs (scheme, host, port, and path segments that
are plainly words) is kept, everything else is masked whole (never a piece, never its length).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

from migration_rollback.redact import MASK

# A plain word: lowercase letters, or one capital and lowercase letters, at most 16 of them
# (a longer run of letters may be a random token); parts of a segment such as `api-v2`,
# `health_check`, `status.json` are joined by '-', '_' or '.'. `v1`, `v12`: API versions.
_WORD_PART = re.compile(r"[A-Z]?[a-z]{1,16}|v\d{1,2}")
_WORD_SEPARATORS = re.compile(r"[-_.]")
_MAX_WORD = 40
# A short number (a year, a page, an API revision): longer ones may be account or chat ids.
_SHORT_NUMBER = re.compile(r"\d{1,4}")


def plain_word(text: str) -> bool:
    """Whether `text` is plainly a word or a short number, not something that may be a token
    (long, mixing letters and digits, upper case, base64- or JWT-like)."""
    if not text or len(text) > _MAX_WORD:
        return False
    if _SHORT_NUMBER.fullmatch(text):
        return True
    parts = [part for part in _WORD_SEPARATORS.split(text) if part]  # `a.` ends a sentence
    return bool(parts) and all(_WORD_PART.fullmatch(part) for part in parts)


def http_url_shown(url: str) -> str:
    """`url` as logs, Events and status show it. The rule:

    - scheme, host and port are kept; user information is masked whole (`***@`);
    - a path segment is kept when it is plainly a word (`/healthz`, `/api/v1/maintenance`,
      `/status.json`, `/2024`): lowercase letters (or one leading capital), at most 16 per
      part, parts joined by '-', '_' or '.', an API version `v1`, or a number of up to four
      digits; any other segment (long, mixing letters and digits like an id or key, upper
      case, base64- or JWT-like, percent-encoded) is `***`;
    - every `;param` and query value is masked (`;token=***`, `?key=***`), their names kept
      when plainly words (else `***` too); a fragment is `#***`.
    A URL that cannot be parsed is described, not quoted."""
    try:
        parts = urlsplit(url)
        query = parse_qsl(parts.query, keep_blank_values=True)
    except ValueError:
        return "(a URL that cannot be parsed)"
    host = parts.netloc.rsplit("@", 1)[-1]
    shown = f"{parts.scheme}://{MASK + '@' if '@' in parts.netloc else ''}{host}"
    shown += "/".join(_segment_shown(segment) for segment in parts.path.split("/"))
    if query:
        shown += "?" + "&".join(f"{_name_shown(key)}={MASK}" for key, _ in query)
    return shown + (f"#{MASK}" if parts.fragment else "")


def _segment_shown(segment: str) -> str:
    """A path segment: itself when plainly a word (or empty), each `;param` value masked."""
    path, *params = segment.split(";")
    shown = path if not path or plain_word(path) else MASK
    return ";".join([shown, *(_param_shown(param) for param in params)])


def _param_shown(param: str) -> str:
    name, equals, _ = param.partition("=")
    return f"{_name_shown(name)}={MASK}" if equals else MASK


def _name_shown(name: str) -> str:
    return name if plain_word(name) else MASK
