"""The DDL writer: SQL that makes an object of the before-state exist again (or go away).

Part of the state-aware rollbacks (see the package's docstring); pure, no database.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from migration_rollback.sql import ObjectRef, checked_statement
from migration_rollback.sql.compose import EMPTY, SQL, Composable, Identifier, Literal, sql
from migration_rollback.sql.kinds import KINDS
from migration_rollback.verify.deparse_fixpoint import reprintable
from migration_rollback.verify.snapshot import ObjectId, Snapshot, SnapshotObject
from migration_rollback.verify.stateful.acl import _GRANT_KEYWORD, Privileges
from migration_rollback.verify.stateful.columns import add_column
from migration_rollback.verify.stateful.enum_swap import enum_as_before
from migration_rollback.verify.stateful.lookups import RELATION_KEYWORD, Unknown, find
from migration_rollback.verify.stateful.renamed import under_new_name
from migration_rollback.verify.stateful.tables import foreign_table, table

# Kinds dropped as `DROP <keyword> IF EXISTS <name>`: named on their own (not on a table, not
# a column or constraint). Roles are the cluster's, not the schema's: a rollback drops none.
_DROPPED_BY_NAME = {
    k.name: k.keyword
    for k in KINDS.values()
    if k.object_type is not None
    and not k.on_table
    and k.name not in ("column", "constraint", "role")
}


_DEFAULT_OBJECTS = {"r": "TABLES", "S": "SEQUENCES", "f": "FUNCTIONS", "T": "TYPES", "n": "SCHEMAS"}


def _grantee(name: str) -> Composable:
    return SQL("PUBLIC") if name in ("", "PUBLIC") else Identifier(name)


def checked(statements: Iterable[str]) -> tuple[str, ...]:
    """Each statement as the generator's safety belt re-parses and prints it."""
    return tuple(checked_statement(sql.strip().rstrip(";")).text for sql in statements)


_Maker = Callable[[SnapshotObject, SnapshotObject | None], list[str]]


