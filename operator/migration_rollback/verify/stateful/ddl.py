"""The DDL writer: SQL that makes an object of the before-state exist again (or go away).

Part of the state-aware rollbacks (see the package's docstring); pure, no database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from migration_rollback.sql import ObjectRef, casts, checked_statement
from migration_rollback.verify.deparse_fixpoint import reprintable
from migration_rollback.verify.snapshot import ObjectId, Snapshot, SnapshotObject, quote_ident
from migration_rollback.verify.stateful.acl import (
    _GRANT_KEYWORD,
    _RELATION_KEYWORD,
    Privileges,
)
from migration_rollback.verify.stateful.lookups import (
    Unknown,
    find,
    mentions,
    strings,
    unquote,
)
from migration_rollback.verify.stateful.type_users import type_users

_DROPPABLE = frozenset(
    {"function", "procedure", "aggregate", "index", "view", "materialized view", "table",
     "sequence", "schema", "extension", "publication", "event trigger"}
)  # fmt: skip


_DEFAULT_OBJECTS = {"r": "TABLES", "S": "SEQUENCES", "f": "FUNCTIONS", "T": "TYPES", "n": "SCHEMAS"}


def _grantee(name: str) -> str:
    return "PUBLIC" if name in ("", "PUBLIC") else quote_ident(name)


def checked(statements: Iterable[str]) -> tuple[str, ...]:
    """Each statement as the generator's safety belt re-parses and prints it."""
    return tuple(checked_statement(sql.strip().rstrip(";")).text for sql in statements)


