"""One registry of the kinds of database object: what each is called, how it is dropped and
granted, whether dropping it loses data, and where it comes when a schema is built up.

Classification, inversion and the verifier's writers each asked these questions of their own
dictionary, and the dictionaries drifted (one knew foreign tables hold rows, another did not).
A kind is named as `ObjectRef.kind` spells it; statements name it by pglast's `ObjectType`.
"""

from __future__ import annotations

from dataclasses import dataclass

from pglast.enums.parsenodes import ObjectType as OT

from migration_rollback.sql.model import LockLevel


@dataclass(frozen=True, slots=True)
class ObjectKind:
    """What the engine knows of one kind of object."""

    name: str  # as ObjectRef.kind spells it: "materialized view"
    keyword: str  # as SQL spells it: "MATERIALIZED VIEW"
    object_type: OT | None = None  # how DROP, RENAME, OWNER and COMMENT name it
    # The table lock its DROP takes (without CASCADE). Routines, types, schemas and the
    # like take a lock on the object itself only, no table lock.
    drop_lock: LockLevel = LockLevel.ACCESS_EXCLUSIVE
    # It holds rows (a sequence's position counts: ids would be reused): its DROP is
    # reported as destroying data, and its undo needs the backup.
    holds_data: bool = False
    # Its rows live on another server: its DROP loses the definition only, which an earlier
    # migration's text brings back (a foreign table).
    rows_elsewhere: bool = False
    # It holds tables: its DROP … CASCADE takes their rows with it (without CASCADE it only
    # drops when empty).
    contains_tables: bool = False
    # A relation: renamed, moved and altered as `ALTER <keyword> <schema.name>`.
    relation: bool = False
    schemaless: bool = False  # named without a schema: `DROP EXTENSION x`
    on_table: bool = False  # named on its table: `DROP TRIGGER t ON s.tbl`
    # Where it comes when a schema is built up from nothing (lower first); None: not ranked.
    creation_order: int | None = None
    grant_keyword: str | None = None  # `GRANT … ON <grant_keyword> x`; None: not granted so
    default_acl: str | None = None  # pg_default_acl.defaclobjtype of its default privileges

    def drop_loses_rows(self, *, cascade: bool) -> bool:
        """Whether dropping it loses rows a backup must bring back."""
        return self.holds_data or (cascade and self.contains_tables)

    def drop_note(self) -> str | None:
        """What its DROP does to data, for a reviewer."""
        if self.holds_data:
            return f"drops a {self.name} and the data in it"
        if self.rows_elsewhere:
            return f"drops the {self.name}'s definition only; its rows stay on the remote server"
        return None


_NO_LOCK = LockLevel.NONE