@dataclass
class Writer(Privileges):
    """Writes SQL from the before-state (and, when known, the state after the forward)."""

    before: Snapshot
    after: Snapshot | None
    creator: str | None  # the role the rollback runs as (owners equal to it are not restated)
    data_loss: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # What this rollback already recreated, by identity: an index recreated with its column is
    # not created again when the rollback of its own DROP INDEX comes ("already exists"), a
    # primary key not added twice ("multiple primary keys").
    created: set[ObjectId] = field(default_factory=set)

    def find(self, ref: ObjectRef, state: Snapshot | None = None) -> SnapshotObject | None:
        return find(state if state is not None else self.before, ref)

    def renamed(self, obj: SnapshotObject, ref: ObjectRef) -> SnapshotObject:
        """The before-state's object under the name a rename in the migration gave it."""
        return under_new_name(obj, ref)

    def comment(self, obj: SnapshotObject, current: SnapshotObject | None = None) -> list[str]:
        text = obj.text("comment")
        if current is not None and current.text("comment") == text:
            return []
        if current is None and text is None:
            return []
        target = self.comment_target(obj)
        value = Literal(text) if text is not None else SQL("NULL")
        return [sql("COMMENT ON {} IS {}", SQL(target), value)]

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

    # --- objects -------------------------------------------------------------------------------

    def create(self, obj: SnapshotObject, *, current: SnapshotObject | None = None) -> list[str]:
        """SQL that makes `obj` exist as it was before (replacing `current` when given); nothing
        when this rollback already recreated it."""
        kind = obj.id.kind
        if current is None:
            if obj.id in self.created:
                return []
            self.created.add(obj.id)
            if kind == "table":  # what CREATE TABLE below brings back with it
                self.created.update(c.id for c in self.before.children(obj.id))
        makers: dict[str, _Maker] = {
            "index": self.index,
            "constraint": self.constraint,
            "policy": self.policy,
            "trigger": self.trigger,
            "rule": self.rule,
            "function": self._function_sql,
            "procedure": self._function_sql,
            "view": self._view,
            "materialized view": self._view,
            "table": functools.partial(table, self),
            "foreign table": functools.partial(foreign_table, self),
            "aggregate": self._function_sql,
            "column": functools.partial(add_column, self),
            "type": self._type,
            "sequence": self.sequence,
            "schema": self._schema,
            "extension": self._extension,
            "publication": self._publication,
            "publication table": self.publication_table,
            "default privileges": self._default_privileges,
        }
        maker = makers.get(kind)
        if maker is None:
            raise Unknown(f"recreating a {kind} is not supported")
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
            keyword = RELATION_KEYWORD.get(obj.parent.kind, "TABLE")
            return [f"ALTER {keyword} {obj.parent.name} DROP COLUMN IF EXISTS {column}"]
        if kind == "publication table":
            pub, _, table = name.partition(":")
            return [f"ALTER PUBLICATION {pub} DROP TABLE {table}"]
        if kind == "type":
            keyword = "DOMAIN" if obj.get("variety") == "domain" else "TYPE"
            return [f"DROP {keyword} IF EXISTS {name}"]
        if kind in _DROPPED_BY_NAME:
            return [f"DROP {_DROPPED_BY_NAME[kind]} IF EXISTS {name}"]
        raise Unknown(f"dropping a {kind} is not supported")

    def decorate(self, obj: SnapshotObject, current: SnapshotObject | None) -> list[str]:
        out: list[str] = []
        fresh_default = current is None and self.expected_new_privileges(obj) == obj.strings(
            "privileges"
        )
        if obj.id.kind in _GRANT_KEYWORD and "privileges" in obj.attrs and not fresh_default:
            out += self.privileges(obj, current)
        out += self.owner(obj, current)
        out += self.comment(obj, current)
        return out

    def index(self, obj: SnapshotObject, current: SnapshotObject | None) -> list[str]:
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

    def constraint(self, obj: SnapshotObject, current: SnapshotObject | None) -> list[str]:
        if obj.parent is None:
            raise Unknown(f"{obj.id} has no table")
        name = obj.id.name[len(obj.parent.name) + 1 :]
        keyword = "DOMAIN" if obj.parent.kind == "type" else "TABLE"
        out = []
        if current is not None:
            out.append(f"ALTER {keyword} {obj.parent.name} DROP CONSTRAINT IF EXISTS {name}")
        out.append(
            f"ALTER {keyword} {obj.parent.name} ADD CONSTRAINT {name} "
            + reprintable(str(obj.text("definition")))
        )
        return out + self.comment(obj)

    def policy(self, obj: SnapshotObject, current: SnapshotObject | None) -> list[str]:
        if obj.parent is None:
            raise Unknown(f"{obj.id} has no table")
        name = obj.id.name[len(obj.parent.name) + 1 :]
        statement = f"CREATE POLICY {name} ON {obj.parent.name}"
        statement += " AS PERMISSIVE" if obj.get("permissive") else " AS RESTRICTIVE"
        statement += f" FOR {obj.text('command')}"
        roles = obj.strings("roles")
        if roles:
            statement += f" TO {', '.join(roles)}"
        if obj.text("using"):
            statement += f" USING ({obj.text('using')})"
        if obj.text("with check"):
            statement += f" WITH CHECK ({obj.text('with check')})"
        return [f"DROP POLICY IF EXISTS {name} ON {obj.parent.name}", statement, *self.comment(obj)]

    def trigger(self, obj: SnapshotObject, current: SnapshotObject | None) -> list[str]:
        if obj.parent is None:
            raise Unknown(f"{obj.id} has no table")
        name = obj.id.name[len(obj.parent.name) + 1 :]
        out = [f"DROP TRIGGER IF EXISTS {name} ON {obj.parent.name}", str(obj.text("definition"))]
        state = obj.text("enabled")
        toggle = {"disabled": "DISABLE", "replica": "ENABLE REPLICA", "always": "ENABLE ALWAYS"}
        if state in toggle:
            out.append(f"ALTER TABLE {obj.parent.name} {toggle[state]} TRIGGER {name}")
        return out + self.comment(obj)

    def rule(self, obj: SnapshotObject, current: SnapshotObject | None) -> list[str]:
        if obj.parent is None:
            raise Unknown(f"{obj.id} has no table")
        name = obj.id.name[len(obj.parent.name) + 1 :]
        definition = str(obj.text("definition")).rstrip().rstrip(";")
        return [f"DROP RULE IF EXISTS {name} ON {obj.parent.name}", definition]

    def _function_sql(self, obj: SnapshotObject, current: SnapshotObject | None) -> list[str]:
        ddl = obj.extra_text("ddl")
        if not ddl:
            raise Unknown(f"{obj.id} has no definition to restore")
        out: list[str] = []
        replaceable = current is None or (
            current.get("returns") == obj.get("returns")
            and current.get("arguments") == obj.get("arguments")
        )
        if not replaceable:
            out.append(f"DROP {obj.id.kind.upper()} IF EXISTS {obj.id.name}")
            current = None
        out.append(ddl.strip())
        return out + self.decorate(obj, current)

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
                out += self.index(index, None)
            return out + self.decorate(obj, None)
        replaceable = current is None or self._same_columns(obj, current)
        if current is not None and not replaceable:
            out.append(f"DROP VIEW IF EXISTS {obj.id.name}")
            current = None
        verb = "CREATE OR REPLACE VIEW" if current is not None else "CREATE VIEW"
        out.append(f"{verb} {obj.id.name}{with_options} AS {definition}")
        out += self.decorate(obj, current)
        for column in self.before.children(obj.id, "column"):
            out += self.comment(column)
        return out

    def _same_columns(self, obj: SnapshotObject, current: SnapshotObject) -> bool:
        if self.after is None:
            return False
        mine = [(c.id.name, c.get("type")) for c in self.before.children(obj.id, "column")]
        theirs = [(c.id.name, c.get("type")) for c in self.after.children(current.id, "column")]
        return sorted(mine, key=str) == sorted(theirs, key=str) and len(mine) == len(theirs)

    def sequence(self, obj: SnapshotObject, current: SnapshotObject | None) -> list[str]:
        self.data_loss.append(f"{obj.id}: recreated at its start value (its position is lost)")
        return [
            f"CREATE SEQUENCE IF NOT EXISTS {obj.id.name} AS {obj.text('data type')} "
            f"INCREMENT BY {obj.get('increment')} MINVALUE {obj.get('minimum')} "
            f"MAXVALUE {obj.get('maximum')} START WITH {obj.get('start')} "
            f"CACHE {obj.get('cache')} {'CYCLE' if obj.get('cycle') else 'NO CYCLE'}",
            *self.decorate(obj, None),
        ]

    def _type(self, obj: SnapshotObject, current: SnapshotObject | None) -> list[str]:
        variety = obj.text("variety")
        name = obj.id.name
        if variety == "enum":
            labels = SQL(", ").join(Literal(label) for label in obj.strings("labels"))
            out = [sql("CREATE TYPE {} AS ENUM ({})", SQL(name), labels)]
        elif variety == "composite":
            out = [f"CREATE TYPE {name} AS ({', '.join(obj.strings('attributes'))})"]
        elif variety == "domain":
            statement = f"CREATE DOMAIN {name} AS {obj.text('base type')}"
            if obj.text("collation"):
                statement += f" COLLATE {obj.text('collation')}"
            if obj.text("default"):
                statement += f" DEFAULT {obj.text('default')}"
            if obj.get("not null"):
                statement += " NOT NULL"
            out = [statement]
            for constraint in self.before.children(obj.id, "constraint"):
                out += self.constraint(constraint, None)
        elif variety == "range":
            out = [f"CREATE TYPE {name} AS RANGE (SUBTYPE = {obj.text('subtype')})"]
        else:
            raise Unknown(f"recreating the base type {name} is not supported")
        return out + self.decorate(obj, None)

    def _schema(self, obj: SnapshotObject, current: SnapshotObject | None) -> list[str]:
        return [f"CREATE SCHEMA IF NOT EXISTS {obj.id.name}", *self.decorate(obj, None)]

    def _extension(self, obj: SnapshotObject, current: SnapshotObject | None) -> list[str]:
        return [
            sql(
                "CREATE EXTENSION IF NOT EXISTS {} WITH SCHEMA {} VERSION {}",
                SQL(obj.id.name),
                SQL(str(obj.text("schema"))),
                Literal(str(obj.text("version"))),
            )
        ]

    def _publication(self, obj: SnapshotObject, current: SnapshotObject | None) -> list[str]:
        publish = ", ".join(obj.strings("publish"))
        scope = " FOR ALL TABLES" if obj.get("all tables") else ""
        via_root = SQL("true" if obj.get("via root") else "false")
        options = sql("publish = {}, publish_via_partition_root = {}", Literal(publish), via_root)
        out = [f"CREATE PUBLICATION {obj.id.name}{scope} WITH ({options})"]
        for member in self.before.children(obj.id, "publication table"):
            out += self.publication_table(member, None)
        return out + self.owner(obj) + self.comment(obj)

    def publication_table(self, obj: SnapshotObject, current: SnapshotObject | None) -> list[str]:
        pub, _, table = obj.id.name.partition(":")
        columns = f" ({', '.join(obj.strings('columns'))})" if obj.strings("columns") else ""
        where = f" WHERE ({obj.text('row filter')})" if obj.text("row filter") else ""
        return [f"ALTER PUBLICATION {pub} ADD TABLE {table}{columns}{where}"]

    def _default_privileges(self, obj: SnapshotObject, current: SnapshotObject | None) -> list[str]:
        """ALTER DEFAULT PRIVILEGES back to the before-state's entries: every grantee named
        before or now revoked, then each before-entry granted (entries are `grantee=PRIV,…`)."""
        kind = _DEFAULT_OBJECTS.get(str(obj.extra_text("object type")))
        role = obj.extra_text("role")
        if kind is None or role is None:
            raise Unknown(f"{obj.id}: which objects or role it is for is not known")
        schema = obj.extra_text("schema")
        in_schema = SQL(" IN SCHEMA {}").format(Identifier(schema)) if schema else EMPTY
        prefix = sql("ALTER DEFAULT PRIVILEGES FOR ROLE {}{}", Identifier(role), in_schema)
        entries = [e.partition("=") for e in obj.strings("privileges")]
        now = current.strings("privileges") if current is not None else ()
        grantees = dict.fromkeys([g for g, _, _ in entries] + [e.partition("=")[0] for e in now])
        revoke, grant = "{} REVOKE ALL ON {} FROM {}", "{} GRANT {} ON {} TO {}"
        out = [sql(revoke, SQL(prefix), SQL(kind), _grantee(g)) for g in grantees]
        for grantee, _, privileges in entries:
            granted = SQL(", ".join(privileges.split(",")))
            out.append(sql(grant, SQL(prefix), granted, SQL(kind), _grantee(grantee)))
        return out

    # --- enums ---------------------------------------------------------------------------------

    def enum_without(self, ref: ObjectRef) -> list[str]:
        """The enum recreated without the added value: renamed aside, created again, every
        column converted through text, the old type dropped. What compares a column with the
        type's literals (CHECK constraints, index expressions and predicates, policies, trigger
        conditions, views) cannot be rebuilt across the swap ("operator does not exist: t =
        t__mr_old"), nor can what names the type (function signatures) or calls those functions:
        all are dropped first and recreated after, as they were (see type_users)."""
        obj = self.find(ref)
        return [] if obj is None else enum_as_before(self, obj)
