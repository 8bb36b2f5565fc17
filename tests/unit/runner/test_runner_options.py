"""Options of a run: durations, table names, migration names, and invalid combinations."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from migration_rollback.jobresult import version_key
from migration_rollback.runner.errors import PreconditionError
from migration_rollback.runner.options import (
    BackupMode,
    MigrationId,
    RunOptions,
    TableName,
    parse_duration,
    parse_table_name,
    postgres_interval,
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("5s", 5),
        ("500ms", 0.5),
        ("10m", 600),
        ("1h30m", 5400),
        ("2d", 172800),
        ("7", 7),
        ("1.5s", 1.5),
        ("1d2h3m4s5ms", 93784.005),
        ("05s", 5),  # as the resource's pattern allows
    ],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize(
    "text",
    [
        "", "soon", "5x", "s5", "5s soon", "-5s",
        "\u0661\u0660s", "\uff11\uff10s", "\u0661\u0660", "1\u0660m", "1.\u0665s",  # not ASCII
        "1s1s", "1m30m", "30m1h", "5ms1s", "1_0s",  # a unit twice, out of order; an underscore
    ],
)  # fmt: skip
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


def test_postgres_interval_never_means_no_limit() -> None:
    assert postgres_interval(timedelta(seconds=5)) == "5000ms"
    assert postgres_interval(timedelta(0)) == "1ms"  # 0 would disable the timeout


def test_parse_table_name() -> None:
    assert parse_table_name("supabase_migrations.schema_migrations") == TableName(
        "supabase_migrations", "schema_migrations"
    )
    assert parse_table_name("applied") == TableName("public", "applied")
    assert parse_table_name('"My Schema"."T"') == TableName("My Schema", "T")
    with pytest.raises(ValueError, match="not a table name"):
        parse_table_name("a.b.c")


def test_migration_id() -> None:
    m = MigrationId.parse("20251113000001_timeline_social_features")
    assert (m.version, m.name) == ("20251113000001", "20251113000001_timeline_social_features")
    assert MigrationId.parse("supabase/migrations/20251113000001_x.sql").name == "20251113000001_x"
    # A migration may itself be called "..._rollback": only the file helper strips it.
    assert MigrationId.parse("1_undo_rollback").name == "1_undo_rollback"
    assert MigrationId.of_rollback_file("1_undo_rollback_rollback.sql").name == "1_undo_rollback"
    with pytest.raises(PreconditionError, match="does not start with a version"):
        MigrationId.parse("timeline")


def test_version_key_sorts_numerically() -> None:
    assert sorted(["10", "9", "100"], key=version_key) == ["9", "10", "100"]


def _options(**changes: object) -> RunOptions:
    base: dict[str, object] = {
        "database_url": "postgresql://x",
        "migration": MigrationId.parse("1_a"),
    }
    base.update(changes)
    return RunOptions(**base)  # type: ignore[arg-type]


def test_run_options_combinations() -> None:
    assert _options().backup is BackupMode.NONE
    with pytest.raises(ValueError, match="exactly one"):
        _options(to_version="1")
    with pytest.raises(ValueError, match="exactly one"):
        _options(migration=None)
    with pytest.raises(ValueError, match="not with --to"):
        _options(migration=None, to_version="1", rollback_file=Path("x.sql"))
    with pytest.raises(ValueError, match="needs --backup-dir"):
        _options(backup=BackupMode.PG_DUMP)
    with pytest.raises(ValueError, match="64 hexadecimal"):
        _options(expect_sha256="abc")
    with pytest.raises(ValueError, match="needs --allow-data-loss"):
        _options(purge=True)
    with pytest.raises(ValueError, match="pins the set --to rolls back"):
        _options(expect_set_sha256="a" * 64)
    with pytest.raises(ValueError, match="64 lowercase hexadecimal"):
        _options(migration=None, to_version="1", expect_set_sha256="A" * 64)
    assert _options(migration=None, to_version="1", expect_set_sha256="a" * 64).to_version == "1"


def test_a_bare_version_names_the_same_migration() -> None:
    full = MigrationId.parse("20251113000001_timeline")
    bare = MigrationId.parse("20251113000001")
    assert bare.version_only
    assert full.same_as(bare)
    assert bare.same_as(full)
    assert not full.same_as(MigrationId.parse("20251113000001_other"))
    assert not full.same_as(MigrationId.parse("20251113000002"))
