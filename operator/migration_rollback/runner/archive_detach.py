"""What a DROP TABLE would have taken from the live schema along with the table it archives.

Archiving moves the table instead of dropping it, so the objects the DROP would have removed
are removed here, each with a note for the result: foreign keys to the table (CASCADE) and from
it, dependent views (CASCADE), triggers, policies, column defaults and publication membership.
What still depends on an archived table afterwards is listed, not removed.
"""

from __future__ import annotations

from collections.abc import Iterator

from psycopg import sql

from migration_rollback.runner.relations import name_if_exists, relation_name
from migration_rollback.runner.session import Connection

# A statement that detaches an archived table, and its note for the result ("": none).
_Detach = tuple[sql.Composed, str]


def drop_inbound_foreign_keys(conn: Connection, members: list[int]) -> list[str]:
    rows = conn.execute(
        """
        SELECT k.conrelid, k.conname, k.confrelid FROM pg_constraint k
        WHERE k.contype = 'f' AND k.confrelid = ANY(%s) AND NOT k.conrelid = ANY(%s)
          AND k.conparentid = 0
        ORDER BY k.conrelid, k.conname
        """,
        [members, members],
    ).fetchall()
    done: list[str] = []
    for conrelid, conname, confrelid in rows:
        table = relation_name(conn, int(conrelid))
        conn.execute(
            sql.SQL("ALTER TABLE {} DROP CONSTRAINT IF EXISTS {}").format(
                sql.Identifier(*table), sql.Identifier(conname)
            )
        )
        target = ".".join(relation_name(conn, int(confrelid)))
        done.append(
            f"dropped foreign key {conname} on {'.'.join(table)} (it referenced {target}; "
            "CASCADE would have dropped it)"
        )
    return done


def drop_dependent_views(conn: Connection, members: list[int]) -> list[str]:
    rows = conn.execute(
        """
        SELECT DISTINCT v.oid, v.relkind FROM pg_depend d
        JOIN pg_rewrite r ON r.oid = d.objid
        JOIN pg_class v ON v.oid = r.ev_class
        WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
          AND d.refobjid = ANY(%s) AND NOT v.oid = ANY(%s)
        ORDER BY v.oid
        """,
        [members, members],
    ).fetchall()
    done: list[str] = []
    for oid, relkind in rows:
        name = name_if_exists(conn, int(oid))
        if name is None:
            continue  # already gone with an earlier view's CASCADE
        kind = "MATERIALIZED VIEW" if relkind == "m" else "VIEW"
        conn.execute(
            sql.SQL("DROP {} IF EXISTS {} CASCADE").format(sql.SQL(kind), sql.Identifier(*name))
        )
        done.append(f"dropped {kind.lower()} {'.'.join(name)} (CASCADE; it read an archived table)")
    return done


# Objects that live on a table and would go with it: (keyword, query for (table oid, name)).
_ON_TABLE_OBJECTS = (
    (
        "TRIGGER",
        "SELECT tgrelid, tgname FROM pg_trigger WHERE tgrelid = ANY(%s) AND NOT tgisinternal "
        "AND tgparentid = 0 ORDER BY tgrelid, tgname",
    ),
    ("POLICY", "SELECT polrelid, polname FROM pg_policy WHERE polrelid = ANY(%s) ORDER BY 1, 2"),
)


def detach_from_live_schema(conn: Connection, members: list[int]) -> list[str]:
    """Remove what ties the archived data to live objects, as the DROP would have."""
    statements = [
        *_outbound_foreign_keys(conn, members),
        *_on_table_objects(conn, members),
        *_column_defaults(conn, members),
        *_publication_memberships(conn, members),
    ]
    done: list[str] = []
    for statement, note in statements:
        conn.execute(statement)
        if note:
            done.append(note)
    return done


def _outbound_foreign_keys(conn: Connection, members: list[int]) -> Iterator[_Detach]:
    for oid, conname, target in conn.execute(
        """
        SELECT k.conrelid, k.conname, k.confrelid FROM pg_constraint k
        WHERE k.contype = 'f' AND k.conrelid = ANY(%s) AND NOT k.confrelid = ANY(%s)
          AND k.conparentid = 0
        """,
        [members, members],
    ).fetchall():
        table = relation_name(conn, int(oid))
        yield (
            sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                sql.Identifier(*table), sql.Identifier(conname)
            ),
            f"dropped foreign key {conname} of archived {'.'.join(table)} "
            f"(to {'.'.join(relation_name(conn, int(target)))})",
        )


def _on_table_objects(conn: Connection, members: list[int]) -> Iterator[_Detach]:
    for keyword, query in _ON_TABLE_OBJECTS:
        for oid, name in conn.execute(query, [members]).fetchall():
            table = relation_name(conn, int(oid))
            yield (
                sql.SQL("DROP {} {} ON {}").format(
                    sql.SQL(keyword), sql.Identifier(name), sql.Identifier(*table)
                ),
                f"dropped {keyword.lower()} {name} of archived {'.'.join(table)}",
            )


def _column_defaults(conn: Connection, members: list[int]) -> Iterator[_Detach]:
    for oid, attname in conn.execute(
        """
        SELECT d.adrelid, a.attname FROM pg_attrdef d
        JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
        WHERE d.adrelid = ANY(%s) AND a.attgenerated = '' ORDER BY 1, a.attnum
        """,
        [members],
    ).fetchall():
        table = relation_name(conn, int(oid))
        yield (
            sql.SQL("ALTER TABLE {} ALTER COLUMN {} DROP DEFAULT").format(
                sql.Identifier(*table), sql.Identifier(attname)
            ),
            "",  # defaults go silently: they only name functions and sequences
        )


def _publication_memberships(conn: Connection, members: list[int]) -> Iterator[_Detach]:
    for pubname, oid in conn.execute(
        "SELECT p.pubname, r.prrelid FROM pg_publication_rel r "
        "JOIN pg_publication p ON p.oid = r.prpubid WHERE r.prrelid = ANY(%s) ORDER BY 1, 2",
        [members],
    ).fetchall():
        table = relation_name(conn, int(oid))
        yield (
            sql.SQL("ALTER PUBLICATION {} DROP TABLE {}").format(
                sql.Identifier(pubname), sql.Identifier(*table)
            ),
            f"removed archived {'.'.join(table)} from publication {pubname}",
        )


def remaining_dependents(conn: Connection, members: list[int]) -> list[str]:
    """Objects outside the archive still depending on an archived table (or its row type)."""
    rows = conn.execute(
        """
        SELECT DISTINCT pg_describe_object(d.classid, d.objid, d.objsubid)
        FROM pg_depend d
        WHERE d.deptype = 'n'
          AND ((d.refclassid = 'pg_class'::regclass AND d.refobjid = ANY(%(m)s))
               OR (d.refclassid = 'pg_type'::regclass
                   AND d.refobjid IN (SELECT reltype FROM pg_class WHERE oid = ANY(%(m)s))))
          AND NOT (d.classid = 'pg_class'::regclass AND d.objid = ANY(%(m)s))
          AND NOT (d.classid = 'pg_constraint'::regclass
                   AND d.objid IN (SELECT oid FROM pg_constraint WHERE conrelid = ANY(%(m)s)))
          AND NOT (d.classid = 'pg_type'::regclass
                   AND d.objid IN (SELECT reltype FROM pg_class WHERE oid = ANY(%(m)s)))
        ORDER BY 1
        """,
        {"m": members},
    ).fetchall()
    return [str(r[0]) for r in rows]