KINDS: dict[str, ObjectKind] = {
    k.name: k
    for k in (
        ObjectKind("schema", "SCHEMA", OT.OBJECT_SCHEMA, _NO_LOCK, contains_tables=True,
                   schemaless=True, creation_order=0, grant_keyword="SCHEMA", default_acl="n"),
        ObjectKind("extension", "EXTENSION", OT.OBJECT_EXTENSION, _NO_LOCK, schemaless=True,
                   creation_order=1),
        ObjectKind("type", "TYPE", OT.OBJECT_TYPE, _NO_LOCK, creation_order=2,
                   grant_keyword="TYPE", default_acl="T"),
        ObjectKind("domain", "DOMAIN", OT.OBJECT_DOMAIN, _NO_LOCK),
        ObjectKind("sequence", "SEQUENCE", OT.OBJECT_SEQUENCE, holds_data=True, relation=True,
                   creation_order=3, grant_keyword="SEQUENCE", default_acl="S"),
        ObjectKind("function", "FUNCTION", OT.OBJECT_FUNCTION, _NO_LOCK, creation_order=4,
                   grant_keyword="FUNCTION", default_acl="f"),
        ObjectKind("procedure", "PROCEDURE", OT.OBJECT_PROCEDURE, _NO_LOCK, creation_order=5,
                   grant_keyword="PROCEDURE", default_acl="f"),
        ObjectKind("aggregate", "AGGREGATE", OT.OBJECT_AGGREGATE, _NO_LOCK, creation_order=6,
                   grant_keyword="FUNCTION", default_acl="f"),
        ObjectKind("table", "TABLE", OT.OBJECT_TABLE, holds_data=True, relation=True,
                   creation_order=7, grant_keyword="TABLE", default_acl="r"),
        ObjectKind("column", "COLUMN", OT.OBJECT_COLUMN, creation_order=8),
        ObjectKind("constraint", "CONSTRAINT", OT.OBJECT_TABCONSTRAINT, creation_order=9),
        ObjectKind("index", "INDEX", OT.OBJECT_INDEX, relation=True, creation_order=10),
        ObjectKind("view", "VIEW", OT.OBJECT_VIEW, relation=True, creation_order=11,
                   grant_keyword="TABLE", default_acl="r"),
        ObjectKind("materialized view", "MATERIALIZED VIEW", OT.OBJECT_MATVIEW, relation=True,
                   creation_order=12, grant_keyword="TABLE", default_acl="r"),
        ObjectKind("trigger", "TRIGGER", OT.OBJECT_TRIGGER, on_table=True, creation_order=13),
        ObjectKind("policy", "POLICY", OT.OBJECT_POLICY, on_table=True, creation_order=14),
        ObjectKind("rule", "RULE", OT.OBJECT_RULE, on_table=True, creation_order=15),
        ObjectKind("publication", "PUBLICATION", OT.OBJECT_PUBLICATION, _NO_LOCK,
                   schemaless=True, creation_order=16),
        ObjectKind("publication table", "PUBLICATION TABLE", creation_order=17),
        ObjectKind("foreign table", "FOREIGN TABLE", OT.OBJECT_FOREIGN_TABLE, rows_elsewhere=True,
                   relation=True, grant_keyword="TABLE", default_acl="r"),
        ObjectKind("role", "ROLE", OT.OBJECT_ROLE, _NO_LOCK, schemaless=True),
        ObjectKind("server", "SERVER", OT.OBJECT_FOREIGN_SERVER, _NO_LOCK, schemaless=True),
        ObjectKind("foreign data wrapper", "FOREIGN DATA WRAPPER", OT.OBJECT_FDW, _NO_LOCK,
                   schemaless=True),
        ObjectKind("event trigger", "EVENT TRIGGER", OT.OBJECT_EVENT_TRIGGER, _NO_LOCK,
                   schemaless=True),
    )
}  # fmt: skip

BY_TYPE: dict[OT, ObjectKind] = {k.object_type: k for k in KINDS.values() if k.object_type}

TABLE = KINDS["table"]

# The object types of relations, as RENAME and SET SCHEMA name them.
RELATION_TYPES = tuple(k.object_type for k in KINDS.values() if k.relation and k.object_type)


def of_type(object_type: OT) -> ObjectKind | None:
    """The kind a statement names by `ObjectType`; None for one the registry does not hold."""
    return BY_TYPE.get(object_type)


def relation_of_type(object_type: OT) -> ObjectKind:
    """The relation an `ALTER <TABLE|VIEW|…>` acts on; a table unless it says otherwise."""
    found = BY_TYPE.get(object_type)
    return found if found is not None and found.relation else TABLE


def names_a_relation(name: str) -> bool:
    """Whether an `ObjectRef` of this kind names a relation (a column's names its table)."""
    found = KINDS.get(name)
    return name == "column" or (found is not None and found.relation)


def lives_on_a_table(name: str) -> bool:
    """Whether an object of this kind is named on its table (`ObjectRef.table`)."""
    found = KINDS.get(name)
    return name == "constraint" or (found is not None and found.on_table)


def creation_rank(name: str) -> int:
    """Where a kind comes when a schema is built up; unranked kinds come last."""
    found = KINDS.get(name)
    last = 1 + max(k.creation_order for k in KINDS.values() if k.creation_order is not None)
    return found.creation_order if found and found.creation_order is not None else last
