"""The secrets the CLI process was given, and the errors that must never show them.

A command's own outputs are scrubbed where they are written, but an error can quote an argument
before any command has parsed a URL: click's usage errors ("Got unexpected extra argument
(postgresql://app:pw@db/shop)", a URL pasted where the migration belongs), a command's error
naming the value it was given as a folder or a file, an internal error's message. Those texts
are scrubbed where they are made, before rich lays them out: a password wrapped across two
lines of a panel can no longer be recognised in the printed stream.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from typing import Any

from migration_rollback.redact import Redactor
from migration_rollback.url_env import URL_ENVS

URL_FLAGS = ("--database-url", "--shadow-url")
# Anywhere in an argument, in any case: ' postgresql://...', '--database-url postgresql://...'
# and 'POSTGRESQL://...' all hold a password a reader would take for one.
_SCHEME = re.compile(r"postgres(?:ql)?://", re.IGNORECASE)
_PASSWORD_KEYWORD = re.compile(r"password\s*=", re.IGNORECASE)


def pasted_conninfo(text: str) -> str | None:
    """The connection string held in a piece of text, its scheme in lower case (so libpq reads
    the parts), or None."""
    scheme = _SCHEME.search(text)
    if scheme is not None:
        return scheme.group(0).lower() + text[scheme.end() :].strip()
    return text.strip() if _PASSWORD_KEYWORD.search(text) else None


def given_urls(argv: list[str], env: Mapping[str, str]) -> list[str]:
    """Every connection string the process was given: by environment, as a URL option's value,
    or anywhere else on the command line where one was pasted by mistake."""
    found = [env[name] for name in URL_ENVS if env.get(name)]
    for index, arg in enumerate(argv):
        flag, equals, value = arg.partition("=")
        if flag in URL_FLAGS:
            found.append(value if equals else (argv[index + 1] if index + 1 < len(argv) else ""))
        pasted = pasted_conninfo(arg)
        if pasted is not None:
            found.extend([pasted, arg])
    return [url for url in found if url.strip()]


def secrets_redactor(argv: list[str], env: Mapping[str, str]) -> Redactor:
    """The passwords of every given URL (parsed as libpq does; an unparsable one's possible
    credentials and the whole string) and of PGPASSWORD."""
    urls = given_urls(argv, env)
    if not urls:  # psycopg (under conninfo) is imported only when there is a URL to read
        return Redactor.none().with_env(env)
    from migration_rollback.conninfo import (
        InvalidDatabaseUrlError,
        parse_database_url,
        unparsed_secrets,
    )

    merged = Redactor.none()
    for url in urls:
        try:
            redactor = parse_database_url(url).redactor()
        except InvalidDatabaseUrlError:
            redactor = Redactor.of(unparsed_secrets(url))
        merged = merged.combined(redactor)
    return merged.with_env(env)


def scrub_given(text: str) -> str:
    """`text` without any secret this process was given; when the check itself fails, nothing
    of `text` is shown."""
    try:
        return secrets_redactor(sys.argv[1:], os.environ).scrub(text)
    except Exception:
        return "(message withheld: it could not be checked for secrets)"


def scrub_click_error(exc: Any) -> None:
    """Scrub what a click error will print (its message, and the file name a FileError
    repeats) in place, before it is laid out. Any: typer's click classes are private."""
    exc.message = scrub_given(exc.message)
    for attribute in ("ui_filename", "filename"):
        value = getattr(exc, attribute, None)
        if isinstance(value, str):
            setattr(exc, attribute, scrub_given(value))
