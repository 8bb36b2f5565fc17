"""What `apply` keeps for each statement, read from the parse tree alone (no database)."""

from __future__ import annotations

import pglast
import pytest

from migration_rollback.runner.capture_plan import CaptureKind, capture_specs, returning_insert
from migration_rollback.sql import parse_script


def _specs(text: str):  # type: ignore[no-untyped-def]
    return capture_specs(parse_script(text).statements[0])


def test_update_keeps_its_where_from_and_set_columns() -> None:
    (spec,) = _specs(
        "UPDATE public.t AS x SET a = 1, b = x.b || 'y' FROM u WHERE u.id = x.id AND x.c > 0"
    )
    assert spec.kind is CaptureKind.UPDATE
    assert spec.table == ("public", "t")
    assert spec.target == "public.t AS x"
    assert spec.alias == "x"
    assert spec.columns == ("a", "b")
    assert spec.from_sql == "u"
    assert spec.where_sql == "u.id = x.id AND x.c > 0"
    assert spec.manual is None


def test_delete_using_and_read_only_with() -> None:
    (spec,) = _specs("WITH old AS (SELECT 1 AS id) DELETE FROM t USING old WHERE t.id = old.id")
    assert spec.kind is CaptureKind.DELETE
    assert spec.from_sql == "old"
    assert spec.with_sql == "WITH old AS (SELECT 1 AS id)"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("WITH d AS (DELETE FROM u RETURNING id) UPDATE t SET a = 1", "WITH clause writes"),
        ("INSERT INTO t (id) VALUES (now()) ON CONFLICT (id) DO UPDATE SET a = 2", "constant"),
        (
            "INSERT INTO t (id) SELECT id FROM u LIMIT 2 ON CONFLICT (id) DO UPDATE SET a = 2",
            "LIMIT",
        ),
        (
            "INSERT INTO t (id) SELECT DISTINCT ON (k) id FROM u"
            " ON CONFLICT (id) DO UPDATE SET a = 2",
            "DISTINCT ON",
        ),
        (
            "INSERT INTO t (id) SELECT 1 UNION SELECT 2 ON CONFLICT (id) DO UPDATE SET a = 2",
            "UNION",
        ),
        ("INSERT INTO t (id) SELECT * FROM u ON CONFLICT (id) DO UPDATE SET a = 2", "listed"),
        (
            "INSERT INTO t (id, a) SELECT id, public.f(b) FROM u"
            " ON CONFLICT (id) DO UPDATE SET a = 2",
            "public.f(), which may write",
        ),
        (
            "INSERT INTO t (id) SELECT gen_random_uuid() FROM u"
            " ON CONFLICT (id) DO UPDATE SET a = 2",
            "another value each time",
        ),
        (
            "INSERT INTO t (id) SELECT id FROM u TABLESAMPLE system (5)"
            " ON CONFLICT (id) DO UPDATE SET a = 2",
            "TABLESAMPLE",
        ),
        (
            "WITH w AS (SELECT 1 AS id) INSERT INTO t (id) SELECT id FROM w"
            " ON CONFLICT (id) DO UPDATE SET a = 2",
            "WITH",
        ),
        ("INSERT INTO t (id) VALUES (NULL) ON CONFLICT (id) DO UPDATE SET a = 2", "constant"),
        ("INSERT INTO t (a) VALUES (1) ON CONFLICT (id) DO UPDATE SET a = 2", "every conflict"),
        ("INSERT INTO t VALUES (1) ON CONFLICT (id) DO UPDATE SET a = 2", "every conflict"),
        ("INSERT INTO t (id) VALUES (1) ON CONFLICT ON CONSTRAINT k DO UPDATE SET a = 2", "names"),
        ("INSERT INTO t (id) VALUES (1) ON CONFLICT (lower(id)) DO UPDATE SET a = 2", "express"),
        ("INSERT INTO t (id) VALUES (1) RETURNING id", "RETURNING"),
        ("TRUNCATE t CASCADE", "CASCADE"),
        (
            "MERGE INTO t USING s ON t.id = s.id WHEN NOT MATCHED THEN INSERT VALUES (s.id)",
            "NOT MATCHED",
        ),
        ("DROP SCHEMA s CASCADE", "DROP SCHEMA"),
    ],
)
def test_what_cannot_be_kept_exactly_is_a_manual_reason(text: str, reason: str) -> None:
    specs = _specs(text)
    assert specs
    assert all(s.manual and reason in s.manual for s in specs)


def test_ddl_kinds_and_statements_that_keep_nothing() -> None:
    kinds = [s.kind for s in _specs("ALTER TABLE t DROP COLUMN a, ALTER COLUMN b TYPE int")]
    assert kinds == [CaptureKind.DROP_COLUMN, CaptureKind.ALTER_TYPE]
    assert [s.table for s in _specs("DROP TABLE a.b, c")] == [("a", "b"), ("c",)]
    assert _specs("CREATE TABLE t (id int)") == []
    assert _specs("SELECT 1") == []


def test_insert_rewrite_returns_exactly_the_keys() -> None:
    statement = parse_script("INSERT INTO t (a) SELECT x FROM u ON CONFLICT DO NOTHING").statements[
        0
    ]
    rewritten = returning_insert(statement, ["id", "k"])
    assert rewritten.endswith("RETURNING id, k")
    assert len(pglast.parse_sql(rewritten)) == 1


def test_upsert_keeps_the_rows_its_constant_conflict_values_select() -> None:
    """Only the conflict columns' constants are kept (the other values may be volatile)."""
    (spec,) = _specs(
        "INSERT INTO public.t (id, slug, n, at) VALUES (gen_random_uuid(), 'a'::text, 1, now()),"
        " (gen_random_uuid(), 'b', 2, now()) ON CONFLICT (slug, n) DO UPDATE SET at = now()"
    )
    assert spec.kind is CaptureKind.UPSERT
    assert spec.manual is None
    assert spec.target == "public.t"
    assert spec.conflict == ("slug", "n")
    assert spec.conflict_values == "VALUES (CAST('a' AS text), 1), ('b', 2)"
    assert spec.columns == ("at",)  # what DO UPDATE sets: refused when it is the key


def test_upsert_from_a_query_keeps_the_rows_its_conflict_values_select() -> None:
    """The query narrowed to the conflict columns, evaluated before the statement (the corpus's
    wetraineducattiontech: Store admins upserted from auth.users)."""
    (spec,) = _specs(
        "INSERT INTO public.store_users (id, store_role, at) SELECT au.id, 'ADMIN', now()"
        " FROM auth.users au WHERE au.id IN ('a', 'b') ON CONFLICT (id) DO UPDATE"
        " SET store_role = EXCLUDED.store_role, at = now()"
    )
    assert spec.kind is CaptureKind.UPSERT
    assert spec.manual is None
    assert spec.conflict == ("id",)
    assert spec.conflict_values == "SELECT au.id FROM auth.users AS au WHERE au.id IN ('a', 'b')"
    (grouped,) = _specs(
        "INSERT INTO t (n, k) SELECT count(*), u.k FROM u GROUP BY u.k HAVING count(*) > 1"
        " ON CONFLICT (k) DO UPDATE SET n = EXCLUDED.n"
    )
    assert grouped.conflict_values == "SELECT u.k FROM u GROUP BY u.k HAVING count(*) > 1"
