"""What `apply` applies: the pending migrations of the folder, each read, checked and parsed.

Everything here is decided before the first statement runs, so a refusal changes nothing: a
`--to` or `--no-capture` version no file has (a typo would apply everything, or keep captures
it meant to skip), a file sharing its version, one older than the last applied (Supabase
refuses it too), a file that is not UTF-8, a statement holding the connection's own
password (the history row would keep it), and one that would silence the triggers and
foreign-key checks apply's captures rely on (apply_session.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from migration_rollback.errors import SourceFileError
from migration_rollback.jobresult import before_all, version_key
from migration_rollback.project.migrations import ROLLBACK_SUFFIX, Migration, read_source
from migration_rollback.redact import Redactor
from migration_rollback.runner import audit
from migration_rollback.runner.apply_result import ApplyOptions
from migration_rollback.runner.apply_session import refuse_forward
from migration_rollback.runner.apply_steps import span
from migration_rollback.runner.errors import PreconditionError
from migration_rollback.runner.history import applied_versions, history_recorded
from migration_rollback.runner.rollback_file import refuse_inline_copy
from migration_rollback.runner.session import Connection
from migration_rollback.sql import Script, parse_script


@dataclass
class Loaded:
    """A pending migration, read once: its parsed statements and the digest of its bytes."""

    migration: Migration
    script: Script
    sha256: str


def pending_migrations(
    conn: Connection,
    found: list[Migration],
    options: ApplyOptions,
    redactor: Redactor,
    unpaired: list[Migration] | None = None,
) -> list[Loaded]:
    """The migrations to apply, oldest first, or PreconditionError naming why none may be."""
    table = options.history_table
    applied = applied_versions(conn, table) if history_recorded(conn, table) else []
    latest = max(applied, key=version_key, default=None)
    _check_target(options, found, applied)
    if unpaired:
        _check_unpaired(options, unpaired, applied, audit.rolled_back(conn))
    return [
        _load(migration, redactor)
        for migration in found
        if _wanted(options, migration, applied, latest)
    ]


def _check_unpaired(
    options: ApplyOptions, unpaired: list[Migration], applied: list[str], undone: list[str]
) -> None:
    """A file named like a rollback with no forward beside it, neither applied nor the rollback
    of a migration execute rolled back (its audit rows, `undone`): Supabase applies it as a
    migration of its own, apply cannot tell which it is, and passing over it would apply the
    later ones without it. Refused, naming it, before anything runs."""
    to = options.to_version
    pending = [
        m.path.name
        for m in unpaired
        if m.version not in applied
        and not _rolled_back(m, undone)
        and (to is None or version_key(m.version) <= version_key(to))
    ]
    if pending:
        raise PreconditionError(
            f"{', '.join(pending)}: named like a rollback file, but its forward migration is "
            "not in the folder and it is not applied: Supabase applies it as a migration of its "
            f"own. Rename it (not ending in _rollback) if it is one, or move it out of the "
            "folder; nothing was applied"
        )


def _rolled_back(rollback: Migration, undone: list[str]) -> bool:
    """Whether execute rolled back the migration `rollback` (named `<forward>_rollback`) undoes:
    by its name, or in a run of every migration newer than an older version."""
    forward = rollback.name.removesuffix(ROLLBACK_SUFFIX)
    newer = "every migration newer than "
    return any(
        name == forward
        or (
            name.startswith(newer)
            and version_key(name[len(newer) :]) < version_key(rollback.version)
        )
        for name in undone
    )


def _check_target(options: ApplyOptions, found: list[Migration], applied: list[str]) -> None:
    """A typo or a short version ("2025") in --to would otherwise apply all up to it, and one
    in --no-capture would keep the captures it meant to skip: both are refused."""
    versions = {m.version for m in found}
    to = options.to_version
    if to is not None and not before_all(to) and to not in applied and to not in versions:
        raise PreconditionError(f"--to {to}: no migration in the folder has this version")
    unknown = sorted(set(options.no_capture) - versions)
    if unknown:
        raise PreconditionError(
            f"--no-capture {', '.join(unknown)}: no migration in the folder has this "
            f"version (the folder holds {span(sorted(versions, key=version_key))})"
        )


def _wanted(
    options: ApplyOptions, migration: Migration, applied: list[str], latest: str | None
) -> bool:
    """Not applied yet and within --to; refused when it cannot be applied safely."""
    if migration.version in applied:
        return False
    to_version = options.to_version
    if to_version is not None and version_key(migration.version) > version_key(to_version):
        return False
    # A shared version is ambiguous on a live database: its history row holds one file.
    problem = migration.problem or migration.duplicate
    if problem is not None:
        raise PreconditionError(f"{migration.path}: {problem}")
    if latest is not None and version_key(migration.version) < version_key(latest):
        raise PreconditionError(
            f"{migration.name} is older than the last applied migration {latest}: "
            "applying it out of order is refused (as supabase db push does); rename it "
            "with a newer version"
        )
    return True


def _load(migration: Migration, redactor: Redactor) -> Loaded:
    # Text PostgreSQL would reject or store mangled is refused, naming file and line.
    try:
        source = read_source(migration.path)
    except SourceFileError as exc:
        raise PreconditionError(f"{migration.path.parent}/{exc}") from None
    if source.warning:
        raise PreconditionError(f"{migration.path}: refused, not UTF-8: {source.warning}")
    script = parse_script(source.text, str(migration.path))
    refuse_inline_copy(script, "apply")
    _check_no_own_password(script, redactor)
    refuse_forward(script)
    return Loaded(migration, script, source.sha256)


def _check_no_own_password(script: Script, redactor: Redactor) -> None:
    """The history row keeps the statements as they ran (as the Supabase CLI writes them, and
    `supabase migration fetch` writes them back to files): a statement holding the
    connection's own password would keep it there, so the migration is refused, naming the
    statement's place and not its text."""
    for stmt in script.statements:
        if redactor.holds_secret(stmt.text):
            raise PreconditionError(
                f"{stmt.location}: this statement holds the password of the connection "
                "apply runs with (not shown): refused, the history table would keep it; "
                "set that password outside the migration files"
            )
