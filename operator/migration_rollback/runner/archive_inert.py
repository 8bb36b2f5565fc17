"""An archived table stands alone: nothing in it still depends on the live objects it used.

The rollback that archives a table often drops, next, what that table used: the enum of a
column, the function of a generated column or of a CHECK, the extension behind either. A DROP
TABLE would have taken those uses away; archiving must too, or the rollback fails at `execute`
("cannot drop function … because column … of table migration_rollback_archive.… depends on
it"). So, on each archived table: generated columns keep their values as plain columns, CHECK
constraints and indexes over functions that are not built in go, and columns of types that are
not built in (enums, domains, composites, extensions' types) are kept as text with the type
recorded in the column's comment (this rewrites those tables). The verifier's round trip runs
the same code (verify/as_runner.py), so what it proves is what `execute` runs.
"""

from __future__ import annotations

from collections.abc import Sequence

from psycopg import sql

from migration_rollback.runner.session import Connection

_TABLE_NAME = (
    "SELECT n.nspname, c.relname FROM pg_catalog.pg_class c "
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = %s"
)


def _table(conn: Connection, oid: int) -> sql.Identifier:
    row = conn.execute(_TABLE_NAME, [oid]).fetchone()
    if row is None:
        raise LookupError(f"relation {oid} vanished")
    return sql.Identifier(str(row[0]), str(row[1]))


def make_inert(conn: Connection, oids: Sequence[int]) -> list[str]:
    """Cut every tie from the archived tables `oids` to live functions and types."""
    done = drop_generation_expressions(conn, oids)
    done += drop_function_uses(conn, oids)
    return done + untype_columns(conn, oids)


# --- generated columns: the values stay, the expression goes ------------------------------

# Inherited columns follow their parent's DROP EXPRESSION (PostgreSQL refuses it on the child).
_GENERATED_COLUMNS = """
SELECT a.attrelid, a.attname FROM pg_catalog.pg_attribute a
WHERE a.attrelid = ANY(%s) AND a.attgenerated <> '' AND a.attinhcount = 0
  AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
"""


def drop_generation_expressions(conn: Connection, oids: Sequence[int]) -> list[str]:
    """Generated columns become plain columns holding the values they had: the expression
    would keep the functions and the other columns' types it reads."""
    done: list[str] = []
    for oid, column in conn.execute(_GENERATED_COLUMNS, [list(oids)]).fetchall():
        table = _table(conn, int(oid))
        conn.execute(
            sql.SQL("ALTER TABLE {} ALTER COLUMN {} DROP EXPRESSION").format(
                table, sql.Identifier(column)
            )
        )
        done.append(
            f"archived generated column {table.as_string(conn)}.{column} kept as a plain column"
        )
    return done


# --- CHECK constraints and indexes over functions that are not built in --------------------

_USES_USER_FUNCTION = sql.SQL("""
EXISTS (SELECT FROM pg_catalog.pg_depend d
        JOIN pg_catalog.pg_proc p ON p.oid = d.refobjid
        WHERE d.classid = {classid}::pg_catalog.regclass AND d.objid = {objid}
          AND d.refclassid = 'pg_catalog.pg_proc'::pg_catalog.regclass
          AND p.pronamespace <> 'pg_catalog'::pg_catalog.regnamespace)
""")
_FUNCTION_CHECKS = sql.SQL("{} {} {}").format(
    sql.SQL(
        "SELECT k.conrelid, k.conname FROM pg_catalog.pg_constraint k "
        "WHERE k.conrelid = ANY(%s) AND k.contype = 'c' AND k.coninhcount = 0 AND"
    ),
    _USES_USER_FUNCTION.format(
        classid=sql.Literal("pg_catalog.pg_constraint"), objid=sql.SQL("k.oid")
    ),
    sql.SQL("ORDER BY 1, 2"),
)
_FUNCTION_INDEXES = sql.SQL("{} {} {}").format(
    sql.SQL(
        "SELECT i.indexrelid FROM pg_catalog.pg_index i "
        "WHERE i.indrelid = ANY(%s) AND NOT EXISTS (SELECT FROM pg_catalog.pg_constraint k "
        "WHERE k.conindid = i.indexrelid) AND"
    ),
    _USES_USER_FUNCTION.format(
        classid=sql.Literal("pg_catalog.pg_class"), objid=sql.SQL("i.indexrelid")
    ),
    sql.SQL("ORDER BY 1"),
)


