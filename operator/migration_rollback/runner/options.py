"""What one run of the runner was asked to do, validated before any connection is opened.

The CLI (and, through it, the operator's Job) builds a `RunOptions`; everything that can be
wrong with the request itself (a bad duration, a history table name that is not `schema.table`,
a migration name without a version) is rejected here, so the runner proper only meets
well-formed input.
"""

from __future__ import annotations

import enum
import math
import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from migration_rollback.limits import MAX_AGE_MS, MAX_TIMEOUT_MS
from migration_rollback.redact import looks_like_conninfo, shown_input
from migration_rollback.runner.errors import PreconditionError

DEFAULT_HISTORY_TABLE = "supabase_migrations.schema_migrations"
# What `--on-conflict` accepts: how restore.py treats captured rows written again since.
ON_CONFLICT = ("fail", "keep-current", "restore-captured")

# ASCII digits only (`\d` and float() take any Unicode digit: '١٠s', '１０s'); each unit at most
# once, largest first (`1s1s` and `30m1h` are typos, not sums).
_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)")
_SECONDS_ONLY = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_UNIT_SECONDS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}  # largest first
_UNIT_ORDER = tuple(_UNIT_SECONDS)
_VERSION = re.compile(r"^([0-9]+)")  # ASCII: a Unicode digit is no version Supabase reads
_WHOLE_VERSION = re.compile(r"[0-9]+")


class BackupMode(enum.StrEnum):
    """How the run makes sure the data can be brought back."""

    PG_DUMP = "pg-dump"
    REQUIRE_RECENT = "require-recent"
    NONE = "none"


def parse_duration(text: str) -> timedelta:
    """`500ms`, `5s`, `10m`, `1h30m`, `2d`, or a bare number of seconds."""
    cleaned = text.strip().lower().replace(" ", "")
    if _SECONDS_ONLY.fullmatch(cleaned):
        return _seconds(float(cleaned), text)
    parts = _duration_parts(cleaned, text)
    return _seconds(sum(float(n) * _UNIT_SECONDS[unit] for n, unit in parts), text)


def _duration_parts(cleaned: str, text: str) -> list[tuple[str, str]]:
    """The (number, unit) pairs of the whole text, each unit once and largest first."""
    parts: list[tuple[str, str]] = []
    pos = 0
    for match in _DURATION_PART.finditer(cleaned):
        if match.start() != pos:
            break
        parts.append((match.group(1), match.group(2)))
        pos = match.end()
    units = [unit for _, unit in parts]
    if not cleaned or pos != len(cleaned) or units != sorted(set(units), key=_UNIT_ORDER.index):
        raise ValueError(
            f"not a duration: {shown_input(text)} (digits 0-9 and a unit, each unit once, "
            "largest first: e.g. 500ms, 5s, 10m, 1h30m)"
        )
    return parts


def _seconds(seconds: float, text: str) -> timedelta:
    try:
        if math.isfinite(seconds):
            return timedelta(seconds=seconds)
    except OverflowError:
        pass
    raise ValueError(f"duration out of range: {shown_input(text)}")


def check_version(option: str, text: str) -> str:
    """A migration version as a command takes one (`--to`, `--no-capture`, `--version`): ASCII
    digits only, as Supabase names files and the resource's targetVersion allows. Checked
    before any connection, so nothing else (a pasted URL) is stored in the audit log."""
    if not _WHOLE_VERSION.fullmatch(text):
        raise ValueError(
            f"{option}: {shown_input(text)} is not a version (the digits a migration's file "
            "name starts with, e.g. 20251113000001; 0 for before the first)"
        )
    return text


# The CRD's limit too (one source: migration_rollback.limits).
MAX_TIMEOUT = timedelta(milliseconds=MAX_TIMEOUT_MS)


def check_timeout(option: str, value: timedelta, maximum: timedelta = MAX_TIMEOUT) -> None:
    """A timeout PostgreSQL will honour: at least 1ms (0 would mean none), at most `maximum`."""
    if value < timedelta(milliseconds=1):
        raise ValueError(
            f"{option}: must be at least 1ms (PostgreSQL reads 0 as no limit at all), "
            f"got {shown_duration(value)}"
        )
    if value > maximum:
        raise ValueError(
            f"{option}: must be at most {shown_duration(maximum)}, got {shown_duration(value)}"
        )


def shown_duration(value: timedelta) -> str:
    """As the options are written: 500ms, 5s, 30m, 24h."""
    seconds = value.total_seconds()
    if seconds < 1:
        return f"{seconds * 1000:g}ms"
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


def postgres_interval(value: timedelta) -> str:
    """A setting value PostgreSQL reads as milliseconds (`0` would mean no limit)."""
    return f"{max(1, round(value.total_seconds() * 1000))}ms"


@dataclass(frozen=True, slots=True)
class TableName:
    schema: str
    name: str

    def __str__(self) -> str:
        return f"{self.schema}.{self.name}"


def parse_table_name(text: str) -> TableName:
    """`schema.table` (a bare name means `public`); identifiers as stored, not quoted."""
    parts = [p.strip().strip('"') for p in text.split(".")]
    if looks_like_conninfo(text):  # 'postgresql://u:pw@db.internal/x' has two dotted parts
        parts = []
    if len(parts) == 1 and parts[0]:
        return TableName("public", parts[0])
    if len(parts) == 2 and all(parts):
        return TableName(parts[0], parts[1])
    raise ValueError(f"not a table name: {shown_input(text)} (expected schema.table)")


