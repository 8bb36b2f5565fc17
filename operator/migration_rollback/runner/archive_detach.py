"""What a DROP TABLE would have taken from the live schema along with the table it archives.

Archiving moves the table instead of dropping it, so the objects the DROP would have removed
are removed here, each with a note for the result: foreign keys to the table (CASCADE) and from
it, dependent views (CASCADE), triggers, policies, column defaults and publication membership.
What still depends on an archived table afterwards is listed, not removed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from psycopg import sql

from migration_rollback.runner import prepared
from migration_rollback.runner.relations import name_if_exists, relation_name
from migration_rollback.runner.session import Connection
from migration_rollback.runner.trip import Fetched, Trip, trip

# A statement that detaches an archived table (None: nothing to run, only to say), and its note
# for the result ("": none).
_Detach = tuple[sql.Composed | None, str]


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


# Each read names what it detaches (schema, table first), so that the reads of all kinds go in
# one round trip and the detaching statements in another, whatever the number of objects.
_OF = "JOIN pg_class c ON c.oid = {0} JOIN pg_namespace n ON n.oid = c.relnamespace"

# Parents outside the DROP: dropping a partition or an inheritance child alone takes it out of
# its parent's tree; moved as it is, it would stay there (its rows still read through the live
# parent) and its inherited columns could not change type (archive_inert.py).
_PARENTS = f"""
SELECT n.nspname, c.relname, pn.nspname, p.relname, p.relkind FROM pg_inherits i
{_OF.format("i.inhrelid")}
JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = p.relnamespace
WHERE i.inhrelid = ANY(%(m)s) AND NOT i.inhparent = ANY(%(m)s)
ORDER BY i.inhrelid, i.inhseqno
"""
# A key cloned from a parent outside the DROP becomes the table's own once it is detached
# (it runs first, _PARENTS): it must go too, or the archived rows hold live rows in place.
_OUTBOUND_FOREIGN_KEYS = f"""
SELECT n.nspname, c.relname, k.conname, fn.nspname || '.' || f.relname FROM pg_constraint k
{_OF.format("k.conrelid")}
JOIN pg_class f ON f.oid = k.confrelid JOIN pg_namespace fn ON fn.oid = f.relnamespace
WHERE k.contype = 'f' AND k.conrelid = ANY(%(m)s) AND NOT k.confrelid = ANY(%(m)s)
  AND (k.conparentid = 0 OR NOT EXISTS (
    SELECT 1 FROM pg_constraint pk WHERE pk.oid = k.conparentid AND pk.conrelid = ANY(%(m)s)))
ORDER BY k.conrelid, k.conname
"""
_TRIGGERS = f"""
SELECT n.nspname, c.relname, t.tgname FROM pg_trigger t {_OF.format("t.tgrelid")}
WHERE t.tgrelid = ANY(%(m)s) AND NOT t.tgisinternal AND t.tgparentid = 0
ORDER BY t.tgrelid, t.tgname
"""
_POLICIES = f"""
SELECT n.nspname, c.relname, p.polname FROM pg_policy p {_OF.format("p.polrelid")}
WHERE p.polrelid = ANY(%(m)s) ORDER BY p.polrelid, p.polname
"""
_COLUMN_DEFAULTS = f"""
SELECT n.nspname, c.relname, a.attname FROM pg_attrdef d {_OF.format("d.adrelid")}
JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
WHERE d.adrelid = ANY(%(m)s) AND a.attgenerated = '' ORDER BY d.adrelid, a.attnum
"""
_PUBLICATIONS = f"""
SELECT n.nspname, c.relname, p.pubname FROM pg_publication_rel r {_OF.format("r.prrelid")}
JOIN pg_publication p ON p.oid = r.prpubid
WHERE r.prrelid = ANY(%(m)s) ORDER BY p.pubname, r.prrelid
"""
# Publications that take the table without naming it (FOR ALL TABLES, FOR TABLES IN SCHEMA):
# pg_publication_tables answers on every major (pg_publication_namespace is 15+). Planning a
# query over that view costs some 4 ms, so it is sent only when such a publication exists.
_WHOLESALE_PUBLICATIONS = """
SELECT n.nspname, c.relname, p.pubname, CASE WHEN p.puballtables THEN 'all' ELSE 'schema' END
FROM pg_publication_tables pt
JOIN pg_publication p ON p.pubname = pt.pubname
JOIN pg_namespace n ON n.nspname = pt.schemaname
JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = pt.tablename
WHERE c.oid = ANY(%(m)s)
  AND NOT EXISTS (SELECT 1 FROM pg_publication_rel r WHERE r.prpubid = p.oid AND r.prrelid = c.oid)
