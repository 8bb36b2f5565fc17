"""Credentials written in SQL, masked in every excerpt of it that a message, a generated file's
comment, a report, an Event or a status shows.

A database URL's password is known exactly (redact.py); a credential written in a migration is
known to nothing but its place in the text: `CREATE ROLE ... PASSWORD '...'`, a server's or a
user mapping's OPTIONS, Vault and pgsodium calls, a row inserted into vault.secrets, a JWT or API
key in a pg_net header, a token in a URL, and SQL built around them (format()'s arguments, a
constant or a variable joined after `PASSWORD ' ||`). Each kind of place is one rule of RULES
(keyed by SecretPlace); `sql_excerpt` masks what stands there, whole (`'***'`: neither a piece
nor its length). Only excerpts go through it: the SQL that runs never does (a rollback runs
exactly what was verified).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from migration_rollback.redact import MASK, map_text, mask_places
from migration_rollback.redact_url import http_url_shown, plain_word

# A string constant as it stands in SQL, from its opening quote to its end, or to the end of
# the text when the excerpt cut it: nested in another literal (`''x''`, in an EXECUTE string),
# standard or E'' (quotes doubled, backslash escapes: read as both, so the mask never ends too
# early), or dollar-quoted.
_LITERAL = (
    r"(?:''(?:[^'\\]|\\.)*+'')"
    r"|(?:[EeUu]&?)?'(?:[^'\\]|\\.|'')*+'?"
    r"|\$(?P<tag>(?:[A-Za-z_]\w*)?)\$(?s:.*?)(?:\$(?P=tag)\$|\Z)"
)
# A standard or E'' constant alone (a second _LITERAL in one pattern would name its group twice).
_PLAIN_LITERAL = r"(?:[EeUu]&?)?'(?:[^'\\]|\\.|'')*+'?"
_QUOTED = rf"(?:{_LITERAL}|\"(?:[^\"\\]|\\.)*+\"?)"  # a JSON string too (a header's value)
QUOTED_MASK = f"'{MASK}'"

# Names whose value is a credential: a role's PASSWORD, OPTIONS (password, api_key, sa_key,
# conn_string, motherduck_token...), a header (Authorization, apikey), a setting
# (app.settings.service_role_key, app.jwt_secret). Anywhere in the name, so `x-api-key` too.
# Not `key` nor `auth` alone: `setting_key`, `keyword`, `author`, `authenticated` (a role every
# Supabase policy names) are no credentials; the keys that are say what they unlock.
_CREDENTIAL_WORDS = (
    r"pass(?:word|wd|phrase)?|pwd|(?<=[._-])pw(?![a-z])|secret|token|credential|conn_?str|dsn"
    r"|authorization|apikey"
    r"|(?:api|secret|private|access|service_role|service|anon|signing|encryption|master|client"
    r"|raw|sa|auth|jwt|hmac|session|webhook|license|openai|stripe)[_-]?key"
)
_NAME = rf"(?=[\w.-]*?(?:{_CREDENTIAL_WORDS}))[\w.-]++"
# The names a credential follows in a list (`'x-api-key', '...'` in jsonb_build_object or a
# header's array, `'app.jwt_secret', '...'` in set_config): the name's last part whole, so
# that `IN ('invalid_passphrase', 'passphrase_required')` stays a list of words.
_LISTED_NAME = (
    r"(?:x-)?(?:api[_-]?key|apikey|authorization|password|passwd|secret|token|access_token"
    r"|refresh_token|client_secret|service_role_key|service_key|anon_key|private_key|secret_key"
    r"|jwt_secret|openai_key|stripe_key)"
)
# A format string (read whole and possessively; a cut one ends the text) naming a credential
# before a placeholder (`PASSWORD %L`, `password=%s`): every argument after it may be the
# credential, and so may every constant in one (`'sup3r' || 'S3cret'`).
_FORMAT_CALL = re.compile(
    r"(?<![\w$.])format\s*\(\s*(?P<fmt>(?:[EeUu]&?)?'(?:[^'\\]|\\.|'')*+'?)", re.IGNORECASE
)
_CREDENTIAL_PLACEHOLDER = re.compile(rf"(?:{_CREDENTIAL_WORDS})\s*+(?:[=:]\s*+)?%", re.IGNORECASE)
# A credential-named word closing a constant and a constant or a variable joined after it
# (`'... PASSWORD ' || quote_literal('...')`, `'Bearer ' || 'ey...'`): the joined one. Joined
# by `||`, after a doubled quote too (`PASSWORD ''' || '...' || ''''`), or, the word then a
# space or `=` closing the constant, by concat()'s comma (`concat('Bearer ', '...')`). Each
# run of spaces read once (`\s*[=:]?\s*` split one in every way: quadratic).
_JOINED = (
    rf"(?P<before>(?<![\w$.-])(?:{_NAME}|bearer|basic)"
    r"(?:\s*+(?:[=:]\s*+)?(?:'')?'\s*+\|\|\s*+|(?:\s*+[=:]\s*+|\s++)'\s*+,\s*+)"
    r"(?:(?:quote_literal|quote_nullable)\s*\(\s*)?)"
)


class SecretPlace(enum.Enum):
    """Where a credential stands in SQL text."""

    NAMED_LITERAL = "a secret-named word followed by a constant: PASSWORD '...', OPTIONS"
    FORMATTED = "an argument of format() after a format string naming one: PASSWORD %L"
    JOINED = "a constant or a variable's constant joined after one: PASSWORD ' || '...'"
    VAULT_ROW = "a row inserted into vault.secrets"
    ASSIGNMENT = "a secret-named key given a value: \"apikey\": \"...\", key := '...', TO '...'"
    CALL_ARGUMENT = "an argument of a function that takes one: vault, pgsodium, crypt, pgp"
    AUTH_SCHEME = "the credential after Bearer or Basic"
    JWT = "a JSON Web Token (Supabase anon and service_role keys)"
    VENDOR_KEY = "a key with a vendor's prefix: sb_secret_, sk_live_, ghp_, xoxb-, AKIA..."
    URL = "a URL's user information, token-like path segments, parameters and fragment"
    CONNINFO = "a connection string's password (libpq keyword or URL form)"


# Functions and the arguments (from 1; None: all) that take a secret or key material.
SECRET_CALLS: Mapping[str, frozenset[int] | None] = {
    "vault.create_secret": frozenset({1}),
    "vault.update_secret": frozenset({2}),
    "crypt": frozenset({1}),
    "hmac": frozenset({2}),
    "pgp_sym_encrypt": None,
    "pgp_sym_decrypt": None,
    "pgp_sym_encrypt_bytea": None,
    "pgp_sym_decrypt_bytea": None,
    "pgsodium.*": None,
}
_CALL = re.compile(
    r"(?<![\w$.])(?:(?:extensions|public)\.)?"
    r"(vault\.(?:create|update)_secret|crypt|hmac|pgp_sym_(?:en|de)crypt(?:_bytea)?|pgsodium\.\w+)"
    r"\s*\(",
    re.IGNORECASE,
)
# The pieces of an argument list: a constant, a parenthesis, a comma, anything else.
_ARGUMENT_TOKEN = re.compile(rf"(?P<literal>{_LITERAL})|[(),]|[^'$(),]+|\$")


def _masked_named_literal(match: re.Match[str]) -> str:
    before = match.group("before")
    # `PASSWORD ' || ...`, `PASSWORD ', quote_literal('***')`: JOINED's (read on past the match)
    if _JOIN_AFTER.match(match.string, match.start() + len(before)):
        return match.group(0)
    return before + QUOTED_MASK


# A "constant" that is the end of one and a join: `PASSWORD ' || quote_literal(`, after a
# doubled quote, or concat()'s next argument that JOINED masked (`PASSWORD ', '***'`).
_JOIN_AFTER = re.compile(
    rf"(?:'')?'\s*\|\||'\s*,\s*(?:quote_(?:literal|nullable)\s*\(\s*)?{re.escape(QUOTED_MASK)}",
    re.IGNORECASE,
)


def _masked_assignment(match: re.Match[str]) -> str:
    value = match.group("value")
    if value.strip("'\" ").lower() in _SCHEME_WORDS:  # 'Bearer ' || expression: no credential
        return match.group(0)
    quote = '"' if value.startswith('"') else "'"
    return f"{match.group('before')}{quote}{MASK}{quote}"


_SCHEME_WORDS = frozenset({"bearer", "basic", "token"})


def _masked_auth(match: re.Match[str]) -> str:
    token = match.group("token")
    return match.group(0) if plain_word(token) else match.group("scheme") + MASK


def _masked_url(match: re.Match[str]) -> str:
    return http_url_shown(match.group(0))


_ANY_LITERAL = re.compile(_LITERAL)


def _mask_formats(text: str) -> tuple[str, set[str]]:
    """Every constant among the arguments after a format string that names a credential
    (SecretPlace.FORMATTED), and the bare names among them (variables: masked where they are
    given a constant)."""
    pieces: list[str] = []
    names: set[str] = set()
    pos = 0
    for call in _FORMAT_CALL.finditer(text):
        if call.start() < pos or not _CREDENTIAL_PLACEHOLDER.search(call.group("fmt")):
            continue
        pieces.append(text[pos : call.end()])
        masked, pos = _masked_arguments(text, call.end(), None)
        pieces.append(masked)
        names.update(name.lower() for name in _ARGUMENT_NAME.findall(masked))
    return ("".join(pieces) + text[pos:] if pieces else text), names


# A bare name among format()'s arguments: a variable, or a column (a constant given to a
# column of that name is masked too, which hides nothing a reader needs).
_ARGUMENT_NAME = re.compile(r"(?<![\w$.'])([A-Za-z_]\w*+)(?![\w$.'(]|\s*\()")


def _masked_joined(match: re.Match[str]) -> str:
    """The joined constant; in quote_literal(), every constant joined in it too (`'a' || 'b'`).
    Outside one, the constants joined after stay (the closing quote of `PASSWORD '''`)."""
    before, value = match.group("before"), match.group("value")
    if before.rstrip().endswith("("):
        return before + _ANY_LITERAL.sub(QUOTED_MASK, value)
    first = _ANY_LITERAL.match(value)
    return before + QUOTED_MASK + value[first.end() if first else len(value) :]


def _masked_vault_row(match: re.Match[str]) -> str:
    return match.group("before") + _ANY_LITERAL.sub(QUOTED_MASK, match.group("rows"))


def _masked_variables(text: str, formatted: set[str]) -> str:
    """A PL/pgSQL variable joined or formatted in after a credential-named word: the constant
    it was given (`k text := '...'`, `k := '...'`, `k = '...'`) masked wherever it is given
    one. One pass over the places any name is given a constant, however many names (a pass
    per name made a long function quadratic)."""
    names = formatted | {m.group("name").lower() for m in _VARIABLE_USE.finditer(text)}
    if not names:
        return text

    def masked(match: re.Match[str]) -> str:
        given = {match.group("var").lower(), (match.group("then") or "").lower()}
        return _masked_named_literal(match) if given & names else match[0]

    return _VARIABLE_GIVEN.sub(masked, text)


_VARIABLE_USE = re.compile(rf"{_JOINED}(?P<name>[A-Za-z_]\w*+)(?![\w$]|\s*\()", re.IGNORECASE)
# A name given a constant: declared (`k text := `, `k constant varchar(20) default `) or
# assigned (`k := `, `k = `; after a word, `BEGIN k := `, the name is the second word).
_VARIABLE_GIVEN = re.compile(
    r"(?P<before>(?<![\w$.])(?P<var>[A-Za-z_]\w*+)"
    r"(?:\s++(?:constant\s++)?(?P<then>[\w.]++)(?:\([\d,\s]*+\))?\s*+(?::=|=|\bdefault\b)|\s*+:?=)\s*+)"
    rf"(?:{_LITERAL})",
    re.IGNORECASE,
)


_Rule = tuple[re.Pattern[str], Callable[[re.Match[str]], str]]

RULES: Mapping[SecretPlace, _Rule] = {
    SecretPlace.JOINED: (
        re.compile(
            rf"{_JOINED}(?P<value>(?:{_LITERAL})(?:\s*+\|\|\s*+{_PLAIN_LITERAL})*)", re.IGNORECASE
        ),
        _masked_joined,
    ),
    # The rows after VALUES or SELECT, the column list read to its ')' only (a scan on to the
    # next `values` made a text of many inserts quadratic).
    SecretPlace.VAULT_ROW: (
        re.compile(
            r"(?P<before>\binsert\s++into\s++(?:vault|\"vault\")\s*+\.\s*+(?:secrets|\"secrets\")"
            r"(?![\w$\"])(?:\s*+\([^();]*+\))?\s*+(?:overriding\s++\w++\s++value\s++)?"
            r"(?:values|select)\b\s*+)"
            rf"(?P<rows>(?:[(),\s]|{_LITERAL}|[^'$();\s]+)*)",
            re.IGNORECASE,
        ),
        _masked_vault_row,
    ),
    SecretPlace.URL: (
        re.compile(r"(?<![\w+.-])[a-z][a-z0-9+.-]*://[^\s'\"`<>(){}\\]+", re.IGNORECASE),
        _masked_url,
    ),
    SecretPlace.NAMED_LITERAL: (
        re.compile(rf"(?P<before>(?<![\w$.-])\"?{_NAME}\"?\s+)(?:{_LITERAL})", re.IGNORECASE),
        _masked_named_literal,
    ),
    SecretPlace.ASSIGNMENT: (
        re.compile(
            rf"(?P<before>(?<![\w$.-])(?:[\"']?{_NAME}[\"']?\s*(?::=|=>|=|:)\s*"
            rf"|[\"']?{_NAME}[\"']?\s*\bto\s+(?=[EU]?&?'|\$)"  # a literal: TO "name" is a role
            rf"|'(?:[\w.-]*[._-])?{_LISTED_NAME}'(?:::\w+)?\s*,\s*))(?P<value>{_QUOTED})",
            re.IGNORECASE,
        ),
        _masked_assignment,
    ),
    SecretPlace.AUTH_SCHEME: (
        re.compile(r"(?P<scheme>\b(?:bearer|basic)\s+)(?P<token>[\w.~+/=-]++)", re.IGNORECASE),
        _masked_auth,
    ),
    SecretPlace.JWT: (re.compile(r"\beyJ[\w-]{4,}(?:\.[\w-]+){0,2}"), lambda _: MASK),
    SecretPlace.VENDOR_KEY: (
        re.compile(
            r"\b(?:sb_secret_|sk_live_|sk_test_|rk_live_|rk_test_|whsec_|gh[opsu]_|github_pat_"
            r"|glpat-|xox[abeprs]-|AKIA|ASIA|AIza)[\w-]{8,}"
        ),
        lambda _: MASK,
    ),
}


# Looked for first: a word every rule's match holds (each of RULES, the secret calls, redact's
# conninfo places). `generate` quotes the first line of every statement it undoes, and the
# rules cost some 35 us a line (issue #17: a third of the engine's time); most lines hold none
# of these words. `key` and `auth` are in most Supabase DDL (`primary key`, `auth.uid()`):
# they count only where the rules can match, a name going on to a constant or an assignment.
_RARE_WORDS = (
    "pass", "pwd", "_pw", ".pw", "secret", "token", "credential", "connstr", "conn_str", "dsn", "://",
    "bearer", "basic", "eyj", "crypt", "hmac", "pgsodium", "sk_", "rk_", "whsec_", "gho_",
    "ghp_", "ghs_", "ghu_", "github_pat_", "glpat-", "xox", "akia", "asia", "aiza",
)  # fmt: skip
# A word read once from its start (from each `key` in it to its end made `api_key` * 20,000
# quadratic): the lookahead finds the word holds one, the possessive reads it to its end.
_COMMON_WORD = re.compile(
    r"(?<![\w.-])(?=[\w.-]*?(?:key|auth))[\w.-]++"
    r"(?:[\"'](?:::\w+)?\s*,|[\"']?\s*(?:[eu]?&?['\"$]|:=|=>|=|:|to\b))"
)


def _may_hold_credential(text: str) -> bool:
    lowered = text.lower()
    return any(w in lowered for w in _RARE_WORDS) or _COMMON_WORD.search(lowered) is not None


# Generate and validate quote the same first lines again (validate renders what generate
# wrote, some 9,000 statements later on a 1,000-file project): kept for that long.
@lru_cache(maxsize=1 << 15)
def sql_excerpt(text: str) -> str:
    """`text`, SQL or a message quoting it, with every credential masked (see SecretPlace);
    the same text comes back when it holds none. Cut it after, not before: a cut value is no
    longer where a rule finds it."""
    if not _may_hold_credential(text):
        return text
    text, formatted = _mask_formats(_mask_calls(text))
    text = _masked_variables(text, formatted)
    for pattern, masked in RULES.values():
        text = pattern.sub(masked, text)
    return mask_places(text)  # SecretPlace.CONNINFO: redact's own rule for conninfo strings


def sql_excerpt_obj(value: Any) -> Any:
    """A copy of JSON-like data with every string value masked by `sql_excerpt`; keys, and the
    values of redact's FACT_KEYS (compared whole by a later run), as they are."""
    return map_text(value, sql_excerpt)