@dataclass(frozen=True, slots=True, order=True)
class MigrationId:
    """A migration as Supabase names it: `<version>_<description>`; version is the digits."""

    version: str
    name: str

    @classmethod
    def parse(cls, given: str) -> MigrationId:
        """A file stem or path; the error quotes what was given whole, however long (paths
        are), never the name cut from it (the "name" of a pasted keyword string is its
        password's tail)."""
        stem = Path(given).name.removesuffix(".sql")
        match = _VERSION.match(stem)
        if not match or looks_like_conninfo(given):
            raise PreconditionError(
                f"migration {shown_input(given, limit=None)} does not start with a version "
                "(e.g. 20251113000001_name)"
            )
        return cls(version=match.group(1), name=stem)

    @property
    def version_only(self) -> bool:
        """Given as `20251113000001` rather than `20251113000001_description`."""
        return self.name == self.version

    @property
    def title(self) -> str:
        """The description after `<version>_`, as Supabase records it in the `name` column."""
        return self.name[len(self.version) :].removeprefix("_")

    def same_name(self, recorded: str) -> bool:
        """`recorded` (a history row's name) names this migration: the title, or the full name."""
        return recorded.strip() in (self.title, self.name)

    def same_as(self, other: MigrationId) -> bool:
        """The same migration; a bare version matches any description."""
        if self.version != other.version:
            return False
        return self.version_only or other.version_only or self.name == other.name

    @classmethod
    def of_rollback_file(cls, filename: str) -> MigrationId:
        """`<migration>_rollback.sql` -> the migration it rolls back."""
        return cls.parse(Path(filename).name.removesuffix(".sql").removesuffix("_rollback"))


@dataclass(frozen=True, slots=True)
class RunOptions:
    """One request to roll back a migration (or every migration newer than `to_version`)."""

    database_url: str
    migration: MigrationId | None = None
    to_version: str | None = None
    migrations_dir: Path = Path("supabase/migrations")
    rollback_file: Path | None = None
    expect_sha256: str | None = None
    expect_set_sha256: str | None = None  # with to_version: jobresult.set_sha256 of the set
    expect_database: str | None = None  # runner.identity of the database a rehearsal ran on
    dry_run: bool = False
    backup: BackupMode = BackupMode.NONE
    backup_dir: Path | None = None
    max_age: timedelta = timedelta(hours=1)
    lock_timeout: timedelta = timedelta(seconds=5)
    statement_timeout: timedelta = timedelta(minutes=10)
    allow_data_loss: bool = False
    allow_manual: bool = False
    allow_cascade: bool = False  # run CASCADE statements validate calls errors
    purge: bool = False
    history_table: TableName = TableName("supabase_migrations", "schema_migrations")
    result_file: Path | None = None
    report_file: Path | None = None
    on_conflict: str = "fail"  # data restored from captures: fail | keep-current | restore-captured

    def __post_init__(self) -> None:
        if self.on_conflict not in ON_CONFLICT:
            raise ValueError("--on-conflict must be fail, keep-current or restore-captured")
        if (self.migration is None) == (self.to_version is None):
            raise ValueError("give exactly one of <migration> or --to VERSION")
        if self.to_version is not None:
            check_version("--to", self.to_version)
        if self.to_version is not None and (self.rollback_file or self.expect_sha256):
            raise ValueError("--rollback-file and --expect-sha256 pin one migration; not with --to")
        if self.expect_set_sha256 is not None and self.to_version is None:
            raise ValueError("--expect-set-sha256 pins the set --to rolls back; give --to")
        if self.expect_set_sha256 is not None and not re.fullmatch(
            r"[0-9a-f]{64}", self.expect_set_sha256
        ):
            raise ValueError("--expect-set-sha256 must be 64 lowercase hexadecimal digits")
        if self.backup is not BackupMode.NONE and self.backup_dir is None:
            raise ValueError(f"--backup {self.backup} needs --backup-dir")
        if self.backup is BackupMode.NONE and self.backup_dir is not None:
            # No dump is taken or looked for: the folder given would be ignored silently.
            raise ValueError("--backup-dir is only read with --backup pg-dump or require-recent")
        if self.expect_sha256 is not None and not re.fullmatch(
            r"[0-9a-fA-F]{64}", self.expect_sha256
        ):
            raise ValueError("--expect-sha256 must be 64 hexadecimal digits")
        if self.expect_database is not None:
            # Here, not at the top: identity.py needs psycopg, which `--version` and the
            # commands that never connect do not load (0.1 s of start-up).
            from migration_rollback.runner.identity import check_expected

            check_expected("--expect-database", self.expect_database)
        if self.purge and not self.allow_data_loss:
            raise ValueError("--purge destroys data: it needs --allow-data-loss")
        check_timeout("--lock-timeout", self.lock_timeout)
        check_timeout("--statement-timeout", self.statement_timeout)
        # A dump older than a year is no backup for a rollback; beyond it, date maths overflow.
        check_timeout("--max-age", self.max_age, maximum=timedelta(milliseconds=MAX_AGE_MS))
