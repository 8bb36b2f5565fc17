"""How each rollback statement is carried out: archived, copied, deferred, executed, refused."""

from __future__ import annotations

import pytest

from migration_rollback.runner.errors import PreconditionError
from migration_rollback.runner.options import MigrationId
from migration_rollback.runner.plan import Action, DropTarget, build_plan
from migration_rollback.runner.rollback_file import RollbackSource, parse_rollback


def source(sql: str, name: str = "20251113000001_x") -> RollbackSource:
    return parse_rollback(MigrationId.parse(name), f"{name}_rollback.sql", sql.encode())


def test_drop_table_becomes_an_archive_move() -> None:
    plan = build_plan([source("DROP TABLE IF EXISTS a, s.b CASCADE;")], purge=False)
    (step,) = plan.statements
    assert step.action is Action.ARCHIVE_TABLES
    assert step.tables == (("a",), ("s", "b"))
    assert step.missing_ok
    assert step.cascade
    assert not step.destroys_data
    assert step.drops == (DropTarget("relation", ("a",)), DropTarget("relation", ("s", "b")))
    assert plan.destructive == ()


def test_purge_runs_the_drop_and_counts_as_destructive() -> None:
    plan = build_plan([source("DROP TABLE a;")], purge=True)
    (step,) = plan.statements
    assert step.action is Action.EXECUTE
    assert step.sql == "DROP TABLE a"
    assert plan.destructive == (step,)


def test_drop_column_is_copied_out_first() -> None:
    plan = build_plan(
        [source("ALTER TABLE s.t DROP COLUMN a, DROP COLUMN IF EXISTS b, ADD COLUMN c int;")],
        purge=False,
    )
    (step,) = plan.statements
    assert step.action is Action.COPY_COLUMNS
    assert step.columns == ((("s", "t"), "a"), (("s", "t"), "b"))
    assert not step.destroys_data


def test_a_composite_types_attribute_is_no_table_column() -> None:
    """ALTER TYPE ... DROP ATTRIBUTE parses as DROP COLUMN on the type's pg_class row: it runs
    as written (nothing to copy out), its target the type, its values in columns of the type
    lost (it failed in verify: the archive copied a column of a table that is no table)."""
    plan = build_plan([source("ALTER TYPE s.comp DROP ATTRIBUTE y CASCADE;")], purge=False)
    (step,) = plan.statements
    assert step.action is Action.EXECUTE
    assert step.drops == ()
    assert [t.describe() for t in step.classification.targets] == ["type s.comp"]
    assert step.classification.notes == (
        "drops attribute y of type comp, and its values in every column of that type",
    )
    assert plan.destructive == (step,)


@pytest.mark.parametrize(
    "sql", ["TRUNCATE t;", "DELETE FROM t;", "DROP SCHEMA s CASCADE;", "DROP SEQUENCE q;"]
)
def test_what_cannot_be_archived_is_destructive(sql: str) -> None:
    plan = build_plan([source(sql)], purge=False)
    assert [p.action for p in plan.destructive] == [Action.EXECUTE]


def test_non_transactional_statements_are_deferred_and_idempotent() -> None:
    plan = build_plan(
        [
            source(
                "DROP INDEX CONCURRENTLY s.i;\n"
                "CREATE INDEX CONCURRENTLY j ON s.t (a);\n"
                "DROP TABLE t;\n"
            )
        ],
        purge=False,
    )
    assert [p.number for p in plan.statements] == [3]
    drop, create = plan.deferred
    assert drop.sql == "DROP INDEX CONCURRENTLY IF EXISTS s.i"
    assert create.sql.startswith("CREATE INDEX CONCURRENTLY IF NOT EXISTS j ON s.t")
    assert create.replaces_invalid_index == ("s", "j")
    assert drop.replaces_invalid_index is None


def test_the_files_own_begin_and_commit_are_skipped() -> None:
    plan = build_plan([source("BEGIN;\nDROP VIEW v;\nCOMMIT;\n")], purge=False)
    assert [p.statement.kind for p in plan.statements] == ["DropStmt"]
    assert len(plan.skipped) == 2


@pytest.mark.parametrize(
    "sql",
    [
        "DROP VIEW v;\nCOMMIT;\nDROP VIEW w;\n",
        "BEGIN;\nSAVEPOINT a;\nDROP VIEW v;\nCOMMIT;\n",
        "DROP VIEW v;\nROLLBACK;\n",
    ],
)
def test_other_transaction_control_is_refused(sql: str) -> None:
    with pytest.raises(PreconditionError, match="the runner owns the transaction"):
        build_plan([source(sql)], purge=False)


def test_statements_are_numbered_across_migrations_in_the_given_order() -> None:
    newer = source("DROP VIEW b;\nDROP VIEW c;", "20251202000000_b")
    older = source("DROP VIEW a;", "20251201000000_a")
    plan = build_plan([newer, older], purge=False)
    assert [(p.number, p.version) for p in plan.statements] == [
        (1, "20251202000000"),
        (2, "20251202000000"),
        (3, "20251201000000"),
    ]
    assert plan.versions == ("20251202000000", "20251201000000")


@pytest.mark.parametrize(
    "sql", ["DROP FOREIGN TABLE s.f;", "DROP SCHEMA s;", "DROP AGGREGATE s.a(int);"]
)
def test_drops_that_lose_no_rows_are_not_gated(sql: str) -> None:
    """A foreign table's rows live on its server; a schema without CASCADE drops only empty."""
    plan = build_plan([source(sql)], purge=False)
    assert plan.destructive == ()


def test_every_relation_kind_of_the_registry_is_checked_as_a_relation_drop() -> None:
    from migration_rollback.sql import kinds

    for kind in kinds.KINDS.values():
        if not kind.relation:
            continue
        (step,) = build_plan([source(f"DROP {kind.keyword} s.x;")], purge=True).statements
        assert step.drops == (DropTarget("relation", ("s", "x")),), kind.name
