"""State-aware rollbacks: fill the MANUAL steps that need the schema as it was before.

The static generator (`migration_rollback.sql`) cannot know a column's previous type, a
function's previous body or the definition of an index a migration dropped: it marks those
steps MANUAL. The shadow replay knows them: the model of the schema before the migration. This
module writes the missing SQL from that model (pure: no database; the round trip then proves
it):

- PRIOR_COLUMN_TYPE / _DEFAULT / PRIOR_NOT_NULL: the column's previous type (`ALTER COLUMN ...
  TYPE <old> USING col::<old>`), default, nullability; nothing when the column is new;
- PRIOR_DEFINITION: the previous function (pg_get_functiondef), view (pg_get_viewdef), trigger,
  policy, comment or publication table list; a DROP when the object did not exist before;
- RECREATE_DROPPED: the dropped index, constraint, policy, trigger, function, view, rule, type,
  sequence, schema, extension or publication, recreated from its definition; a dropped table or
  column is recreated structurally (columns, types, defaults, identity, constraints, indexes,
  RLS, policies, triggers, grants, comments) but its rows are gone: flagged as data loss;
- ENUM_VALUE: the enum recreated without the added value (rename, create, convert every column
  through text, drop): flagged, it rewrites those tables.

`repair` writes SQL for the differences a round trip found (objects a CASCADE took with it,
objects a DO block created...), so `generate --verify` can converge on a verified rollback.
Every statement emitted re-parses with pglast (the generator's safety belt).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from migration_rollback.errors import UnsafeOutputError
from migration_rollback.sql import (
    MANUAL_PREFIX,
    NON_TRANSACTIONAL_MARK,
    ManualItem,
    ManualNeed,
    ObjectRef,
    RollbackPlan,
    RollbackStep,
    checked_statement,
    classify,
)
from migration_rollback.verify.diff import EXISTS, Difference
from migration_rollback.verify.snapshot import (
    Grant,
    ObjectId,
    Snapshot,
    SnapshotObject,
    quote_ident,
)

_RELATION_KEYWORD = {
    "table": "TABLE",
    "view": "VIEW",
    "materialized view": "MATERIALIZED VIEW",
    "sequence": "SEQUENCE",
    "foreign table": "FOREIGN TABLE",
}
_GRANT_KEYWORD = {
    "table": "TABLE",
    "view": "TABLE",
    "materialized view": "TABLE",
    "foreign table": "TABLE",
    "sequence": "SEQUENCE",
    "function": "FUNCTION",
    "procedure": "PROCEDURE",
    "aggregate": "FUNCTION",
    "schema": "SCHEMA",
    "type": "TYPE",
}
_TYPE_ALIASES = {
    "int": "integer",
    "int4": "integer",
    "int8": "bigint",
    "int2": "smallint",
    "float8": "double precision",
    "float4": "real",
    "bool": "boolean",
    "varchar": "character varying",
    "char": "character",
    "bpchar": "character",
    "timestamptz": "timestamp with time zone",
    "timestamp": "timestamp without time zone",
    "timetz": "time with time zone",
    "time": "time without time zone",
    "decimal": "numeric",
}


_TABLE_PRIVILEGES = "DELETE,INSERT,REFERENCES,SELECT,TRIGGER,TRUNCATE,UPDATE"
_BASE_PRIVILEGES: dict[str, Any] = {
    "table": lambda owner: (f"{owner}={_TABLE_PRIVILEGES}",),
    "view": lambda owner: (f"{owner}={_TABLE_PRIVILEGES}",),
    "materialized view": lambda owner: (f"{owner}={_TABLE_PRIVILEGES}",),
    "foreign table": lambda owner: (f"{owner}={_TABLE_PRIVILEGES}",),
    "sequence": lambda owner: (f"{owner}=SELECT,UPDATE,USAGE",),
    "function": lambda owner: ("PUBLIC=EXECUTE", f"{owner}=EXECUTE"),
    "procedure": lambda owner: ("PUBLIC=EXECUTE", f"{owner}=EXECUTE"),
    "aggregate": lambda owner: ("PUBLIC=EXECUTE", f"{owner}=EXECUTE"),
    "type": lambda owner: ("PUBLIC=USAGE", f"{owner}=USAGE"),
    "schema": lambda owner: (f"{owner}=CREATE,USAGE",),
}
_DEFAULT_ACL_TYPE = {
    "table": "r",
    "view": "r",
    "materialized view": "r",
    "foreign table": "r",
    "sequence": "S",
    "function": "f",
    "procedure": "f",
    "aggregate": "f",
    "type": "T",
    "schema": "n",
}

_DROPPABLE = frozenset(
    {"function", "procedure", "aggregate", "index", "view", "materialized view", "table",
     "sequence", "schema", "extension", "publication", "event trigger"}
)  # fmt: skip


def literal(text: str) -> str:
    """A SQL string literal (standard_conforming_strings)."""
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class Filled:
    """A MANUAL step the before-state answered."""

    location: str
    need: str
    target: str
    statements: tuple[str, ...]
    note: str

    def to_json(self) -> dict[str, Any]:
        return {
            "location": self.location,
            "need": self.need,
            "target": self.target,
            "sql": list(self.statements),
            "note": self.note,
        }


@dataclass(frozen=True)
class StillManual:
    location: str
    need: str
    reason: str

    def __str__(self) -> str:
        return f"{self.location}: {self.need}: {self.reason}"


@dataclass
class StatefulResult:
    """The rollback body with the state-aware SQL in place, and what could not be filled."""

    sql_body: str
    filled: list[Filled] = field(default_factory=list)
    still_manual: list[StillManual] = field(default_factory=list)
    data_loss: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class _Unknown(Exception):
    """The before-state does not hold what this step needs."""


@dataclass
class _Gen:
    """Writes SQL from the before-state (and, when known, the state after the forward)."""

    before: Snapshot
    after: Snapshot | None
    creator: str | None  # the role the rollback runs as (owners equal to it are not restated)
    data_loss: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    # --- lookups ---------------------------------------------------------------------------

    def find(self, ref: ObjectRef, state: Snapshot | None = None) -> SnapshotObject | None:
        snap = state if state is not None else self.before
        schema = ref.schema or "public"
        if ref.kind == "column":
            table = f"{quote_ident(schema)}.{quote_ident(ref.name)}"
            return snap.get("column", f"{table}.{quote_ident(ref.column or '')}")
        if ref.table is not None:
            table = f"{quote_ident(schema)}.{quote_ident(ref.table)}"
            kind = "constraint" if ref.kind == "constraint" else ref.kind
            return snap.get(kind, f"{table}.{quote_ident(ref.name)}")
        name = f"{quote_ident(schema)}.{quote_ident(ref.name)}"
        if ref.kind in ("function", "procedure", "aggregate", "routine"):
            return self._function(snap, schema, ref.name, ref.args)
        if ref.kind in ("table", "view", "materialized view", "sequence", "foreign table"):
            return snap.get(ref.kind, name) or snap.relation(name)
        if ref.kind in ("type", "domain", "enum"):
            return snap.get("type", name)
        if ref.kind in ("schema", "extension", "publication", "event trigger"):
            return snap.get(ref.kind, quote_ident(ref.name))
        if ref.kind == "index":
            return snap.get("index", name)
        if ref.kind == "constraint":
            found = [
                o
                for o in snap.of_kind("constraint")
                if o.extra.get("schema") == schema and o.extra.get("name") == ref.name
            ]
            return found[0] if len(found) == 1 else None
        return snap.get(ref.kind, name)

    @staticmethod
    def _function(
        snap: Snapshot, schema: str, name: str, args: str | None
    ) -> SnapshotObject | None:
        found = [
            o
            for o in snap.of_kind("function", "procedure", "aggregate")
            if o.extra.get("schema") == schema and o.extra.get("name") == name
        ]
        if len(found) <= 1 or args is None:
            return found[0] if len(found) == 1 else None
        wanted = _normalize_args(args)
        for o in found:
            inside = o.id.name[o.id.name.index("(") + 1 : -1]
            if _normalize_args(inside) == wanted:
                return o
        return None

    # --- pieces ------------------------------------------------------------------------------

    def grant_target(self, obj: SnapshotObject) -> str:
        kind = obj.id.kind
        keyword = _GRANT_KEYWORD.get(kind)
        if keyword is None:
            raise _Unknown(f"privileges on {kind} are not restored")
        if kind == "type" and obj.get("variety") == "domain":
            keyword = "DOMAIN"
        return f"{keyword} {obj.id.name}"

    def privileges(
        self, obj: SnapshotObject, current: SnapshotObject | None = None, column: str | None = None
    ) -> list[str]:
        """GRANT/REVOKE so that the object's privileges are exactly the before-state's."""
        wanted = obj.strings("privileges")
        if current is not None and current.strings("privileges") == wanted:
            return []
        target = (
            self.grant_target(self._privilege_holder(obj)) if column else self.grant_target(obj)
        )
        cols = f" ({column})" if column else ""
        grantees = {Grant.parse(g).grantee for g in wanted}
        if current is not None:
            grantees |= {Grant.parse(g).grantee for g in current.strings("privileges")}
        else:
            grantees |= self._default_grantees(obj)
        grantees.add("PUBLIC")
        out = [f"REVOKE ALL{cols} ON {target} FROM {', '.join(sorted(grantees))}"]
        for text in wanted:
            grant = Grant.parse(text)
            if grant.grantor is not None:
                self.notes.append(
                    f"{obj.id}: privileges granted by {grant.grantor} are re-granted by the "
                    "role running the rollback"
                )
            plain = [p for p in grant.privileges if not p.endswith("*")]
            option = [p.rstrip("*") for p in grant.privileges if p.endswith("*")]
            for privs, suffix in ((plain, ""), (option, " WITH GRANT OPTION")):
                if privs:
                    listed = ", ".join(f"{p}{cols}" for p in privs)
                    out.append(f"GRANT {listed} ON {target} TO {grant.grantee}{suffix}")
        return out

    def _privilege_holder(self, column: SnapshotObject) -> SnapshotObject:
        if column.parent is None:
            raise _Unknown(f"{column.id} has no table")
        holder = self.before.objects.get(column.parent)
        if holder is None:
            raise _Unknown(f"{column.parent} is not in the schema before the migration")
        return holder

    def _default_grantees(self, obj: SnapshotObject) -> set[str]:
        """Roles default privileges may grant to on a newly created object."""
        out: set[str] = set()
        for entry in self.before.of_kind("default privileges"):
            out |= {Grant.parse(g).grantee for g in entry.strings("privileges")}
        return out

    def owner(self, obj: SnapshotObject, current: SnapshotObject | None = None) -> list[str]:
        owner = obj.text("owner")
        if owner is None:
            return []
        if current is not None:
            if current.text("owner") == owner:
                return []
        elif owner == self.creator:
            return []
        keyword = _RELATION_KEYWORD.get(obj.id.kind) or _GRANT_KEYWORD.get(obj.id.kind)
        if keyword is None:
            return []
        if obj.id.kind == "type" and obj.get("variety") == "domain":
            keyword = "DOMAIN"
        return [f"ALTER {keyword} {obj.id.name} OWNER TO {owner}"]

    def comment(self, obj: SnapshotObject, current: SnapshotObject | None = None) -> list[str]:
        text = obj.text("comment")
        if current is not None and current.text("comment") == text:
            return []
        if current is None and text is None:
            return []
        target = self.comment_target(obj)
        return [f"COMMENT ON {target} IS {literal(text) if text is not None else 'NULL'}"]

    def comment_target(self, obj: SnapshotObject) -> str:
        kind = obj.id.kind
        if kind in ("constraint", "trigger", "policy", "rule") and obj.parent is not None:
            name = obj.id.name[len(obj.parent.name) + 1 :]
            if kind == "constraint" and obj.parent.kind == "type":
                return f"CONSTRAINT {name} ON DOMAIN {obj.parent.name}"
            return f"{kind.upper()} {name} ON {obj.parent.name}"
        if kind == "column":
            return f"COLUMN {obj.id.name}"
        if kind == "type" and obj.get("variety") == "domain":
            return f"DOMAIN {obj.id.name}"
        keyword = {"aggregate": "AGGREGATE", "index": "INDEX"}.get(kind) or kind.upper()
        return f"{keyword} {obj.id.name}"

    # --- columns -------------------------------------------------------------------------------

    def column_definition(self, col: SnapshotObject, *, with_default: bool = True) -> str:
        name = col.id.name.rsplit(".", 1)[-1] if col.extra_text("column") is None else (
            quote_ident(str(col.extra_text("column")))
        )  # fmt: skip
        parts = [name, str(col.text("type"))]
        if col.text("collation"):
            parts.append(f"COLLATE {col.text('collation')}")
        if col.text("generated"):
            parts.append(f"GENERATED ALWAYS AS ({col.text('generated')}) STORED")
        elif col.text("identity"):
            parts.append(f"GENERATED {str(col.text('identity')).upper()} AS IDENTITY")
            options = self.identity_options(col)
            if options:
                parts.append(f"({options})")
        elif with_default and col.text("default"):
            parts.append(f"DEFAULT {col.text('default')}")
        if col.get("not null"):
            parts.append("NOT NULL")
        return " ".join(parts)

    def identity_options(self, col: SnapshotObject) -> str:
        for seq in self.before.of_kind("sequence"):
            if seq.text("owned by") == col.id.name and seq.extra.get("identity"):
                return " ".join(
                    [
                        f"SEQUENCE NAME {seq.id.name}",
                        f"START WITH {seq.get('start')}",
                        f"INCREMENT BY {seq.get('increment')}",
                        f"MINVALUE {seq.get('minimum')}",
                        f"MAXVALUE {seq.get('maximum')}",
                        f"CACHE {seq.get('cache')}",
                        "CYCLE" if seq.get("cycle") else "NO CYCLE",
                    ]
                )
        return ""

    def restore_column(self, ref: ObjectRef, what: str) -> list[str]:
        col = self.find(ref)
        if col is None:
            # Not there before the migration: the migration created it (a later step drops it).
            return []
        table = str(col.parent.name if col.parent else "")
        name = quote_ident(ref.column or "")
        prefix = f"ALTER TABLE {table} ALTER COLUMN {name}"
        old_type = str(col.text("type"))
        if what == "type":
            out = [f"{prefix} DROP DEFAULT"]
            collate = f" COLLATE {col.text('collation')}" if col.text("collation") else ""
            out.append(f"{prefix} TYPE {old_type}{collate} USING {name}::{old_type}")
            if col.text("default") and not col.text("identity") and not col.text("generated"):
                out.append(f"{prefix} SET DEFAULT {col.text('default')}")
            return out
        if what == "default":
            default = col.text("default")
            return [f"{prefix} SET DEFAULT {default}" if default else f"{prefix} DROP DEFAULT"]
        return [f"{prefix} {'SET' if col.get('not null') else 'DROP'} NOT NULL"]

    # --- objects -------------------------------------------------------------------------------

    def create(self, obj: SnapshotObject, *, current: SnapshotObject | None = None) -> list[str]:
        """SQL that makes `obj` exist as it was before (replacing `current` when given)."""
        kind = obj.id.kind
        maker = {
            "index": self._index,
            "constraint": self._constraint,
            "policy": self._policy,
            "trigger": self._trigger,
            "rule": self._rule,
            "function": self._function_sql,
            "procedure": self._function_sql,
            "view": self._view,
            "materialized view": self._view,
            "table": self._table,
            "column": self._column,
            "type": self._type,
            "sequence": self._sequence,
            "schema": self._schema,
            "extension": self._extension,
            "publication": self._publication,
            "publication table": self._publication_table,
            "default privileges": self._default_privileges,
        }.get(kind)
        if maker is None:
            raise _Unknown(f"recreating a {kind} is not supported")
        return maker(obj, current)

    def drop(self, obj: SnapshotObject) -> list[str]:
        """SQL that removes an object the before-state does not have."""
        kind = obj.id.kind
        name = obj.id.name
        if kind in ("constraint", "trigger", "policy", "rule") and obj.parent is not None:
            member = name[len(obj.parent.name) + 1 :]
            if kind == "constraint":
                keyword = "DOMAIN" if obj.parent.kind == "type" else "TABLE"
                return [f"ALTER {keyword} {obj.parent.name} DROP CONSTRAINT IF EXISTS {member}"]
            return [f"DROP {kind.upper()} IF EXISTS {member} ON {obj.parent.name}"]
        if kind == "column" and obj.parent is not None:
            column = name[len(obj.parent.name) + 1 :]
            keyword = _RELATION_KEYWORD.get(obj.parent.kind, "TABLE")
            return [f"ALTER {keyword} {obj.parent.name} DROP COLUMN IF EXISTS {column}"]
        if kind == "publication table":
            pub, _, table = name.partition(":")
            return [f"ALTER PUBLICATION {pub} DROP TABLE {table}"]
        if kind == "type":
            keyword = "DOMAIN" if obj.get("variety") == "domain" else "TYPE"
            return [f"DROP {keyword} IF EXISTS {name}"]
        if kind in _DROPPABLE:
            return [f"DROP {kind.upper()} IF EXISTS {name}"]
        raise _Unknown(f"dropping a {kind} is not supported")

    def expected_new_privileges(self, obj: SnapshotObject) -> tuple[str, ...] | None:
        """The privileges CREATE would give this object (run by the creator), if known."""
        kind = obj.id.kind
        owner = obj.text("owner")
        if owner is None or owner != (quote_ident(self.creator) if self.creator else None):
            return None
        base = _BASE_PRIVILEGES.get(kind)
        objtype = _DEFAULT_ACL_TYPE.get(kind)
        if base is None or objtype is None:
            return None
        schema = obj.extra_text("schema") if kind != "schema" else None
        merged: dict[str, set[str]] = {}
        entries = [
            e
            for e in self.before.of_kind("default privileges")
            if e.extra_text("role") == self.creator and e.extra_text("object type") == objtype
        ]
        global_entry = [e for e in entries if e.extra_text("schema") is None]
        start = global_entry[0].strings("privileges") if global_entry else base(owner)
        local = [e for e in entries if schema is not None and e.extra_text("schema") == schema]
        for text in [*start, *(g for e in local for g in e.strings("privileges"))]:
            grant = Grant.parse(text)
            if grant.grantor is not None:
                return None
            merged.setdefault(grant.grantee, set()).update(grant.privileges)
        return tuple(sorted(Grant(g, tuple(sorted(p))).render() for g, p in merged.items() if p))

    def _decorate(self, obj: SnapshotObject, current: SnapshotObject | None) -> list[str]:
        out: list[str] = []
        fresh_default = current is None and self.expected_new_privileges(obj) == obj.strings(
            "privileges"
        )
        if obj.id.kind in _GRANT_KEYWORD and "privileges" in obj.attrs and not fresh_default:
            out += self.privileges(obj, current)
        out += self.owner(obj, current)
        out += self.comment(obj, current)
        return out

    def _index(self, obj: SnapshotObject, current: SnapshotObject | None) -> list[str]:
        if obj.text("constraint"):
            return []  # the constraint creates it
        out = [f"DROP INDEX IF EXISTS {obj.id.name}"] if current is not None else []
        out.append(str(obj.text("definition")))
        table = obj.text("table")
        if obj.get("clustered") and table:
            out.append(f"ALTER TABLE {table} CLUSTER ON {obj.id.name.split('.', 1)[1]}")
        if obj.get("replica identity") and table:
            out.append(
                f"ALTER TABLE {table} REPLICA IDENTITY USING INDEX {obj.id.name.split('.', 1)[1]}"
            )
        return out + self.comment(obj)

    def _constraint(self, obj: SnapshotObject, current: SnapshotObject | None) -> list[str]:
        if obj.parent is None:
            raise _Unknown(f"{obj.id} has no table")
        name = obj.id.name[len(obj.parent.name) + 1 :]
        keyword = "DOMAIN" if obj.parent.kind == "type" else "TABLE"
        out = []
        if current is not None:
            out.append(f"ALTER {keyword} {obj.parent.name} DROP CONSTRAINT IF EXISTS {name}")
        out.append(
            f"ALTER {keyword} {obj.parent.name} ADD CONSTRAINT {name} {obj.text('definition')}"
        )
        return out + self.comment(obj)

    def _policy(self, obj: SnapshotObject, current: SnapshotObject | None) -> list[str]:
        if obj.parent is None:
            raise _Unknown(f"{obj.id} has no table")
        name = obj.id.name[len(obj.parent.name) + 1 :]
        sql = f"CREATE POLICY {name} ON {obj.parent.name}"
        sql += " AS PERMISSIVE" if obj.get("permissive") else " AS RESTRICTIVE"
        sql += f" FOR {obj.text('command')}"
        roles = obj.strings("roles")
        if roles:
            sql += f" TO {', '.join(roles)}"
        if obj.text("using"):
            sql += f" USING ({obj.text('using')})"
        if obj.text("with check"):
            sql += f" WITH CHECK ({obj.text('with check')})"
        return [f"DROP POLICY IF EXISTS {name} ON {obj.parent.name}", sql, *self.comment(obj)]

    def _trigger(self, obj: SnapshotObject, current: SnapshotObject | None) -> list[str]:
        if obj.parent is None:
            raise _Unknown(f"{obj.id} has no table")
        name = obj.id.name[len(obj.parent.name) + 1 :]
        out = [f"DROP TRIGGER IF EXISTS {name} ON {obj.parent.name}", str(obj.text("definition"))]
        state = obj.text("enabled")
        toggle = {"disabled": "DISABLE", "replica": "ENABLE REPLICA", "always": "ENABLE ALWAYS"}
        if state in toggle:
            out.append(f"ALTER TABLE {obj.parent.name} {toggle[state]} TRIGGER {name}")
        return out + self.comment(obj)

    def _rule(self, obj: SnapshotObject, current: SnapshotObject | None) -> list[str]:
        if obj.parent is None:
            raise _Unknown(f"{obj.id} has no table")
        name = obj.id.name[len(obj.parent.name) + 1 :]
        definition = str(obj.text("definition")).rstrip().rstrip(";")
        return [f"DROP RULE IF EXISTS {name} ON {obj.parent.name}", definition]

    def _function_sql(self, obj: SnapshotObject, current: SnapshotObject | None) -> list[str]:
        ddl = obj.extra_text("ddl")
        if not ddl:
            raise _Unknown(f"{obj.id} has no definition to restore")
        out: list[str] = []
        replaceable = current is None or (
            current.get("returns") == obj.get("returns")
            and current.get("arguments") == obj.get("arguments")
        )
        if not replaceable:
            out.append(f"DROP {obj.id.kind.upper()} IF EXISTS {obj.id.name}")
            current = None
        out.append(ddl.strip())
        return out + self._decorate(obj, current)

    def _view(self, obj: SnapshotObject, current: SnapshotObject | None) -> list[str]:
        definition = str(obj.text("definition")).strip().rstrip(";")
        kind = obj.id.kind
        options = obj.strings("options")
        with_options = f" WITH ({', '.join(options)})" if options else ""
        out: list[str] = []
        if kind == "materialized view":
            if current is not None:
                out.append(f"DROP MATERIALIZED VIEW IF EXISTS {obj.id.name}")
            data = "WITH DATA" if obj.get("populated") else "WITH NO DATA"
            out.append(
                f"CREATE MATERIALIZED VIEW {obj.id.name}{with_options} AS {definition} {data}"
            )
            for index in self.before.children(obj.id, "index"):
                out += self._index(index, None)
            return out + self._decorate(obj, None)
        replaceable = current is None or self._same_columns(obj, current)
        if current is not None and not replaceable:
            out.append(f"DROP VIEW IF EXISTS {obj.id.name}")
            current = None
        verb = "CREATE OR REPLACE VIEW" if current is not None else "CREATE VIEW"
        out.append(f"{verb} {obj.id.name}{with_options} AS {definition}")
        out += self._decorate(obj, current)
        for column in self.before.children(obj.id, "column"):
            out += self.comment(column)
        return out

    def _same_columns(self, obj: SnapshotObject, current: SnapshotObject) -> bool:
        if self.after is None:
            return False
        mine = [(c.id.name, c.get("type")) for c in self.before.children(obj.id, "column")]
        theirs = [(c.id.name, c.get("type")) for c in self.after.children(current.id, "column")]
        return sorted(mine, key=str) == sorted(theirs, key=str) and len(mine) == len(theirs)

    def _column(self, obj: SnapshotObject, current: SnapshotObject | None) -> list[str]:
        if obj.parent is None:
            raise _Unknown(f"{obj.id} has no table")
        table = obj.parent.name
        self.data_loss.append(
            f"{obj.id}: recreated without its values (they were dropped with the column)"
        )
        col = obj.id.name[len(table) + 1 :]
        definition = self.column_definition(obj).replace(" NOT NULL", "")
        out = [f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {definition}"]
        if obj.get("not null"):
            out.append(f"ALTER TABLE {table} ALTER COLUMN {col} SET NOT NULL")
            self.notes.append(
                f"{obj.id}: SET NOT NULL fails when the table has rows and the column no default"
            )
        number = obj.extra_text("attnum")
        for sibling in self.before.children(obj.parent, "constraint", "index"):
            numbers = _strings(sibling.extra.get("column numbers"))
            expression = "0" in numbers and _mentions(str(sibling.text("definition")), col)
            if (number is not None and number in numbers) or expression:
                out += self.create(sibling)
        out += self.comment(obj)
        if "privileges" in obj.attrs:
            out += self.privileges(obj, None, column=col)
        return out

    def _sequence(self, obj: SnapshotObject, current: SnapshotObject | None) -> list[str]:
        self.data_loss.append(f"{obj.id}: recreated at its start value (its position is lost)")
        return [
            f"CREATE SEQUENCE IF NOT EXISTS {obj.id.name} AS {obj.text('data type')} "
            f"INCREMENT BY {obj.get('increment')} MINVALUE {obj.get('minimum')} "
            f"MAXVALUE {obj.get('maximum')} START WITH {obj.get('start')} "
            f"CACHE {obj.get('cache')} {'CYCLE' if obj.get('cycle') else 'NO CYCLE'}",
            *self._decorate(obj, None),
        ]

    def _table(self, obj: SnapshotObject, current: SnapshotObject | None) -> list[str]:
        self.data_loss.append(f"{obj.id}: recreated empty (its rows were dropped with it)")
        name = obj.id.name
        columns = sorted(
            self.before.children(obj.id, "column"), key=lambda c: int(str(c.get("position") or 0))
        )
        owned = [
            s
            for s in self.before.of_kind("sequence")
            if str(s.text("owned by") or "").startswith(name + ".") and not s.extra.get("identity")
        ]
        out: list[str] = []
        for seq in owned:
            out += self._sequence(seq, None)
        persistence = {"unlogged": "UNLOGGED "}.get(str(obj.text("persistence")), "")
        partition_of = obj.text("partition of")
        if partition_of:
            parent, _, bound = partition_of.partition(" ")
            out.append(f"CREATE {persistence}TABLE {name} PARTITION OF {parent} {bound}")
        else:
            body = ",\n  ".join(self.column_definition(c) for c in columns)
            sql = f"CREATE {persistence}TABLE {name} (\n  {body}\n)"
            if obj.strings("inherits"):
                sql += f" INHERITS ({', '.join(obj.strings('inherits'))})"
            if obj.text("partitioned by"):
                sql += f" PARTITION BY {obj.text('partitioned by')}"
            if obj.strings("options"):
                sql += f" WITH ({', '.join(obj.strings('options'))})"
            out.append(sql)
        for seq in owned:
            out.append(f"ALTER SEQUENCE {seq.id.name} OWNED BY {seq.text('owned by')}")
        constraints = self.before.children(obj.id, "constraint")
        constraints.sort(key=lambda c: c.get("type") == "foreign key")
        for constraint in constraints:
            out += self._constraint(constraint, None)
        for index in self.before.children(obj.id, "index"):
            out += self._index(index, None)
        if obj.get("row security"):
            out.append(f"ALTER TABLE {name} ENABLE ROW LEVEL SECURITY")
        if obj.get("force row security"):
            out.append(f"ALTER TABLE {name} FORCE ROW LEVEL SECURITY")
        identity = obj.text("replica identity")
        if identity in ("full", "nothing"):
            out.append(f"ALTER TABLE {name} REPLICA IDENTITY {str(identity).upper()}")
        for policy in self.before.children(obj.id, "policy"):
            out += self._policy(policy, None)
        for trigger in self.before.children(obj.id, "trigger"):
            out += self._trigger(trigger, None)
        for rule in self.before.children(obj.id, "rule"):
            out += self._rule(rule, None)
        out += self._decorate(obj, None)
        for column in columns:
            out += self.comment(column)
            if "privileges" in column.attrs:
                out += self.privileges(column, None, column=column.id.name[len(name) + 1 :])
        for member in self.before.of_kind("publication table"):
            if member.extra_text("table") == name:
                out += self._publication_table(member, None)
        return out

    def _type(self, obj: SnapshotObject, current: SnapshotObject | None) -> list[str]:
        variety = obj.text("variety")
        name = obj.id.name
        if variety == "enum":
            labels = ", ".join(literal(label) for label in obj.strings("labels"))
            out = [f"CREATE TYPE {name} AS ENUM ({labels})"]
        elif variety == "composite":
            out = [f"CREATE TYPE {name} AS ({', '.join(obj.strings('attributes'))})"]
        elif variety == "domain":
            sql = f"CREATE DOMAIN {name} AS {obj.text('base type')}"
            if obj.text("collation"):
                sql += f" COLLATE {obj.text('collation')}"
            if obj.text("default"):
                sql += f" DEFAULT {obj.text('default')}"
            if obj.get("not null"):
                sql += " NOT NULL"
            out = [sql]
            for constraint in self.before.children(obj.id, "constraint"):
                out += self._constraint(constraint, None)
        elif variety == "range":
            out = [f"CREATE TYPE {name} AS RANGE (SUBTYPE = {obj.text('subtype')})"]
        else:
            raise _Unknown(f"recreating the base type {name} is not supported")
        return out + self._decorate(obj, None)

    def _schema(self, obj: SnapshotObject, current: SnapshotObject | None) -> list[str]:
        return [f"CREATE SCHEMA IF NOT EXISTS {obj.id.name}", *self._decorate(obj, None)]

    def _extension(self, obj: SnapshotObject, current: SnapshotObject | None) -> list[str]:
        return [
            f"CREATE EXTENSION IF NOT EXISTS {obj.id.name} WITH SCHEMA {obj.text('schema')} "
            f"VERSION {literal(str(obj.text('version')))}"
        ]

    def _publication(self, obj: SnapshotObject, current: SnapshotObject | None) -> list[str]:
        publish = ", ".join(obj.strings("publish"))
        scope = " FOR ALL TABLES" if obj.get("all tables") else ""
        options = f"publish = {literal(publish)}, publish_via_partition_root = " + (
            "true" if obj.get("via root") else "false"
        )
        out = [f"CREATE PUBLICATION {obj.id.name}{scope} WITH ({options})"]
        for member in self.before.children(obj.id, "publication table"):
            out += self._publication_table(member, None)
        return out + self.owner(obj) + self.comment(obj)

    def _publication_table(self, obj: SnapshotObject, current: SnapshotObject | None) -> list[str]:
        pub, _, table = obj.id.name.partition(":")
        columns = f" ({', '.join(obj.strings('columns'))})" if obj.strings("columns") else ""
        where = f" WHERE ({obj.text('row filter')})" if obj.text("row filter") else ""
        return [f"ALTER PUBLICATION {pub} ADD TABLE {table}{columns}{where}"]

    def _default_privileges(self, obj: SnapshotObject, current: SnapshotObject | None) -> list[str]:
        raise _Unknown("default privileges are restored by hand")

    # --- enums ---------------------------------------------------------------------------------

    def enum_without(self, ref: ObjectRef) -> list[str]:
        obj = self.find(ref)
        if obj is None:
            return []
        name = obj.id.name
        schema, _, bare = name.partition(".")
        old = f"{schema}.{quote_ident(_unquote(bare) + '__mr_old')}"
        out = [f"ALTER TYPE {name} RENAME TO {quote_ident(_unquote(bare) + '__mr_old')}"]
        out += self._type(obj, None)
        for col in self.before.of_kind("column"):
            typ = col.text("type")
            if typ not in (name, f"{name}[]") or col.parent is None:
                continue
            column = col.id.name[len(col.parent.name) + 1 :]
            prefix = f"ALTER TABLE {col.parent.name} ALTER COLUMN {column}"
            cast = "text[]" if typ.endswith("[]") else "text"
            if col.text("default"):
                out.append(f"{prefix} DROP DEFAULT")
            out.append(f"{prefix} TYPE {typ} USING {column}::{cast}::{typ}")
            if col.text("default"):
                out.append(f"{prefix} SET DEFAULT {col.text('default')}")
            self.notes.append(f"{col.id}: rewritten to drop a value from {name}")
        out.append(f"DROP TYPE {old}")
        return out


def _unquote(name: str) -> str:
    if name.startswith('"') and name.endswith('"'):
        return name[1:-1].replace('""', '"')
    return name


def _mentions(text: str, identifier: str) -> bool:
    """Whether a definition names a column (as a word; quoted names as written)."""
    import re

    return re.search(rf"(?<![\w\"]){re.escape(identifier)}(?![\w\"])", text) is not None


def _strings(value: Any) -> tuple[str, ...]:
    return value if isinstance(value, tuple) else ()


def _normalize_args(args: str) -> tuple[str, ...]:
    out: list[str] = []
    depth = 0
    current = ""
    for ch in args:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(current)
            current = ""
        else:
            current += ch
    if current.strip():
        out.append(current)
    normalized: list[str] = []
    for arg in out:
        text = arg.strip().lower().removeprefix("variadic ").strip()
        text = text.split("(")[0].strip() if "[" not in text else text
        text = text.rsplit(".", 1)[-1] if "." in text.split("[")[0] else text
        text = text.replace('"', "")
        normalized.append(_TYPE_ALIASES.get(text, text))
    return tuple(normalized)


# --- the plan, step by step -----------------------------------------------------------------


_RESTORABLE = frozenset({"ViewStmt", "CreateFunctionStmt", "CreateTrigStmt", "AlterPolicyStmt",
                         "CommentStmt"})  # fmt: skip


def _targets(node: Any) -> tuple[ObjectRef, ...]:
    """The object a CREATE OR REPLACE / ALTER POLICY statement redefines."""
    from migration_rollback.sql.names import function_args

    kind = type(node).__name__
    if kind == "ViewStmt":
        rv = node.view
        return (ObjectRef("view", str(rv.relname), rv.schemaname or "public"),)
    if kind == "CreateFunctionStmt":
        parts = [str(n.sval) for n in node.funcname]
        schema = parts[-2] if len(parts) >= 2 else "public"
        what = "procedure" if node.is_procedure else "function"
        return (ObjectRef(what, parts[-1], schema, args=function_args(node.parameters)),)
    if kind == "CreateTrigStmt":
        rv = node.relation
        schema = rv.schemaname or "public"
        return (ObjectRef("trigger", str(node.trigname), schema, table=str(rv.relname)),)
    if kind == "AlterPolicyStmt":
        rv = node.table
        schema = rv.schemaname or "public"
        return (ObjectRef("policy", str(node.policy_name), schema, table=str(rv.relname)),)
    return ()


def _restorable(step: RollbackStep) -> bool:
    """A step that restores an earlier definition the static generator found in history."""
    kind = step.forward.kind
    if kind not in _RESTORABLE:
        return False
    node = step.forward.node
    return kind in ("AlterPolicyStmt", "CommentStmt") or bool(getattr(node, "replace", False))


def _checked(statements: Iterable[str]) -> tuple[str, ...]:
    out: list[str] = []
    for sql in statements:
        emitted = checked_statement(sql.strip().rstrip(";"))
        out.append(emitted.text)
    return tuple(out)


def _fill(step: RollbackStep, gen: _Gen) -> tuple[list[str], str]:
    """SQL for a MANUAL step, and what it does; raises _Unknown when it cannot."""
    manual = step.manual
    assert manual is not None
    need = str(manual.need)
    ref = manual.target
    forward = step.forward
    if need in ("PRIOR_COLUMN_TYPE", "PRIOR_COLUMN_DEFAULT", "PRIOR_NOT_NULL"):
        if ref is None:
            raise _Unknown("no column named")
        what = {"PRIOR_COLUMN_TYPE": "type", "PRIOR_COLUMN_DEFAULT": "default"}.get(need, "null")
        sql = gen.restore_column(ref, what)
        return sql, (f"restores the {what} of {ref.describe()}" if sql else
                     f"{ref.describe()} did not exist before the migration")  # fmt: skip
    if need == "PRIOR_DEFINITION":
        if forward.kind == "CommentStmt":
            return _restore_comment(forward.node, gen)
        if forward.kind == "AlterPublicationStmt":
            return _restore_publication(forward.node, gen)
        if ref is None:
            raise _Unknown("no object named")
        obj = gen.find(ref)
        current = gen.find(ref, gen.after) if gen.after is not None else None
        if obj is None:
            if current is not None:
                return gen.drop(current), f"{ref.describe()} did not exist before: dropped"
            target = _drop_ref(ref)
            return [target], f"{ref.describe()} did not exist before: dropped"
        return gen.create(obj, current=current or obj), f"restores {obj.id} as it was"
    if need == "RECREATE_DROPPED":
        if ref is None:
            raise _Unknown("no object named")
        obj = gen.find(ref)
        if obj is None:
            raise _Unknown(f"{ref.describe()} is not in the schema before the migration")
        return gen.create(obj), f"recreates {obj.id} from its definition before the migration"
    if need == "ENUM_VALUE":
        if ref is None:
            raise _Unknown("no type named")
        sql = gen.enum_without(ref)
        return sql, f"recreates {ref.describe()} without the added value (rewrites its columns)"
    raise _Unknown(f"{need} needs a human")


def _drop_ref(ref: ObjectRef) -> str:
    args = f"({ref.args})" if ref.args is not None and ref.kind in ("function", "procedure") else ""
    if ref.table:
        table = f"{quote_ident(ref.schema or 'public')}.{quote_ident(ref.table)}"
        return f"DROP {ref.kind.upper()} IF EXISTS {quote_ident(ref.name)} ON {table}"
    return f"DROP {ref.kind.upper()} IF EXISTS {ref.qualified}{args}"


_COMMENT_KIND = {
    "OBJECT_TABLE": "table",
    "OBJECT_VIEW": "view",
    "OBJECT_MATVIEW": "materialized view",
    "OBJECT_SEQUENCE": "sequence",
    "OBJECT_INDEX": "index",
    "OBJECT_TYPE": "type",
    "OBJECT_DOMAIN": "type",
    "OBJECT_SCHEMA": "schema",
    "OBJECT_EXTENSION": "extension",
    "OBJECT_PUBLICATION": "publication",
    "OBJECT_FUNCTION": "function",
    "OBJECT_PROCEDURE": "procedure",
}


def _restore_comment(node: Any, gen: _Gen) -> tuple[list[str], str]:
    from pglast.stream import RawStream

    objtype = node.objtype.name
    obj = node.object
    names = [getattr(n, "sval", None) for n in (obj if isinstance(obj, tuple) else ())]
    target: SnapshotObject | None = None
    if objtype == "OBJECT_COLUMN" and names and all(names):
        parts = [str(n) for n in names]
        schema = parts[-3] if len(parts) >= 3 else "public"
        target = gen.find(ObjectRef("column", parts[-2], schema, column=parts[-1]))
    elif objtype in ("OBJECT_FUNCTION", "OBJECT_PROCEDURE"):
        fn = [str(n.sval) for n in obj.objname]
        args = None if obj.args_unspecified else ", ".join(
            RawStream()(t) for t in obj.objargs or ()
        )  # fmt: skip
        schema = fn[-2] if len(fn) >= 2 else "public"
        target = gen.find(ObjectRef(_COMMENT_KIND[objtype], fn[-1], schema, args=args))
    elif objtype in ("OBJECT_TABCONSTRAINT", "OBJECT_POLICY", "OBJECT_TRIGGER") and names:
        parts = [str(n) for n in names if n]
        schema = parts[-3] if len(parts) >= 3 else "public"
        kind = {"OBJECT_TABCONSTRAINT": "constraint", "OBJECT_POLICY": "policy"}.get(
            objtype, "trigger"
        )
        target = gen.find(ObjectRef(kind, parts[-1], schema, table=parts[-2]))
    elif objtype in _COMMENT_KIND:
        if isinstance(obj, tuple):
            parts = [str(n.sval) for n in obj]
        elif hasattr(obj, "names"):
            parts = [str(n.sval) for n in obj.names]
        else:
            parts = [str(getattr(obj, "sval", obj))]
        kind = _COMMENT_KIND[objtype]
        schema = parts[-2] if len(parts) >= 2 else "public"
        target = gen.find(ObjectRef(kind, parts[-1], schema))
    else:
        raise _Unknown(f"COMMENT ON {objtype.removeprefix('OBJECT_')} is not restored")
    if target is None:
        return [], "the object did not exist before the migration (it goes with it)"
    text = target.text("comment")
    reset = node.__class__(objtype=node.objtype, object=node.object, comment=text)
    return [str(RawStream()(reset))], f"restores the comment of {target.id}"


def _restore_publication(node: Any, gen: _Gen) -> tuple[list[str], str]:
    pub = gen.before.get("publication", quote_ident(str(node.pubname)))
    if pub is None:
        raise _Unknown(f"publication {node.pubname} is not in the schema before the migration")
    wanted = [m.id.name.partition(":")[2] for m in gen.before.children(pub.id, "publication table")]
    if wanted:
        return [f"ALTER PUBLICATION {pub.id.name} SET TABLE {', '.join(wanted)}"], (
            f"restores the tables of {pub.id}"
        )
    if gen.after is None:
        raise _Unknown("the publication had no tables; which to remove is unknown")
    current = [m.id.name.partition(":")[2] for m in gen.after.children(pub.id, "publication table")]
    if not current:
        return [], f"{pub.id} has no tables, as before"
    return [f"ALTER PUBLICATION {pub.id.name} DROP TABLE {', '.join(current)}"], (
        f"removes the tables added to {pub.id}"
    )


def stateful_rollback(
    plan: RollbackPlan,
    before: Snapshot,
    after: Snapshot | None = None,
    *,
    creator: str | None = "postgres",
    state_first: bool = False,
) -> StatefulResult:
    """The plan's rollback body with the MANUAL steps the before-state can answer filled in.

    `before` is the schema before the migration; `after` (optional) the schema after it, which
    lets a restored function or view be replaced in place when its signature allows.
    `state_first`: also replace the static generator's restores of earlier definitions (CREATE
    OR REPLACE of a view/function/trigger, ALTER POLICY, COMMENT) by the before-state's; the
    shadow's state is the ground truth, the earlier migrations' text only a guess of it.
    """
    gen = _Gen(before, after, creator)
    result = StatefulResult("")
    out: list[str] = []
    overridden: set[int] = set()
    for original in plan.steps:
        step = original
        if state_first and step.sql is not None and _restorable(step):
            if step.forward.index in overridden:
                continue
            overridden.add(step.forward.index)
            targets = _targets(step.forward.node) or classify(step.forward).targets
            step = replace(
                step,
                sql=None,
                notes=(),
                manual=ManualItem(
                    ManualNeed.PRIOR_DEFINITION,
                    f"restore what {step.forward.first_line} replaced",
                    targets[0] if targets else None,
                ),
            )
        if step.sql is None and step.manual is None:
            continue
        loc = step.forward.location
        where = f"{loc.file}:{loc.line}"
        out.append(f"-- undoes {where}: {step.forward.first_line}")
        out.extend(f"-- note: {note}" for note in step.notes)
        if step.sql is not None:
            if not step.transactional:
                out.append(NON_TRANSACTIONAL_MARK)
            out.append(step.sql.rstrip().rstrip(";") + ";")
        if step.manual is not None:
            need = str(step.manual.need)
            try:
                sql, what = _fill(step, gen)
                statements = _checked(sql)
            except (_Unknown, UnsafeOutputError) as exc:
                result.still_manual.append(
                    StillManual(where, need, f"{step.manual.reason} ({exc})")
                )
                out.extend(
                    f"{MANUAL_PREFIX} {line}".rstrip() for line in step.manual.reason.splitlines()
                )
            else:
                target = step.manual.target.describe() if step.manual.target else need
                result.filled.append(Filled(where, need, target, statements, what))
                out.append(f"-- state-aware ({need}): {what}")
                out.extend(f"{s};" for s in statements)
                if (
                    need in ("RECREATE_DROPPED",)
                    and step.manual.target is not None
                    and (step.manual.target.kind in ("table", "column", "sequence", "schema"))
                ):
                    out.append("-- data loss: the structure is back, the rows are not")
        out.append("")
    result.sql_body = "\n".join(out).rstrip() + "\n"
    result.data_loss = list(dict.fromkeys(gen.data_loss))
    result.notes = list(dict.fromkeys(gen.notes))
    return result


def repair(
    differences: Sequence[Difference],
    before: Snapshot,
    current: Snapshot | None = None,
    *,
    creator: str | None = "postgres",
) -> tuple[list[str], list[str], list[str]]:
    """SQL that would remove these differences: (statements, what it did, what it could not).

    Objects missing after the rollback are recreated from `before`, objects left behind are
    dropped, and changed functions, views, policies, triggers, columns, comments and privileges
    are put back. Dependents first dropped, then parents; parents first created, then dependents.
    """
    gen = _Gen(before, current, creator)
    drops: list[tuple[int, list[str]]] = []
    creates: list[tuple[int, list[str]]] = []
    done: list[str] = []
    failed: list[str] = []
    missing_parents = {d.object for d in differences if d.removed}
    added_parents = {d.object for d in differences if d.added}
    changed = {d.object for d in differences if d.attribute != EXISTS}
    for oid in sorted({d.object for d in differences}):
        try:
            if oid in missing_parents:
                parent = _parent(before, oid)
                if parent is not None and (
                    parent in missing_parents or (parent in changed and parent.kind != "table")
                ):
                    continue  # comes back with its parent (recreated, or a view redefined)
                obj = before.objects[oid]
                creates.append((_order(oid.kind), gen.create(obj)))
                done.append(f"recreates {oid}")
            elif oid in added_parents:
                now = current.objects.get(oid) if current is not None else None
                if now is None:
                    raise _Unknown("not in the current state")
                if now.parent is not None and (
                    now.parent in added_parents
                    or (now.parent in changed and now.parent.kind != "table")
                ):
                    continue  # goes with its parent (dropped, or a view recreated)
                drops.append((-_order(oid.kind), gen.drop(now)))
                done.append(f"drops {oid}")
            elif oid in changed:
                obj = before.objects[oid]
                now = current.objects.get(oid) if current is not None else None
                creates.append((_order(oid.kind), _restore(gen, obj, now, differences)))
                done.append(f"restores {oid}")
        except (_Unknown, KeyError) as exc:
            failed.append(f"{oid}: {exc}")
    statements = [s for _, group in sorted(drops, key=lambda x: x[0]) for s in group]
    statements += [s for _, group in sorted(creates, key=lambda x: x[0]) for s in group]
    try:
        return list(_checked(statements)), done, failed
    except UnsafeOutputError as exc:
        return [], [], [*failed, str(exc)]


def _parent(snapshot: Snapshot, oid: ObjectId) -> ObjectId | None:
    obj = snapshot.objects.get(oid)
    return obj.parent if obj is not None else None


_CREATION_ORDER = (
    "schema", "extension", "type", "sequence", "function", "procedure", "aggregate", "table",
    "column", "constraint", "index", "view", "materialized view", "trigger", "policy", "rule",
    "publication", "publication table",
)  # fmt: skip


def _order(kind: str) -> int:
    return _CREATION_ORDER.index(kind) if kind in _CREATION_ORDER else len(_CREATION_ORDER)


def _restore(
    gen: _Gen, obj: SnapshotObject, now: SnapshotObject | None, diffs: Sequence[Difference]
) -> list[str]:
    attrs = {d.attribute for d in diffs if d.object == obj.id}
    kind = obj.id.kind
    if kind == "column":
        ref = ObjectRef(
            "column",
            str(obj.extra_text("table")),
            obj.extra_text("schema"),
            column=obj.extra_text("column"),
        )
        out: list[str] = []
        if "type" in attrs or "collation" in attrs:
            out += gen.restore_column(ref, "type")
        elif "default" in attrs:
            out += gen.restore_column(ref, "default")
        if "not null" in attrs:
            out += gen.restore_column(ref, "null")
        if "comment" in attrs:
            out += gen.comment(obj, now)
        if "privileges" in attrs and obj.parent is not None:
            col = obj.id.name[len(obj.parent.name) + 1 :]
            out += gen.privileges(obj, now, column=col)
        if attrs - {"type", "collation", "default", "not null", "comment", "privileges"}:
            raise _Unknown(f"cannot restore {', '.join(sorted(attrs))} of a column")
        return out
    if attrs <= {"comment"}:
        return gen.comment(obj, now)
    if attrs <= {"privileges", "owner", "comment"} and kind in _GRANT_KEYWORD:
        return gen._decorate(obj, now)
    if kind in ("table",) and attrs <= {"row security", "force row security"}:
        out = []
        if "row security" in attrs:
            verb = "ENABLE" if obj.get("row security") else "DISABLE"
            out.append(f"ALTER TABLE {obj.id.name} {verb} ROW LEVEL SECURITY")
        if "force row security" in attrs:
            verb = "FORCE" if obj.get("force row security") else "NO FORCE"
            out.append(f"ALTER TABLE {obj.id.name} {verb} ROW LEVEL SECURITY")
        return out
    return gen.create(obj, current=now)
