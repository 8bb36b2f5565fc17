"""Keep a view's definition, options, comments, owner and privileges before DROP VIEW.

pg_get_viewdef gives the query, printed from its parse tree (read with pg_catalog alone on the
search_path: every name in it qualified), pg_class.reloptions its options (security_invoker,
security_barrier, check_option: all said again in `WITH (...)`). What DROP VIEW also removes and
the definition does not say is a reason instead (never a guess): a trigger or rule on the view,
a column default or column privileges. Materialized views are not kept.
"""

from __future__ import annotations

from psycopg import sql

from migration_rollback.runner.capture_catalog import CaptureRecord
from migration_rollback.runner.capture_definition_read import (
    After,
    keep,
    qualified_reads,
    refused,
)
from migration_rollback.runner.capture_plan import CaptureSpec
from migration_rollback.runner.capture_table import lock_against_writers
from migration_rollback.runner.definition_rights import kept_rights
from migration_rollback.runner.relations import relation_name, resolve_relation
from migration_rollback.runner.session import Connection

_VIEW = """
SELECT pg_get_viewdef(c.oid), coalesce(c.reloptions, '{}'), obj_description(c.oid, 'pg_class'),
       ARRAY(SELECT ARRAY[a.attname::text, d.description] FROM pg_attribute a
             JOIN pg_description d ON d.objoid = c.oid AND d.classoid = 'pg_class'::regclass
              AND d.objsubid = a.attnum
             WHERE a.attrelid = c.oid AND a.attnum > 0 ORDER BY a.attnum),
       c.relkind <> 'v',
       EXISTS (SELECT FROM pg_trigger t WHERE t.tgrelid = c.oid),
       EXISTS (SELECT FROM pg_rewrite r WHERE r.ev_class = c.oid AND r.rulename <> '_RETURN'),
       EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0
               AND (a.atthasdef OR a.attacl IS NOT NULL))
FROM pg_class c WHERE c.oid = %s
"""
# Why a view is not kept, in the order of the flags _VIEW reads after its column comments.
_REASONS = (
    "not a plain view: DROP VIEW fails on it",
    "a trigger on the view goes with it and is not kept",
    "a rule on the view goes with it and is not kept",
    "a column default or column privileges go with it and are not kept",
)


def view(conn: Connection, spec: CaptureSpec, record: CaptureRecord) -> After | None:
    oid = resolve_relation(conn, spec.table)
    record.table = ".".join(spec.table)
    if oid is None:
        keep(conn, record, None, None)
        return None
    lock_against_writers(conn, oid, spec.kind)  # as DROP VIEW does: nothing changes it now
    record.schema, record.table = relation_name(conn, oid)
    definition, options, comment, columns, *flags = qualified_reads(
        conn, lambda: conn.execute(_VIEW, [oid]).fetchone()
    )
    if refused(record, _REASONS, flags):
        return None
    name = sql.Identifier(record.schema, record.table)
    made = [_create(name, options, str(definition)), *_comments(name, comment, columns)]
    keep(conn, record, [sql.SQL("DROP VIEW IF EXISTS {}").format(name), *made], None)
    assert record.detail is not None
    record.detail["rights"] = kept_rights(conn, "view", oid, name.as_string(conn))
    return None


def _create(name: sql.Identifier, options: list[str], definition: str) -> sql.Composable:
    """`CREATE VIEW name [WITH (options)] AS <query>` (pg_get_viewdef ends with `;`)."""
    query = sql.SQL(definition.strip().rstrip(";"))
    if not options:
        return sql.SQL("CREATE VIEW {} AS {}").format(name, query)
    said = sql.SQL(", ").join(sql.SQL(option) for option in options)
    return sql.SQL("CREATE VIEW {} WITH ({}) AS {}").format(name, said, query)


def _comments(
    name: sql.Identifier, comment: str | None, columns: list[list[str]]
) -> list[sql.Composable]:
    said: list[sql.Composable] = []
    if comment is not None:
        said.append(sql.SQL("COMMENT ON VIEW {} IS {}").format(name, sql.Literal(comment)))
    for column, text in columns:
        target = sql.SQL("{}.{}").format(name, sql.Identifier(column))
        said.append(sql.SQL("COMMENT ON COLUMN {} IS {}").format(target, sql.Literal(text)))
    return said