def _mask_calls(text: str) -> str:
    """Each secret-taking call's secret arguments masked (SecretPlace.CALL_ARGUMENT)."""
    pieces: list[str] = []
    pos = 0
    for call in _CALL.finditer(text):
        if call.start() < pos:  # a call among the arguments of one already masked
            continue
        pieces.append(text[pos : call.end()])
        masked, pos = _masked_arguments(text, call.end(), _chosen(call.group(1)))
        pieces.append(masked)
    return "".join(pieces) + text[pos:] if pieces else text


def _chosen(name: str) -> frozenset[int] | None:
    name = name.lower()
    return SECRET_CALLS.get("pgsodium.*" if name.startswith("pgsodium.") else name)


def _masked_arguments(text: str, start: int, chosen: frozenset[int] | None) -> tuple[str, int]:
    """The arguments from `start` (after the call's '(') with the constants of the `chosen`
    ones (all: None) masked, and where the list ends (its ')', or the end of a cut text)."""
    out: list[str] = []
    depth, argument = 1, 1
    for token in _ARGUMENT_TOKEN.finditer(text, start):
        piece = token.group(0)
        depth += {"(": 1, ")": -1}.get(piece, 0)
        if depth == 0:
            return "".join(out), token.start()
        argument += piece == "," and depth == 1
        secret = token.group("literal") is not None and (chosen is None or argument in chosen)
        out.append(QUOTED_MASK if secret else piece)
    return "".join(out), len(text)
