"""The rows a DELETE changes in other tables through foreign keys, so that a capture keeps them.

`DELETE FROM parent` also deletes the rows of tables whose foreign key says `ON DELETE
CASCADE` (and their own cascading children, down the chain), and sets the referencing columns
of `ON DELETE SET NULL / SET DEFAULT` children. The capture of such a DELETE keeps those rows
too: before the statement, each child's rows that reference a captured parent row (matched on
the foreign key's columns against the parent's capture table), parents before children, so
the restore puts the parents back first. What cannot be kept exactly is refused with the
reason: a cycle (a table reached again, a self-reference), a child without a key to match rows
back by, a chain deeper than a few tables.
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import sql

from migration_rollback.runner.relations import relation_name, row_key
from migration_rollback.runner.session import Connection

_MAX_DEPTH = 6
_EDGES = """
SELECT c.conrelid::oid, c.confdeltype::text,
       ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, o)
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.o),
       ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(n, o)
             JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.o)
FROM pg_constraint c
WHERE c.contype = 'f' AND c.confrelid = %s AND c.confdeltype IN ('c', 'n', 'd')
ORDER BY c.conrelid, c.conname
"""


@dataclass(frozen=True, slots=True)
class Edge:
    """One foreign key a DELETE acts through: `child (child_columns) -> parent (parent_columns)`."""

    parent: int
    child: int
    deletes: bool  # ON DELETE CASCADE; otherwise SET NULL / SET DEFAULT (the columns change)
    child_columns: tuple[str, ...]
    parent_columns: tuple[str, ...]
    key: tuple[str, ...]  # the child's row key


def reached(conn: Connection, oid: int) -> list[Edge] | str:
    """Every foreign key a DELETE from `oid` acts through, parents before children; or why
    those rows cannot be kept exactly."""
    edges: list[Edge] = []
    seen = {oid}
    frontier = [(oid, 0)]
    while frontier:
        parent, depth = frontier.pop(0)
        for child, action, child_columns, parent_columns in conn.execute(_EDGES, [parent]):
            name = ".".join(relation_name(conn, int(child)))
            if int(child) in seen:
                return f"deleting here reaches {name} twice (a cycle or two paths): not kept"
            if depth >= _MAX_DEPTH:
                return f"deleting here cascades more than {_MAX_DEPTH} tables deep: not kept"
            key = row_key(conn, int(child))
            if not key:
                return (
                    f"deleting here changes rows of {name} (ON DELETE {_ACTIONS[action]}), which "
                    "has no primary key or NOT NULL unique key: its rows cannot be matched back"
                )
            deletes = action == "c"
            if not deletes and set(child_columns) & set(key):
                return f"deleting here changes the key of rows of {name}: not kept"
            edges.append(
                Edge(
                    parent,
                    int(child),
                    deletes,
                    tuple(child_columns),
                    tuple(parent_columns),
                    tuple(key),
                )
            )
            seen.add(int(child))
            if deletes:
                frontier.append((int(child), depth + 1))
    return edges


_ACTIONS = {"c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}


def referencing(
    edge: Edge,
    child: sql.Identifier,
    columns: sql.Composable,
    parent_kept: sql.Identifier,
    parent_types: dict[str, str],
) -> sql.Composed:
    """`SELECT <columns> FROM child c WHERE EXISTS (a kept parent row it references)`; the
    kept parent values are cast back to their types (user-typed values are kept as text)."""
    match = sql.SQL(" AND ").join(
        sql.SQL("c.{} = p.{}::{}").format(
            sql.Identifier(mine), sql.Identifier(theirs), sql.SQL(parent_types[theirs])
        )
        for mine, theirs in zip(edge.child_columns, edge.parent_columns, strict=True)
    )
    return sql.SQL("SELECT {} FROM {} c WHERE EXISTS (SELECT FROM {} p WHERE {})").format(
        columns, child, parent_kept, match
    )
