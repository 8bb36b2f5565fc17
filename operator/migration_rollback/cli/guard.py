"""The secrets the CLI process was given, and the streams that never print them.

A command's own outputs are scrubbed where they are written, but some text reaches the
terminal before any command runs or after one failed: click's usage errors quote a stray
argument ("Got unexpected extra argument (postgresql://app:pw@db/shop)", a URL pasted where
the migration belongs), and an internal error's message is whatever the exception says. So
when the process was given a password (a URL in the environment or anywhere on the command
line, PGPASSWORD), stdout and stderr themselves are scrubbed of it.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Mapping
from typing import TextIO

from migration_rollback.redact import Redactor

URL_ENVS = ("MIGRATION_ROLLBACK_DATABASE_URL", "MIGRATION_ROLLBACK_SHADOW_URL")
URL_FLAGS = ("--database-url", "--shadow-url")
_URL_PREFIXES = ("postgresql://", "postgres://")


def looks_like_conninfo(text: str) -> bool:
    return text.startswith(_URL_PREFIXES) or "password=" in text


def given_urls(argv: list[str], env: Mapping[str, str]) -> list[str]:
    """Every connection string the process was given: by environment, as a URL option's value,
    or anywhere else on the command line where one was pasted by mistake."""
    found = [env[name] for name in URL_ENVS if env.get(name)]
    for index, arg in enumerate(argv):
        flag, equals, value = arg.partition("=")
        if flag in URL_FLAGS:
            found.append(value if equals else (argv[index + 1] if index + 1 < len(argv) else ""))
        elif looks_like_conninfo(arg):
            found.append(arg)
        elif equals and looks_like_conninfo(value):
            found.append(value)
    return [url for url in found if url]


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

    table: dict[str, str] = {}
    for url in urls:
        try:
            redactor = parse_database_url(url).redactor()
        except InvalidDatabaseUrlError:
            redactor = Redactor.of(unparsed_secrets(url))
        table.update(redactor.replacements)
    return Redactor(table).with_env(env)


class ScrubbingStream(io.TextIOBase):
    """A text stream that writes through to `inner`, each piece scrubbed first."""

    def __init__(self, inner: TextIO, redactor: Redactor) -> None:
        super().__init__()
        self.inner = inner
        self.redactor = redactor

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self.inner.encoding

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return self.inner.errors

    def write(self, text: str) -> int:
        self.inner.write(self.redactor.scrub(text))
        return len(text)

    def flush(self) -> None:
        self.inner.flush()

    def isatty(self) -> bool:
        return self.inner.isatty()

    def fileno(self) -> int:
        return self.inner.fileno()

    def writable(self) -> bool:
        return True


def guard_streams(argv: list[str], env: Mapping[str, str]) -> Redactor:
    """Scrub stdout and stderr when the process holds a secret; the redactor either way."""
    redactor = secrets_redactor(argv, env)
    if redactor.replacements:
        sys.stdout = ScrubbingStream(sys.stdout, redactor)
        sys.stderr = ScrubbingStream(sys.stderr, redactor)
    return redactor
