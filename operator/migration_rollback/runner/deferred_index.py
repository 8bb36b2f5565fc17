"""Proof that an index step run again after a stopped run did what it says, and nothing else.

`CREATE INDEX CONCURRENTLY IF NOT EXISTS` skips any index of that name, whatever it indexes,
and a stopped build leaves an INVALID one a later run must replace. A recorded step is only
finished when the index of that name is the one it means: the same definition (as the
server stores both: index_definition.py), not being built right now by someone else, and, for
a DROP, the very index (by OID) that existed when the step was recorded. Anything else stops
with both named.
"""

from __future__ import annotations

import copy
from typing import Any

from pglast import ast, parse_sql
from pglast.enums.parsenodes import ObjectType
from psycopg import sql

from migration_rollback.runner.errors import PostCheckError
from migration_rollback.runner.index_definition import same_definition
from migration_rollback.runner.plan import QName
from migration_rollback.runner.relations import resolve_relation
from migration_rollback.runner.session import Connection
from migration_rollback.sql.names import deparse

_EXISTING = (
    "SELECT pg_get_indexdef(i.indexrelid), i.indisvalid, i.indrelid::oid, n.nspname, c.relname, "
    "EXISTS (SELECT 1 FROM pg_stat_progress_create_index p WHERE p.index_relid = i.indexrelid) "
    "FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
    "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE i.indexrelid = %s"
)


def dropped_index(node: Any) -> QName | None:
    """The one index a `DROP INDEX` names (None for anything else or several)."""
    if not isinstance(node, ast.DropStmt) or node.removeType != ObjectType.OBJECT_INDEX:
        return None
    objects = node.objects or ()
    if len(objects) != 1:
        return None
    return tuple(str(part.sval) for part in objects[0])


def check_drop(conn: Connection, name: QName, recorded_oid: int | None) -> None:
    """Dropping again is only right for the index the step was recorded for."""
    current = resolve_relation(conn, name)
    if recorded_oid is None or current is None or current == recorded_oid:
        return
    raise PostCheckError(
        f"index {_shown(name)} is not the one recorded for this step (OID {recorded_oid}, now "
        f"{current}: it was made again since); it is not dropped: check it and drop it by hand"
    )


def prepare_create(conn: Connection, name: QName, intended: str) -> None:
    """Before `CREATE INDEX ... IF NOT EXISTS`: drop an INVALID index of a stopped build of this
    very definition; refuse one that differs or that another session is building now."""
    oid = resolve_relation(conn, name)
    if oid is None:
        return
    definition, valid, building = _compare(conn, oid, name, intended)
    if building:
        raise PostCheckError(
            f"index {_shown(name)} is being built right now by another session ({definition}); "
            "wait for that build to end, then run again"
        )
    if not valid:
        conn.execute(sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}").format(sql.Identifier(*name)))


def check_created(conn: Connection, name: QName, intended: str) -> None:
    """After it ran: PostgreSQL may have skipped it; the index there must be the one meant."""
    oid = resolve_relation(conn, name)
    if oid is None:
        raise PostCheckError(f"index {_shown(name)} does not exist after: {intended}")
    definition, valid, _building = _compare(conn, oid, name, intended)
    if not valid:
        raise PostCheckError(f"index {_shown(name)} is INVALID after: {intended} ({definition})")


def _compare(conn: Connection, oid: int, name: QName, intended: str) -> tuple[str, bool, bool]:
    """The existing index's definition, validity and whether it is being built; refuses one
    whose definition differs from the intended statement."""
    row = conn.execute(_EXISTING, [oid]).fetchone()
    if row is None:
        raise PostCheckError(f"{_shown(name)} is not an index")
    definition, valid, table_oid, schema, table, building = row
    table_meant = resolve_relation(conn, _relation_of(intended))
    if table_meant != table_oid or not _same(conn, str(definition), intended, (schema, table)):
        raise PostCheckError(
            f"index {_shown(name)} exists with another definition: {definition}; this step "
            f"means: {intended}; it is not marked done: drop or rename that index, or finish "
            "the step by hand"
        )
    return str(definition), bool(valid), bool(building)


def _same(conn: Connection, definition: str, intended: str, table: tuple[str, str]) -> bool:
    """As the server stores both (index_definition.py); where it cannot tell, as parsed."""
    same = same_definition(conn, definition, intended, table)
    if same is None:
        return _normal(intended, table) == _normal(definition, table)
    return same


def _normal(text: str, table: tuple[str, str]) -> str:
    """The statement as PostgreSQL would store it: no CONCURRENTLY/IF NOT EXISTS, the default
    access method written out, the table fully qualified."""
    node = copy.deepcopy(_index_stmt(text))
    node.concurrent = False
    node.if_not_exists = False
    node.accessMethod = node.accessMethod or "btree"
    inh = node.relation.inh
    node.relation = ast.RangeVar(schemaname=table[0], relname=table[1], inh=inh, relpersistence="p")
    return deparse(node)


def _relation_of(text: str) -> QName:
    relation = _index_stmt(text).relation
    schema = relation.schemaname
    return (str(schema), str(relation.relname)) if schema else (str(relation.relname),)


def _index_stmt(text: str) -> Any:
    node = parse_sql(text)[0].stmt
    if not isinstance(node, ast.IndexStmt):
        raise PostCheckError(f"not a CREATE INDEX statement: {text}")
    return node


def _shown(name: QName) -> str:
    return ".".join(name)