def drop_function_uses(conn: Connection, oids: Sequence[int]) -> list[str]:
    """CHECK constraints and indexes of the archive that call functions outside pg_catalog go:
    they would keep the function (the data does not need them)."""
    done: list[str] = []
    for oid, conname in conn.execute(_FUNCTION_CHECKS, [list(oids)]).fetchall():
        table = _table(conn, int(oid))
        conn.execute(
            sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(table, sql.Identifier(conname))
        )
        what = f"{table.as_string(conn)}"
        done.append(f"dropped check {conname} of archived {what} (it calls a function)")
    for (index,) in conn.execute(_FUNCTION_INDEXES, [list(oids)]).fetchall():
        name = _table(conn, int(index))
        conn.execute(sql.SQL("DROP INDEX {}").format(name))
        done.append(f"dropped index {name.as_string(conn)} of the archive (it calls a function)")
    return done


# --- columns of types that are not built in: kept as text -------------------------------

# Columns of archived tables whose type is not built in (an enum, a domain, a composite or an
# extension's type), with what to record of the type: PostgreSQL's description and, for an
# enum, its labels. The rollback often drops that type next (it created it with the table).
_FOREIGN_TYPED_COLUMNS = """
SELECT a.attrelid, a.attname, a.attnum,
       pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(t.typname)
         || CASE WHEN t.oid <> at.oid THEN '[]' ELSE '' END,
       CASE t.typtype WHEN 'e' THEN 'enum' WHEN 'd' THEN 'domain over '
              || pg_catalog.format_type(t.typbasetype, t.typtypmod)
            WHEN 'c' THEN 'composite' WHEN 'r' THEN 'range' ELSE 'type' END,
       (SELECT pg_catalog.string_agg(pg_catalog.quote_literal(e.enumlabel), ', '
                                     ORDER BY e.enumsortorder)
        FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid)
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_type at ON at.oid = a.atttypid
JOIN pg_catalog.pg_type t ON t.oid = CASE WHEN at.typelem <> 0 AND at.typlen = -1
                                          AND at.typcategory = 'A' THEN at.typelem ELSE at.oid END
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
WHERE a.attrelid = ANY(%s) AND a.attnum > 0 AND NOT a.attisdropped
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
ORDER BY a.attrelid, a.attnum
"""

# What on an archived table would stop its column changing type: CHECK, exclusion and foreign
# key constraints on the column, indexes with an expression or predicate over it. A CHECK
# comparing an enum column with the enum's literals cannot be rebuilt over text.
_BLOCKING_CONSTRAINTS = """
SELECT c.conname FROM pg_catalog.pg_constraint c
WHERE c.conrelid = %s AND %s = ANY(c.conkey) AND c.contype IN ('c', 'x', 'f')
ORDER BY c.conname
"""
_BLOCKING_INDEXES = """
SELECT DISTINCT i.indexrelid FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
  AND d.objid = i.indexrelid AND d.refobjid = i.indrelid AND d.refobjsubid = %s
WHERE i.indrelid = %s AND (i.indexprs IS NOT NULL OR i.indpred IS NOT NULL)
  AND NOT EXISTS (SELECT FROM pg_catalog.pg_constraint k WHERE k.conindid = i.indexrelid)
"""


def untype_columns(conn: Connection, oids: Sequence[int]) -> list[str]:
    """Turn archived columns of non-built-in types into text (what the type was goes into the
    column's comment), so that the rollback can drop the type (or extension) it created with
    the table, and the archive keeps its data readable without it. Rewrites those tables."""
    done: list[str] = []
    rows = conn.execute(_FOREIGN_TYPED_COLUMNS, [list(oids)]).fetchall()
    for oid, column, attnum, type_sql, variety, labels in rows:
        table = _table(conn, int(oid))
        col = sql.Identifier(column)
        for (conname,) in conn.execute(_BLOCKING_CONSTRAINTS, [oid, attnum]).fetchall():
            conn.execute(
                sql.SQL("ALTER TABLE {} DROP CONSTRAINT IF EXISTS {}").format(
                    table, sql.Identifier(conname)
                )
            )
        for (index,) in conn.execute(_BLOCKING_INDEXES, [attnum, oid]).fetchall():
            conn.execute(sql.SQL("DROP INDEX IF EXISTS {}").format(_table(conn, int(index))))
        conn.execute(
            sql.SQL("ALTER TABLE {} ALTER COLUMN {} TYPE text USING {}::text").format(
                table, col, col
            )
        )
        what = f"{type_sql} ({variety}" + (f": {labels})" if labels else ")")
        conn.execute(
            sql.SQL("COMMENT ON COLUMN {}.{} IS {}").format(
                table,
                col,
                sql.Literal(
                    f"was {what}; stored as text by migration-rollback so that the archive "
                    "does not depend on the type"
                ),
            )
        )
        done.append(f"archived column {table.as_string(conn)}.{column} of type {what} kept as text")
    return done