def literal(text: str) -> str:
    """A SQL string literal (standard_conforming_strings)."""
    return "'" + text.replace("'", "''") + "'"


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
        name = f"{quote_ident(ref.schema or 'public')}.{quote_ident(ref.name)}"
        return replace(obj, id=ObjectId(obj.id.kind, name))

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

    def restore_column(
        self, ref: ObjectRef, what: str, current_type: str | None = None
    ) -> list[str]:
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
            if current_type is None and self.after is not None:
                now = self.find(ref, self.after)
                current_type = now.text("type") if now is not None else None
            expression = casts.using(name, current_type, old_type)
            out.append(f"{prefix} TYPE {old_type}{collate} USING {expression}")
            if col.text("default") and not col.text("identity") and not col.text("generated"):
                out.append(f"{prefix} SET DEFAULT {col.text('default')}")
            return out
        if what == "default":
            default = col.text("default")
            return [f"{prefix} SET DEFAULT {default}" if default else f"{prefix} DROP DEFAULT"]
        return [f"{prefix} {'SET' if col.get('not null') else 'DROP'} NOT NULL"]

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
        raise Unknown(f"dropping a {kind} is not supported")

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

    def _policy(self, obj: SnapshotObject, current: SnapshotObject | None) -> list[str]:
        if obj.parent is None:
            raise Unknown(f"{obj.id} has no table")
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
            raise Unknown(f"{obj.id} has no table")
        name = obj.id.name[len(obj.parent.name) + 1 :]
        out = [f"DROP TRIGGER IF EXISTS {name} ON {obj.parent.name}", str(obj.text("definition"))]
        state = obj.text("enabled")
        toggle = {"disabled": "DISABLE", "replica": "ENABLE REPLICA", "always": "ENABLE ALWAYS"}
        if state in toggle:
            out.append(f"ALTER TABLE {obj.parent.name} {toggle[state]} TRIGGER {name}")
        return out + self.comment(obj)

    def _rule(self, obj: SnapshotObject, current: SnapshotObject | None) -> list[str]:
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
            raise Unknown(f"{obj.id} has no table")
        table = obj.parent.name
        if not obj.text("generated"):  # a generated column's values are computed again
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
            numbers = strings(sibling.extra.get("column numbers"))
            expression = "0" in numbers and mentions(str(sibling.text("definition")), col)
            uses = (number is not None and number in numbers) or expression
            if uses and self._columns_back(obj.parent, numbers):
                out += self.create(sibling)  # else it comes with the last of its columns
        out += self.comment(obj)
        if "privileges" in obj.attrs:
            out += self.privileges(obj, None, column=col)
        return out

    def _columns_back(self, table: ObjectId, numbers: tuple[str, ...]) -> bool:
        """Whether every column (by attnum) a constraint or index uses exists at this point of
        the rollback: it survived the migration, or this rollback recreated it already."""
        if self.after is None:
            return True
        by_number = {c.extra_text("attnum"): c for c in self.before.children(table, "column")}
        used = [by_number[n] for n in numbers if n in by_number]
        return all(c.id in self.created or c.id in self.after.objects for c in used)

    def replica_identity(self, table: SnapshotObject) -> list[str]:
        """The table's replica identity as it was (DEFAULT, FULL, NOTHING, USING INDEX)."""
        identity = table.text("replica identity")
        if identity is None:
            return []
        if identity != "index":
            return [f"ALTER TABLE {table.id.name} REPLICA IDENTITY {identity.upper()}"]
        for index in self.before.children(table.id, "index"):
            if index.get("replica identity"):
                own = quote_ident(str(index.extra_text("name")))
                return [f"ALTER TABLE {table.id.name} REPLICA IDENTITY USING INDEX {own}"]
        raise Unknown(f"the replica identity index of {table.id} is not known")

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
        return out + self.table_parts(obj, columns)

    def table_parts(self, obj: SnapshotObject, columns: list[SnapshotObject]) -> list[str]:
        """What a table has beside its columns: constraints, indexes, RLS, policies, triggers,
        rules, owner, grants, comments, publications (a table made anew gets them back)."""
        name = obj.id.name
        out: list[str] = []
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
        if obj.text("replica identity") != "default":
            out += self.replica_identity(obj)
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
            raise Unknown(f"recreating the base type {name} is not supported")
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
        """ALTER DEFAULT PRIVILEGES back to the before-state's entries: every grantee named
        before or now revoked, then each before-entry granted (entries are `grantee=PRIV,…`)."""
        kind = _DEFAULT_OBJECTS.get(str(obj.extra_text("object type")))
        role = obj.extra_text("role")
        if kind is None or role is None:
            raise Unknown(f"{obj.id}: which objects or role it is for is not known")
        schema = obj.extra_text("schema")
        prefix = f"ALTER DEFAULT PRIVILEGES FOR ROLE {quote_ident(role)}" + (
            f" IN SCHEMA {quote_ident(schema)}" if schema else ""
        )
        entries = [e.partition("=") for e in obj.strings("privileges")]
        now = current.strings("privileges") if current is not None else ()
        grantees = dict.fromkeys([g for g, _, _ in entries] + [e.partition("=")[0] for e in now])
        out = [f"{prefix} REVOKE ALL ON {kind} FROM {_grantee(g)}" for g in grantees]
        for grantee, _, privileges in entries:
            granted = ", ".join(privileges.split(","))
            out.append(f"{prefix} GRANT {granted} ON {kind} TO {_grantee(grantee)}")
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
        return [] if obj is None else self.enum_as_before(obj)

    def enum_as_before(self, obj: SnapshotObject) -> list[str]:
        """The enum swapped back to the labels it had in the before-state (see enum_without)."""
        name = obj.id.name
        schema, _, bare = name.partition(".")
        old = f"{schema}.{quote_ident(unquote(bare) + '__mr_old')}"
        columns = [
            col
            for col in self.before.of_kind("column")
            if col.text("type") in (name, f"{name}[]") and col.parent is not None
        ]
        around = type_users(self.before, name, self._dependents_of_columns(columns))
        out: list[str] = []
        for dependent in reversed(around):
            out += self.drop(dependent)
        out.append(f"ALTER TYPE {name} RENAME TO {quote_ident(unquote(bare) + '__mr_old')}")
        out += self._type(obj, None)
        for col in columns:
            typ = str(col.text("type"))
            assert col.parent is not None
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
        for dependent in around:
            self.created.discard(dependent.id)
            out += self.create(dependent)
        return out

    def _dependents_of_columns(self, columns: list[SnapshotObject]) -> list[SnapshotObject]:
        """Objects of the before-state whose definition uses one of these columns in an
        expression (not a plain index key, which PostgreSQL rebuilds itself)."""
        found: dict[ObjectId, SnapshotObject] = {}
        for col in columns:
            assert col.parent is not None
            column = col.id.name[len(col.parent.name) + 1 :]
            number = col.extra_text("attnum")
            for sibling in self.before.children(col.parent, "constraint", "index"):
                definition = str(sibling.text("definition"))
                if sibling.id.kind == "constraint":
                    uses = sibling.get("type") in ("check", "exclusion") and (
                        number in strings(sibling.extra.get("column numbers"))
                        or mentions(definition, column)
                    )
                else:
                    uses = (
                        not sibling.text("constraint")
                        and (
                            " WHERE " in definition
                            or "0" in strings(sibling.extra.get("column numbers"))
                        )
                        and mentions(definition, column)
                    )
                if uses:
                    found[sibling.id] = sibling
            for policy in self.before.children(col.parent, "policy"):
                text = f"{policy.text('using') or ''} {policy.text('with check') or ''}"
                if mentions(text, column):
                    found[policy.id] = policy
            for trigger in self.before.children(col.parent, "trigger"):
                if " WHEN " in str(trigger.text("definition")) and mentions(
                    str(trigger.text("definition")), column
                ):
                    found[trigger.id] = trigger
            table = col.parent.name.partition(".")[2]
            for view in self.before.of_kind("view", "materialized view"):
                definition = str(view.text("definition"))
                if mentions(definition, table) and mentions(definition, column):
                    found[view.id] = view
        return list(found.values())