ORDER BY p.pubname, c.oid
"""


def _from_parent(schema: str, table: str, parent_schema: str, parent: str, kind: str) -> _Detach:
    child, owner = sql.Identifier(schema, table), sql.Identifier(parent_schema, parent)
    statement = (
        sql.SQL("ALTER TABLE {} DETACH PARTITION {}").format(owner, child)
        if kind == "p"
        else sql.SQL("ALTER TABLE {} NO INHERIT {}").format(child, owner)
    )
    how = "partition" if kind == "p" else "inheritance child"
    return statement, (
        f"detached archived {schema}.{table} from {parent_schema}.{parent} (a {how}: the DROP "
        "would have removed it from there)"
    )


def _outbound_foreign_key(schema: str, table: str, conname: str, target: str) -> _Detach:
    return (
        sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
            sql.Identifier(schema, table), sql.Identifier(conname)
        ),
        f"dropped foreign key {conname} of archived {schema}.{table} (to {target})",
    )


def _on_table(keyword: str) -> Callable[[str, str, str], _Detach]:
    def detach(schema: str, table: str, name: str) -> _Detach:
        return (
            sql.SQL("DROP {} {} ON {}").format(
                sql.SQL(keyword), sql.Identifier(name), sql.Identifier(schema, table)
            ),
            f"dropped {keyword.lower()} {name} of archived {schema}.{table}",
        )

    return detach


def _column_default(schema: str, table: str, column: str) -> _Detach:
    return (
        sql.SQL("ALTER TABLE {} ALTER COLUMN {} DROP DEFAULT").format(
            sql.Identifier(schema, table), sql.Identifier(column)
        ),
        "",  # defaults go silently: they only name functions and sequences
    )


def _publication(schema: str, table: str, pubname: str) -> _Detach:
    return (
        sql.SQL("ALTER PUBLICATION {} DROP TABLE {}").format(
            sql.Identifier(pubname), sql.Identifier(schema, table)
        ),
        f"removed archived {schema}.{table} from publication {pubname}",
    )


def _wholesale_publication(schema: str, table: str, pubname: str, how: str) -> _Detach:
    """Nothing to run: the move itself takes it out of a schema's publication, and no
    statement takes one table out of FOR ALL TABLES."""
    if how == "all":
        return None, (
            f"archived {schema}.{table} stays in publication {pubname} (FOR ALL TABLES: every "
            "table is published, the archive's too)"
        )
    return None, (
        f"removed archived {schema}.{table} from publication {pubname} (it publishes schema "
        f"{schema}, not the archive)"
    )


# What a DROP TABLE takes with the table, in the order it is detached.
_MEMBERS = ("m", "oid[]")
_DETACHES: tuple[tuple[prepared.Read, Callable[..., _Detach]], ...] = (
    (prepared.read(_PARENTS, _MEMBERS), _from_parent),
    (prepared.read(_OUTBOUND_FOREIGN_KEYS, _MEMBERS), _outbound_foreign_key),
    (prepared.read(_TRIGGERS, _MEMBERS), _on_table("TRIGGER")),
    (prepared.read(_POLICIES, _MEMBERS), _on_table("POLICY")),
    (prepared.read(_COLUMN_DEFAULTS, _MEMBERS), _column_default),
    (prepared.read(_PUBLICATIONS, _MEMBERS), _publication),
    (prepared.read(_WHOLESALE_PUBLICATIONS, _MEMBERS), _wholesale_publication),
)
_WHOLESALE = _DETACHES[-1]

_SCHEMA_PUBLICATIONS_FROM = 150000  # pg_publication_namespace: FOR TABLES IN SCHEMA, 15+


def wholesale_publications_query(conn: Connection) -> str:
    """Whether any publication takes tables without naming them: one cheap read, for the
    caller to send with others and pass its answer to `detach_from_live_schema`."""
    query = "SELECT EXISTS (SELECT FROM pg_catalog.pg_publication WHERE puballtables)"
    if conn.info.server_version >= _SCHEMA_PUBLICATIONS_FROM:
        query += " OR EXISTS (SELECT FROM pg_catalog.pg_publication_namespace)"
    return query


@dataclass
class PendingDetach:
    """The detach's reads, sent in the caller's round trip; `finish` runs what they found."""

    read: list[tuple[Callable[..., _Detach], Fetched]]

    def planned(self) -> tuple[list[sql.Composed], list[str]]:
        """The detaching statements, in order, and the notes for the result."""
        found = [make(*map(str, row)) for make, cursor in self.read for row in cursor.fetchall()]
        return [s for s, _ in found if s is not None], [note for _, note in found if note]

    def finish(self, conn: Connection) -> list[str]:
        """Every detaching statement in one round trip; the notes for the result."""
        statements, notes = self.planned()
        with trip(conn) as sent:
            for statement in statements:
                sent.execute(statement)
        return notes


def queue_detach_reads(sent: Trip, members: list[int], *, wholesale: bool = True) -> PendingDetach:
    """In the caller's trip: the reads of what ties the archived data to live objects.
    `wholesale`: whether a publication may take them unnamed (see
    `wholesale_publications_query`; False skips that read)."""
    reads = [d for d in _DETACHES if wholesale or d is not _WHOLESALE]
    return PendingDetach(
        [(make, prepared.execute(sent, query, {"m": members})) for query, make in reads]
    )


def detach_from_live_schema(
    conn: Connection, members: list[int], *, wholesale: bool = True
) -> list[str]:
    """Remove what ties the archived data to live objects, as the DROP would have."""
    with trip(conn) as sent:  # every read in one round trip
        pending = queue_detach_reads(sent, members, wholesale=wholesale)
    return pending.finish(conn)


# Objects outside the archive still depending on an archived table (or its row type). The row
# types are an array (computed once) so that both ways in are probes of pg_depend's reference
# index: `IN (SELECT ...)` under the OR read every dependency on any type (0.4-1 ms a call).
_REMAINING_DEPENDENTS_SQL = """
SELECT DISTINCT pg_describe_object(d.classid, d.objid, d.objsubid)
FROM pg_depend d
WHERE d.deptype = 'n'
  AND ((d.refclassid = 'pg_class'::regclass AND d.refobjid = ANY(%(m)s))
       OR (d.refclassid = 'pg_type'::regclass
           AND d.refobjid = ANY(ARRAY(SELECT reltype FROM pg_class WHERE oid = ANY(%(m)s)))))
  AND NOT (d.classid = 'pg_class'::regclass AND d.objid = ANY(%(m)s))
  AND NOT (d.classid = 'pg_constraint'::regclass
           AND d.objid IN (SELECT oid FROM pg_constraint WHERE conrelid = ANY(%(m)s)))
  AND NOT (d.classid = 'pg_type'::regclass
           AND d.objid IN (SELECT reltype FROM pg_class WHERE oid = ANY(%(m)s)))
ORDER BY 1
"""
_REMAINING_DEPENDENTS = prepared.read(_REMAINING_DEPENDENTS_SQL, _MEMBERS)


def queue_remaining_dependents(sent: Trip, members: list[int]) -> Fetched:
    """In the caller's trip: the read of `remaining_dependents` (then `dependents`)."""
    return prepared.execute(sent, _REMAINING_DEPENDENTS, {"m": members})


def dependents(cursor: Fetched) -> list[str]:
    return [str(r[0]) for r in cursor.fetchall()]


def remaining_dependents(conn: Connection, members: list[int]) -> list[str]:
    """Objects outside the archive still depending on an archived table (or its row type)."""
    with trip(conn) as sent:
        read = queue_remaining_dependents(sent, members)
    return dependents(read)
