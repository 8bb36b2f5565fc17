"""Command-line entry point: `migration-rollback <command>`.

Each command lives in its own module and registers itself on the shared typer app when the
module is imported; importing this package registers them all.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Mapping

from migration_rollback.cli import (
    apply,
    captures,
    emergency,
    execute,
    generate,
    operate,
    validate,
)
from migration_rollback.cli.app import app
from migration_rollback.errors import MigrationRollbackError
from migration_rollback.redact import Redactor

COMMANDS = (generate, validate, emergency, execute, apply, captures, operate)


TRACEBACK_ENV = "MIGRATION_ROLLBACK_TRACEBACK"


def _tolerant_streams() -> None:
    """A name no encoding can print (a file name's non-UTF-8 bytes, kept by Python as lone
    surrogates) shows as escapes instead of ending the run in the middle of its output."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")


def main() -> None:
    """Run the CLI; a bug still ends in one line, not a traceback (unless asked for). A domain
    error no command handled is an error, not a bug; either is scrubbed of every secret the
    process was given before it is printed."""
    _tolerant_streams()
    try:
        app()
    except KeyboardInterrupt:
        print("migration-rollback: interrupted", file=sys.stderr)
        sys.exit(130)
    except MigrationRollbackError as exc:
        print(f"migration-rollback: error: {_scrub(str(exc))}", file=sys.stderr)
        sys.exit(2)
    except Exception as exc:
        if os.environ.get(TRACEBACK_ENV):
            print(_scrub(traceback.format_exc()), file=sys.stderr)
            sys.exit(1)
        print(
            f"migration-rollback: internal error: {type(exc).__name__}: {_scrub(str(exc))} (a "
            f"bug: please report it; {TRACEBACK_ENV}=1 shows where)",
            file=sys.stderr,
        )
        sys.exit(1)


URL_ENVS = ("MIGRATION_ROLLBACK_DATABASE_URL", "MIGRATION_ROLLBACK_SHADOW_URL")
URL_FLAGS = ("--database-url", "--shadow-url")


def given_urls(argv: list[str], env: Mapping[str, str]) -> list[str]:
    """Every connection string the process was given, by environment or command line."""
    found = [env[name] for name in URL_ENVS if env.get(name)]
    for index, arg in enumerate(argv):
        flag, equals, value = arg.partition("=")
        if flag in URL_FLAGS:
            found.append(value if equals else (argv[index + 1] if index + 1 < len(argv) else ""))
    return [url for url in found if url]


def secrets_redactor(argv: list[str], env: Mapping[str, str]) -> Redactor:
    """The passwords of every given URL (parsed as libpq does; an unparsable one whole)."""
    from migration_rollback.conninfo import (
        InvalidDatabaseUrlError,
        parse_database_url,
        unparsed_secrets,
    )

    secrets: set[str] = set()
    for url in given_urls(argv, env):
        try:
            target = parse_database_url(url)
        except InvalidDatabaseUrlError:
            secrets |= unparsed_secrets(url)
            continue
        secrets |= target.secrets | target.typed_secrets | {target.dsn}
    return Redactor.of(secrets).with_env(env)


def _scrub(text: str) -> str:
    try:
        return secrets_redactor(sys.argv[1:], os.environ).scrub(text)
    except Exception:  # the redactor itself failed: print nothing of the message
        return "(message withheld: it could not be checked for secrets)"


__all__ = ["COMMANDS", "app", "main"]
