"""Inverse rules: for each forward statement, the SQL that undoes it, or why a human must.

Rules never use CASCADE (it silently drops objects later migrations built on); they rely on
the rollback running in reverse statement order, so a migration's own dependents are dropped
before what they depend on. Every name is schema-qualified and every DROP says IF EXISTS, so a
rollback can be re-run after a partial manual repair.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pglast.enums.parsenodes import AlterPublicationAction, ObjectType
from pglast.enums.parsenodes import AlterTableType as AT

from migration_rollback.sql import casts, effects, platform_calls
from migration_rollback.sql._ast import ast
from migration_rollback.sql.history import (
    ColumnState,
    History,
    constraint_name,
    object_key_for_index,
    simple_object_ref,
)
from migration_rollback.sql.model import ManualItem, ManualNeed, ObjectRef, Statement, quote_ident
from migration_rollback.sql.names import (
    DEFAULT_SCHEMA,
    deparse,
    function_args,
    object_with_args,
    qualified_name,
    relation,
    search_path_schema,
    split_qualified,
    strings,
)

# Extensions a Supabase project has before its first migration; `CREATE EXTENSION IF NOT
# EXISTS` of one of them changes nothing, so dropping it would break the platform.
PLATFORM_EXTENSIONS = frozenset(
    {"plpgsql", "uuid-ossp", "pgcrypto", "pgjwt", "pg_graphql", "pg_stat_statements",
     "supabase_vault"}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Inverse:
    """One piece of a rollback: SQL to run, or a manual item, with notes for reviewers."""

    sql: str | None = None
    manual: ManualItem | None = None
    notes: tuple[str, ...] = ()
    recreates: ObjectRef | None = None  # the object the SQL recreates from an earlier migration


class CreatedKeys:
    """Keys of the objects this migration created, also indexed by (schema, name).

    COMMENT asks "was anything of this schema and name created here?"; scanning every key for
    each comment made a large migration quadratic.
    """

    def __init__(self) -> None:
        self._keys: set[str] = set()
        self._names: set[tuple[str, str]] = set()

    def add(self, key: str) -> None:
        self._keys.add(key)
        parts = key.split(":")  # ObjectRef.key: kind:schema:name[:...]
        if len(parts) >= 3:
            self._names.add((parts[1], parts[2]))

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def has_name(self, schema: str, name: str) -> bool:
        return (schema, name) in self._names


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()  # neither this migration nor earlier ones tell


@dataclass
class ColumnMoment:
    """A column as this migration has left it so far: what its earlier statements set (the
    state a later statement's inverse must restore), over what earlier migrations tell."""

    type_node: Any = None  # None: not changed here
    default_known: bool = False
    default_node: Any = None  # with default_known: None means no default
    not_null: bool | None = None

    def type_before(self, state: ColumnState | None) -> str | None:
        if self.type_node is not None:
            return deparse(self.type_node)
        return state.type if state is not None else None

    def default_before(self, state: ColumnState | None) -> Any:
        """The default SQL, None for no default, or UNKNOWN."""
        if self.default_known:
            return None if self.default_node is None else deparse(self.default_node)
        return state.default if state is not None else UNKNOWN


@dataclass
class Context:
    """What the rules may consult: earlier migrations and this migration so far."""

    history: History | None
    default_schema: str = DEFAULT_SCHEMA
    created_here: CreatedKeys = field(default_factory=CreatedKeys)
    columns: dict[tuple[str, str, str], ColumnMoment] = field(default_factory=dict)

    # Types this migration renamed so far: (schema, new name) -> old name. The rollback undoes
    # the rename last, so its earlier steps must call the type by its new name.
    renamed_types: dict[tuple[str, str], str] = field(default_factory=dict)
    # Relations (schema, name) this migration renamed away or dropped so far: a CREATE … IF NOT
    # EXISTS of that name afterwards creates a new one, whatever existed before.
    gone_here: set[tuple[str, str]] = field(default_factory=set)
    # Relations this migration renamed so far: (schema, new name) -> name before (a backup
    # renamed aside and dropped later is recreated from what it was called before).
    renamed_relations: dict[tuple[str, str], str] = field(default_factory=dict)
    # Columns this migration renamed so far: (schema, table, new name) -> name before.
    renamed_columns: dict[tuple[str, str, str], str] = field(default_factory=dict)

    def column_before(self, schema: str, table: str, column: str) -> ColumnState | None:
        """What earlier migrations tell of a column, by the name it had before this one."""
        if self.history is None:
            return None
        name = self.renamed_columns.get((schema, table, column), column)
        return self.history.column(schema, table, name)

    def type_now(self, type_sql: str) -> str:
        """A type as the rollback must name it at this point: after a rename made here, by
        the name the rename gave it (`contact_role` → `public.contact_role_old`)."""
        base, array = (type_sql[:-2], "[]") if type_sql.endswith("[]") else (type_sql, "")
        for (schema, new), old in self.renamed_types.items():
            if base in (old, quote_ident(old), f"{schema}.{old}", qualified_name(schema, old)):
                return qualified_name(schema, new) + array
        return type_sql

    def was_named(self, ref: ObjectRef) -> ObjectRef | None:
        """The type or relation `ref` as it was called before this migration renamed it."""
        key = (ref.schema or self.default_schema, ref.name)
        if ref.kind in ("table", "view", "materialized view", "sequence"):
            old = self.renamed_relations.get(key)
        else:
            old = self.renamed_types.get(key) if ref.kind in ("type", "domain") else None
        if old is None:
            return None
        return ObjectRef(ref.kind, old, ref.schema or self.default_schema)

    def moment(self, schema: str, table: str, column: str) -> ColumnMoment:
        return self.columns.setdefault((schema, table, column), ColumnMoment())

    def existed_before(self, ref: ObjectRef) -> bool | None:
        """True/False when earlier migrations tell; None when nothing is known of them."""
        if ref.key in self.created_here or (ref.schema or "", ref.name) in self.gone_here:
            return False
        if self.history is None:
            return None
        return self.history.knows(ref)


Rule = Callable[[Any, Statement, Context], Iterator[Inverse]]


def manual(need: ManualNeed, reason: str, target: ObjectRef | None = None) -> Inverse:
    return Inverse(manual=ManualItem(need=need, reason=reason, target=target))


def _drop_sql(kind: str, ref: ObjectRef, *, concurrently: bool = False) -> str:
    keyword = kind.upper()
    conc = " CONCURRENTLY" if concurrently else ""
    if ref.table:
        table = qualified_name(ref.schema, ref.table)
        return f"DROP {keyword} IF EXISTS {quote_ident(ref.name)} ON {table}"
    args = f"({ref.args})" if ref.args is not None else ""
    return f"DROP {keyword}{conc} IF EXISTS {ref.qualified}{args}"


def _replaced(
    ref: ObjectRef, st: Statement, ctx: Context, kind: str, drop: str
) -> Iterator[Inverse]:
    """CREATE OR REPLACE: drop it when new, restore the earlier definition when known."""
    existed = ctx.existed_before(ref)
    if existed is False:
        yield Inverse(drop, notes=(f"{ref.describe()} is new in this migration",))
        return
    previous = ctx.history.definition(ref) if ctx.history else None
    if existed and previous is not None:
        where = previous.statement.location
        if kind == "view":
            # CREATE OR REPLACE VIEW cannot drop columns the forward added: recreate it.
            yield Inverse(drop, notes=(f"recreated below from {where}",))
            yield Inverse(previous.text, notes=(f"restores the definition from {where}",))
            return
        restored = as_create_or_replace(previous.text)
        yield Inverse(restored, notes=(f"restores the definition from {where}",))
        return
    yield manual(
        ManualNeed.PRIOR_DEFINITION,
        f"{ref.describe()} is created with OR REPLACE and earlier migrations are not known: "
        f"if it existed before, restore its previous definition; if not, run: {drop}",
        ref,
    )


_PLAIN_CREATE = re.compile(
    r"^\s*create\s+(?!or\s+replace\b)(?=(function|procedure|view|trigger)\b)",
    re.IGNORECASE,
)


def as_create_or_replace(text: str) -> str:
    """An earlier `CREATE FUNCTION` re-run over the current one must replace it."""
    return _PLAIN_CREATE.sub("CREATE OR REPLACE ", text, count=1)


# --- CREATE -------------------------------------------------------------------------------


def _create_table(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
    if node.relation.relpersistence == "t":
        yield Inverse(notes=("a temporary table ends with the session",))
        return
    ref = relation(node.relation, ctx.default_schema)
    if node.if_not_exists and ctx.existed_before(ref):
        yield Inverse(notes=(f"{ref.describe()} existed before; IF NOT EXISTS changed nothing",))
        return
    notes = ["rows written to it since the migration are lost unless archived"]
    if node.if_not_exists and ctx.existed_before(ref) is None:
        notes.append("IF NOT EXISTS: if the table existed before the migration, keep it")
    ctx.created_here.add(ref.key)
    yield Inverse(f"DROP TABLE IF EXISTS {ref.qualified}", notes=tuple(notes))


def _create_index(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
    ref = object_key_for_index(node, ctx.default_schema)
    if node.if_not_exists and ctx.existed_before(ref):
        yield Inverse(notes=(f"{ref.describe()} existed before; IF NOT EXISTS changed nothing",))
        return
    ctx.created_here.add(ref.key)
    notes = () if node.idxname else (f"index name {ref.name} derived as PostgreSQL names it",)
    yield Inverse(_drop_sql("index", ref, concurrently=bool(node.concurrent)), notes=notes)


def _create_foreign_table(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
    ref = relation(node.base.relation, ctx.default_schema, "foreign table")
    if node.base.if_not_exists and ctx.existed_before(ref):
        yield Inverse(notes=(f"{ref.describe()} existed before; IF NOT EXISTS changed nothing",))
        return
    ctx.created_here.add(ref.key)
    yield Inverse(f"DROP FOREIGN TABLE IF EXISTS {ref.qualified}")


def _create_foreign_server(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
    ref = ObjectRef("server", str(node.servername))
    if node.if_not_exists and ctx.existed_before(ref):
        yield Inverse(notes=(f"{ref.describe()} existed before; IF NOT EXISTS changed nothing",))
        return
    ctx.created_here.add(ref.key)
    yield Inverse(f"DROP SERVER IF EXISTS {quote_ident(ref.name)}")


def _create_fdw(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
    ref = ObjectRef("foreign data wrapper", str(node.fdwname))
    ctx.created_here.add(ref.key)
    yield Inverse(f"DROP FOREIGN DATA WRAPPER IF EXISTS {quote_ident(ref.name)}")


def _create_view(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
    ref = relation(node.view, ctx.default_schema, "view")
    drop = _drop_sql("view", ref)
    if node.replace:
        yield from _replaced(ref, st, ctx, "view", drop)
    else:
        yield Inverse(drop)
    if not ctx.existed_before(ref):
        ctx.created_here.add(ref.key)


def _create_table_as(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
    is_matview = node.objtype == ObjectType.OBJECT_MATVIEW
    kind = "materialized view" if is_matview else "table"
    ref = relation(node.into.rel, ctx.default_schema, kind)
    if node.if_not_exists and ctx.existed_before(ref):
        yield Inverse(notes=(f"{ref.describe()} existed before; IF NOT EXISTS changed nothing",))
        return
    ctx.created_here.add(ref.key)
    yield Inverse(_drop_sql(kind, ref))


def _create_function(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
    schema, name = split_qualified(strings(node.funcname), ctx.default_schema)
    kind = "procedure" if node.is_procedure else "function"
    ref = ObjectRef(kind, name, schema, args=function_args(node.parameters))
    drop = _drop_sql(kind, ref)
    if node.replace:
        yield from _replaced(ref, st, ctx, kind, drop)
    else:
        yield Inverse(drop)
    if not ctx.existed_before(ref):
        ctx.created_here.add(ref.key)


def _create_trigger(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
    rel = relation(node.relation, ctx.default_schema)
    ref = ObjectRef("trigger", str(node.trigname), rel.schema, table=rel.name)
    drop = _drop_sql("trigger", ref)
    if node.replace:
        yield from _replaced(ref, st, ctx, "trigger", drop)
    else:
        yield Inverse(drop)
    if not ctx.existed_before(ref):
        ctx.created_here.add(ref.key)


def _create_policy(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
    rel = relation(node.table, ctx.default_schema)
    ref = ObjectRef("policy", str(node.policy_name), rel.schema, table=rel.name)
    ctx.created_here.add(ref.key)
    yield Inverse(_drop_sql("policy", ref))


def _alter_policy(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
    rel = relation(node.table, ctx.default_schema)
    ref = ObjectRef("policy", str(node.policy_name), rel.schema, table=rel.name)
    previous = ctx.history.definition(ref) if ctx.history else None
    if ref.key in ctx.created_here:
        yield Inverse(notes=(f"{ref.describe()} is new; dropping it undoes this too",))
    elif previous is not None and previous.statement.kind == "CreatePolicyStmt":
        yield Inverse(_drop_sql("policy", ref))
        yield Inverse(
            previous.text, notes=(f"restores {ref.describe()} from {previous.statement.location}",)
        )
    else:
        yield manual(ManualNeed.PRIOR_DEFINITION, f"restore the previous {ref.describe()}", ref)


def _create_simple(kind: str) -> Rule:
    def rule(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
        ref = simple_object_ref(kind, node, ctx.default_schema)
        if ref is None:
            yield manual(ManualNeed.UNSUPPORTED, f"{st.kind} is not understood")
            return
        if_not_exists = bool(getattr(node, "if_not_exists", False))
        if ref.kind == "extension" and if_not_exists and ref.name in PLATFORM_EXTENSIONS:
            yield Inverse(notes=(f"extension {ref.name} is part of the platform; kept",))
            return
        if if_not_exists and ctx.existed_before(ref):
            yield Inverse(notes=(f"{ref.describe()} existed before; nothing to undo",))
            return
        ctx.created_here.add(ref.key)
        notes: tuple[str, ...] = ()
        if if_not_exists and ctx.existed_before(ref) is None:
            notes = (f"IF NOT EXISTS: if {ref.describe()} existed before the migration, keep it",)
        drop_kind = "type" if kind == "type" else kind
        yield Inverse(_drop_sql(drop_kind, ref), notes=notes)

    return rule


# --- ALTER TABLE ----------------------------------------------------------------------------


def _alter_table(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
    rel = relation(node.relation, ctx.default_schema)
    table_kw = _relation_keyword(node.objtype)
    if_exists = " IF EXISTS" if node.missing_ok else ""
    prefix = f"ALTER {table_kw}{if_exists} {rel.qualified}"
    kind = _OWNED_RELATION.get(table_kw, "table")
    pieces = [list(_alter_cmd(cmd, rel, prefix, st, ctx, kind)) for cmd in node.cmds or ()]
    for piece in reversed(pieces):
        yield from piece


def _takes_from_sequence(default: Any) -> bool:
    """Whether a column default is `nextval(…)` (a serial column written out, as pg_dump does)."""
    if not isinstance(default, ast.FuncCall):
        return False
    return str(default.funcname[-1].sval).lower() == "nextval"


def _alter_sequence(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
    ref = relation(node.sequence, ctx.default_schema, kind="sequence")
    if ref.key in ctx.created_here:
        yield Inverse(notes=(f"{ref.describe()} is new; dropping it undoes this too",))
        return
    yield manual(ManualNeed.UNSUPPORTED, f"{st.kind} ({st.first_line}) has no automatic inverse")


def _relation_keyword(objtype: Any) -> str:
    return {
        ObjectType.OBJECT_VIEW: "VIEW",
        ObjectType.OBJECT_MATVIEW: "MATERIALIZED VIEW",
        ObjectType.OBJECT_INDEX: "INDEX",
        ObjectType.OBJECT_SEQUENCE: "SEQUENCE",
        ObjectType.OBJECT_FOREIGN_TABLE: "FOREIGN TABLE",
    }.get(objtype, "TABLE")


_TOGGLES: dict[AT, str] = {
    AT.AT_EnableRowSecurity: "DISABLE ROW LEVEL SECURITY",
    AT.AT_DisableRowSecurity: "ENABLE ROW LEVEL SECURITY",
    AT.AT_ForceRowSecurity: "NO FORCE ROW LEVEL SECURITY",
    AT.AT_NoForceRowSecurity: "FORCE ROW LEVEL SECURITY",
}


def _alter_cmd(
    cmd: Any, rel: ObjectRef, prefix: str, st: Statement, ctx: Context, kind: str = "table"
) -> Iterator[Inverse]:
    sub = cmd.subtype
    schema, table = str(rel.schema), rel.name
    col = quote_ident(str(cmd.name)) if cmd.name else ""
    state = ctx.column_before(schema, table, str(cmd.name))
    column_ref = ObjectRef("column", table, schema, column=cmd.name)
    table_is_new = rel.key in ctx.created_here or column_ref.key in ctx.created_here
    if sub == AT.AT_AddColumn and isinstance(cmd.def_, ast.ColumnDef):
        name = str(cmd.def_.colname)
        existing = ctx.history.column(schema, table, name) if ctx.history else None
        if cmd.missing_ok and existing is not None:
            yield Inverse(notes=(f"column {name} existed before; IF NOT EXISTS changed nothing",))
            return
        ctx.created_here.add(ObjectRef("column", table, schema, column=name).key)
        yield Inverse(
            f"{prefix} DROP COLUMN IF EXISTS {quote_ident(name)}",
            notes=(f"values written to column {name} since the migration are lost",),
        )
    elif sub == AT.AT_AddConstraint and isinstance(cmd.def_, ast.Constraint):
        name = constraint_name(table, cmd.def_)
        notes = (
            () if cmd.def_.conname else (f"constraint name {name} derived as PostgreSQL names it",)
        )
        yield Inverse(f"{prefix} DROP CONSTRAINT IF EXISTS {quote_ident(name)}", notes=notes)
    elif sub in _TOGGLES:
        already = _rls_state_before(sub, schema, table, ctx)
        if already:
            yield Inverse(notes=(f"row level security on {rel.qualified} was already so",))
        else:
            yield Inverse(f"{prefix} {_TOGGLES[sub]}")
    elif sub in (AT.AT_EnableTrig, AT.AT_DisableTrig):
        back = "DISABLE" if sub == AT.AT_EnableTrig else "ENABLE"
        yield Inverse(f"{prefix} {back} TRIGGER {col}")
    elif sub == AT.AT_AddIdentity:
        yield Inverse(f"{prefix} ALTER COLUMN {col} DROP IDENTITY IF EXISTS")
    elif sub == AT.AT_ChangeOwner:
        yield from _owner_back(ObjectRef(kind, table, schema), ctx)
    elif sub == AT.AT_ValidateConstraint:
        yield Inverse(notes=("validating a constraint needs no undo",))
    elif sub == AT.AT_AlterColumnType:
        moment = ctx.moment(schema, table, str(cmd.name))
        new_type = deparse(cmd.def_.typeName) if isinstance(cmd.def_, ast.ColumnDef) else None
        prior = moment.type_before(state)
        if table_is_new:
            yield Inverse(notes=("the table or column is new in this migration",))
        elif prior is not None:
            prior = ctx.type_now(prior)
            yield from _type_back(prefix, col, new_type, prior, moment.default_before(state))
        else:
            yield manual(
                ManualNeed.PRIOR_COLUMN_TYPE,
                f"column {cmd.name} of {rel.qualified} changed type; restore the previous type "
                "(ALTER COLUMN ... TYPE <old> USING ...); values that do not fit are lost",
                column_ref,
            )
        if isinstance(cmd.def_, ast.ColumnDef):
            moment.type_node = cmd.def_.typeName
    elif sub == AT.AT_ColumnDefault:
        moment = ctx.moment(schema, table, str(cmd.name))
        prior_default = moment.default_before(state)
        if table_is_new and _takes_from_sequence(cmd.def_):
            # pg_dump's order: the sequence is made after the table, so the rollback drops it
            # first; the default must let go of it before then.
            yield Inverse(f"{prefix} ALTER COLUMN {col} DROP DEFAULT")
        elif table_is_new:
            yield Inverse(notes=("the table or column is new in this migration",))
        elif prior_default is not UNKNOWN:
            if prior_default is None:
                yield Inverse(f"{prefix} ALTER COLUMN {col} DROP DEFAULT")
            else:
                yield Inverse(f"{prefix} ALTER COLUMN {col} SET DEFAULT {prior_default}")
        else:
            yield manual(
                ManualNeed.PRIOR_COLUMN_DEFAULT,
                f"default of {rel.qualified}.{col} changed; restore the previous default",
                column_ref,
            )
        moment.default_known, moment.default_node = True, cmd.def_
    elif sub in (AT.AT_SetNotNull, AT.AT_DropNotNull):
        moment = ctx.moment(schema, table, str(cmd.name))
        was_not_null = moment.not_null if moment.not_null is not None else (
            state.not_null if state is not None else None
        )  # fmt: skip
        if table_is_new:
            yield Inverse(notes=("the table or column is new in this migration",))
        elif was_not_null is not None:
            back = "SET NOT NULL" if was_not_null else "DROP NOT NULL"
            if was_not_null != (sub == AT.AT_SetNotNull):
                yield Inverse(f"{prefix} ALTER COLUMN {col} {back}")
            else:
                yield Inverse(notes=(f"{rel.qualified}.{col} nullability was already so",))
        else:
            yield manual(
                ManualNeed.PRIOR_NOT_NULL,
                f"nullability of {rel.qualified}.{col} changed; restore it if it differed",
                column_ref,
            )
        moment.not_null = sub == AT.AT_SetNotNull
    elif sub == AT.AT_DropColumn:
        yield from _recreate_column(prefix, rel, str(cmd.name), state, ctx)
    elif sub == AT.AT_DropConstraint:
        ref = ObjectRef("constraint", str(cmd.name), schema, table=table)
        previous = ctx.history.definition(ref) if ctx.history else None
        if previous is not None and not previous.is_statement:
            yield Inverse(
                f"{prefix} ADD {previous.text}",
                notes=(f"recreates constraint {cmd.name} from {previous.statement.location}",),
                recreates=ref,
            )
        else:
            yield manual(
                ManualNeed.RECREATE_DROPPED,
                f"constraint {cmd.name} on {rel.qualified} was dropped; recreate it",
                ref,
            )
    elif sub == AT.AT_ReplicaIdentity:
        if table_is_new:
            yield Inverse(notes=("the table is new in this migration",))
        else:
            yield manual(
                ManualNeed.PRIOR_REPLICA_IDENTITY,
                f"replica identity of {rel.qualified} changed; set the previous one back",
                rel,
            )
    elif sub == AT.AT_AttachPartition:
        part = cmd.def_.name if isinstance(cmd.def_, ast.PartitionCmd) else None
        if part is not None:
            yield Inverse(
                f"{prefix} DETACH PARTITION {relation(part, ctx.default_schema).qualified}"
            )
        else:
            yield manual(ManualNeed.UNSUPPORTED, "detach the partition attached here")
    else:
        yield manual(
            ManualNeed.UNSUPPORTED,
            f"ALTER TABLE {rel.qualified} {sub.name.removeprefix('AT_')}: undo by hand",
            rel,
        )


def _type_back(
    prefix: str, col: str, new_type: str | None, prior: str, prior_default: object
) -> Iterator[Inverse]:
    """Back to the previous type, each default fitting the type it is set under: the default
    the column had then is set again after the change (ALTER TYPE converts the current one,
    which may not convert back)."""
    with_default = isinstance(prior_default, str)
    note = f"previous type {prior}; rewrites the table"
    if with_default:
        yield Inverse(f"{prefix} ALTER COLUMN {col} DROP DEFAULT", notes=(note,))
    expression = casts.using(col, new_type, prior)
    yield Inverse(
        f"{prefix} ALTER COLUMN {col} TYPE {prior} USING {expression}",
        notes=() if with_default else (note,),
    )
    if with_default:
        yield Inverse(f"{prefix} ALTER COLUMN {col} SET DEFAULT {prior_default}")


_OWNED_RELATION = {"VIEW": "view", "MATERIALIZED VIEW": "materialized view",
                   "SEQUENCE": "sequence", "FOREIGN TABLE": "foreign table"}  # fmt: skip


def _owner_back(ref: ObjectRef, ctx: Context) -> Iterator[Inverse]:
    """OWNER TO: nothing when the object is new here; else the previous owner (the shadow
    knows it; the SQL of earlier migrations does not say who ran them)."""
    if ref.key in ctx.created_here or ctx.created_here.has_name(ref.schema or "", ref.name):
        yield Inverse(notes=(f"{ref.describe()} is new in this migration",))
        return
    yield manual(
        ManualNeed.PRIOR_OWNER, f"{ref.describe()} changed owner; give it back to its previous "
        "owner (ALTER ... OWNER TO <previous>)", ref,
    )  # fmt: skip


_OWNER_KIND: dict[ObjectType, str] = {
    ObjectType.OBJECT_FUNCTION: "function", ObjectType.OBJECT_PROCEDURE: "procedure",
    ObjectType.OBJECT_AGGREGATE: "aggregate", ObjectType.OBJECT_TYPE: "type",
    ObjectType.OBJECT_DOMAIN: "domain", ObjectType.OBJECT_SCHEMA: "schema",
    ObjectType.OBJECT_PUBLICATION: "publication", ObjectType.OBJECT_EXTENSION: "extension",
}  # fmt: skip


def _alter_owner(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
    kind = _OWNER_KIND.get(node.objectType)
    obj = node.object
    ref: ObjectRef | None = None
    if kind is None:
        pass
    elif isinstance(obj, ast.ObjectWithArgs):
        ref = object_with_args(obj, ctx.default_schema, kind)
    elif isinstance(obj, ast.String):
        ref = ObjectRef(kind, str(obj.sval))
    elif isinstance(obj, tuple):
        schema, name = split_qualified(strings(obj), ctx.default_schema)
        ref = ObjectRef(kind, name, schema)
    if ref is None:
        yield manual(ManualNeed.UNSUPPORTED, f"give back the previous owner: {st.first_line}")
        return
    yield from _owner_back(ref, ctx)


def _rls_state_before(sub: AT, schema: str, table: str, ctx: Context) -> bool:
    """Whether the table was already in the state this subcommand sets (so: nothing to undo)."""
    if ctx.history is None:
        return False
    key = (schema, table)
    if sub == AT.AT_EnableRowSecurity:
        return key in ctx.history.rls_enabled
    if sub == AT.AT_DisableRowSecurity:
        return key not in ctx.history.rls_enabled
    if sub == AT.AT_ForceRowSecurity:
        return key in ctx.history.rls_forced
    return key not in ctx.history.rls_forced


def _recreate_column(
    prefix: str, rel: ObjectRef, name: str, state: Any, ctx: Context
) -> Iterator[Inverse]:
    target = ObjectRef("column", rel.name, rel.schema, column=name)
    if state is None:
        yield manual(
            ManualNeed.RECREATE_DROPPED,
            f"column {name} of {rel.qualified} was dropped with its values; recreate it and "
            "restore the values from a backup",
            target,
        )
        return
    if state.generated is not None:
        # Its values are computed from the row: re-adding the expression brings them back.
        not_null = " NOT NULL" if state.not_null else ""
        yield Inverse(
            f"{prefix} ADD COLUMN IF NOT EXISTS {quote_ident(name)} {state.type} "
            f"GENERATED ALWAYS AS ({state.generated}) STORED{not_null}",
            notes=(f"recreates generated column {name}; its values are computed again",),
        )
        return
    default = f" DEFAULT {state.default}" if state.default else ""
    yield Inverse(
        f"{prefix} ADD COLUMN IF NOT EXISTS {quote_ident(name)} {state.type}{default}",
        notes=(f"recreates column {name} (structure only: its values are gone)",),
    )
    yield manual(
        ManualNeed.RECREATE_DROPPED,
        f"the values of {rel.qualified}.{name} were dropped by the migration: restore them "
        "from a backup" + (" and then SET NOT NULL" if state.not_null else ""),
        target,
    )


# --- renames, schema moves, enums ------------------------------------------------------------

_RENAME_KEYWORD = {
    ObjectType.OBJECT_TABLE: "TABLE",
    ObjectType.OBJECT_VIEW: "VIEW",
    ObjectType.OBJECT_MATVIEW: "MATERIALIZED VIEW",
    ObjectType.OBJECT_INDEX: "INDEX",
    ObjectType.OBJECT_SEQUENCE: "SEQUENCE",
    ObjectType.OBJECT_FOREIGN_TABLE: "FOREIGN TABLE",
}


def _rename(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
    rt = node.renameType
    new = quote_ident(str(node.newname))
    if rt in _RENAME_KEYWORD and node.relation is not None:
        rel = relation(node.relation, ctx.default_schema)
        renamed = qualified_name(rel.schema, str(node.newname))
        ctx.gone_here.add((rel.schema or "", rel.name))
        schema = rel.schema or ctx.default_schema
        first = ctx.renamed_relations.pop((schema, rel.name), rel.name)
        ctx.renamed_relations[(schema, str(node.newname))] = first
        yield Inverse(
            f"ALTER {_RENAME_KEYWORD[rt]} IF EXISTS {renamed} RENAME TO {quote_ident(rel.name)}"
        )
    elif rt in (ObjectType.OBJECT_COLUMN, ObjectType.OBJECT_TABCONSTRAINT) and node.relation:
        rel = relation(node.relation, ctx.default_schema)
        keyword = _RENAME_KEYWORD.get(node.relationType, "TABLE")
        what = "COLUMN" if rt == ObjectType.OBJECT_COLUMN else "CONSTRAINT"
        old = quote_ident(str(node.subname))
        if rt == ObjectType.OBJECT_COLUMN:
            _follow_column_rename(ctx, rel, str(node.subname), str(node.newname))
        yield Inverse(f"ALTER {keyword} {rel.qualified} RENAME {what} {new} TO {old}")
    elif rt in (ObjectType.OBJECT_TRIGGER, ObjectType.OBJECT_POLICY) and node.relation:
        rel = relation(node.relation, ctx.default_schema)
        what = "TRIGGER" if rt == ObjectType.OBJECT_TRIGGER else "POLICY"
        yield Inverse(
            f"ALTER {what} {new} ON {rel.qualified} RENAME TO {quote_ident(str(node.subname))}"
        )
    elif rt == ObjectType.OBJECT_SCHEMA:
        yield Inverse(f"ALTER SCHEMA {new} RENAME TO {quote_ident(str(node.subname))}")
    elif rt in (ObjectType.OBJECT_FUNCTION, ObjectType.OBJECT_PROCEDURE) and isinstance(
        node.object, ast.ObjectWithArgs
    ):
        kind = "function" if rt == ObjectType.OBJECT_FUNCTION else "procedure"
        ref = object_with_args(node.object, ctx.default_schema, kind)
        renamed = qualified_name(ref.schema, str(node.newname))
        args = f"({ref.args})" if ref.args is not None else ""
        yield Inverse(f"ALTER {kind.upper()} {renamed}{args} RENAME TO {quote_ident(ref.name)}")
    elif rt in (ObjectType.OBJECT_TYPE, ObjectType.OBJECT_DOMAIN):
        schema, name = split_qualified(strings(node.object), ctx.default_schema)
        what = "TYPE" if rt == ObjectType.OBJECT_TYPE else "DOMAIN"
        renamed = qualified_name(schema, str(node.newname))
        ctx.renamed_types[(schema, str(node.newname))] = name
        yield Inverse(f"ALTER {what} {renamed} RENAME TO {quote_ident(name)}")
    else:
        yield manual(ManualNeed.UNSUPPORTED, f"rename back: {st.first_line}")


def _follow_column_rename(ctx: Context, rel: ObjectRef, old: str, new: str) -> None:
    """What this migration did to the column so far, and its name before, move to `new`."""
    schema = str(rel.schema)
    ctx.renamed_columns[(schema, rel.name, new)] = ctx.renamed_columns.pop(
        (schema, rel.name, old), old
    )
    moment = ctx.columns.pop((schema, rel.name, old), None)
    if moment is not None:
        ctx.columns[(schema, rel.name, new)] = moment
    if ObjectRef("column", rel.name, schema, column=old).key in ctx.created_here:
        ctx.created_here.add(ObjectRef("column", rel.name, schema, column=new).key)


def _alter_function(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
    """ALTER FUNCTION … SET / RESET / SECURITY / COST …: nothing on a function made here, else
    its definition before (the shadow's: CREATE OR REPLACE restates every attribute)."""
    kind = "procedure" if node.objtype == ObjectType.OBJECT_PROCEDURE else "function"
    ref = object_with_args(node.func, ctx.default_schema, kind)
    if ref.key in ctx.created_here:
        yield Inverse(notes=(f"{ref.describe()} is new in this migration",))
        return
    yield manual(
        ManualNeed.PRIOR_DEFINITION,
        f"{ref.describe()} was altered ({st.first_line}); restore its previous settings",
        ref,
    )


def _set_schema(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
    new_schema = str(node.newschema)
    ot = node.objectType
    if node.relation is not None and ot in _RENAME_KEYWORD:
        rel = relation(node.relation, ctx.default_schema)
        moved = qualified_name(new_schema, rel.name)
        back = quote_ident(str(rel.schema))
        yield Inverse(f"ALTER {_RENAME_KEYWORD[ot]} IF EXISTS {moved} SET SCHEMA {back}")
    elif ot in (ObjectType.OBJECT_FUNCTION, ObjectType.OBJECT_PROCEDURE) and isinstance(
        node.object, ast.ObjectWithArgs
    ):
        kind = "FUNCTION" if ot == ObjectType.OBJECT_FUNCTION else "PROCEDURE"
        ref = object_with_args(node.object, ctx.default_schema)
        args = f"({ref.args})" if ref.args is not None else ""
        moved = qualified_name(new_schema, ref.name)
        yield Inverse(f"ALTER {kind} {moved}{args} SET SCHEMA {quote_ident(str(ref.schema))}")
    elif ot in (ObjectType.OBJECT_TYPE, ObjectType.OBJECT_DOMAIN):
        schema, name = split_qualified(strings(node.object), ctx.default_schema)
        kind = "TYPE" if ot == ObjectType.OBJECT_TYPE else "DOMAIN"
        yield Inverse(
            f"ALTER {kind} {qualified_name(new_schema, name)} SET SCHEMA {quote_ident(schema)}"
        )
    else:
        yield manual(ManualNeed.UNSUPPORTED, f"move back: {st.first_line}")


def _alter_enum(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
    schema, name = split_qualified(strings(node.typeName), ctx.default_schema)
    ref = ObjectRef("type", name, schema)
    if node.oldVal:
        old, new = _literal(str(node.oldVal)), _literal(str(node.newVal))
        yield Inverse(f"ALTER TYPE {ref.qualified} RENAME VALUE {new} TO {old}")
        return
    if ref.key in ctx.created_here:
        yield Inverse(notes=(f"{ref.describe()} is new; dropping it removes the value",))
        return
    yield manual(
        ManualNeed.ENUM_VALUE,
        f"value {_literal(str(node.newVal))} was added to {ref.describe()}: PostgreSQL cannot "
        "remove an enum value; recreate the type without it (rewrites every column using it) "
        "after making sure no row holds the value",
        ref,
    )


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


# --- privileges, comments, publications ------------------------------------------------------


def _qualified_objects(objects: Any, default_schema: str) -> Any:
    """Grant targets with their schema spelled out, so the revoke hits the same objects."""
    out = []
    for obj in objects or ():
        if isinstance(obj, ast.RangeVar) and not obj.schemaname:
            obj = ast.RangeVar(
                schemaname=default_schema, relname=obj.relname, inh=obj.inh,
                relpersistence=obj.relpersistence,
            )  # fmt: skip
        elif isinstance(obj, ast.ObjectWithArgs) and len(obj.objname or ()) == 1:
            obj = ast.ObjectWithArgs(
                objname=(ast.String(sval=default_schema), *obj.objname),
                objargs=obj.objargs,
                objfuncargs=obj.objfuncargs,
                args_unspecified=obj.args_unspecified,
            )
        out.append(obj)
    return tuple(out)


def _grant(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
    flipped = ast.GrantStmt(
        is_grant=not node.is_grant,
        targtype=node.targtype,
        objtype=node.objtype,
        objects=_qualified_objects(node.objects, ctx.default_schema),
        privileges=node.privileges,
        grantees=node.grantees,
        grant_option=False,
        grantor=node.grantor,
        behavior=None,
    )
    notes: tuple[str, ...] = ()
    if not node.is_grant:
        notes = ("re-grants what was revoked; if it was never granted, remove this line",)
    yield Inverse(deparse(flipped), notes=notes)


def _grant_role(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
    flipped = ast.GrantRoleStmt(
        granted_roles=node.granted_roles,
        grantee_roles=node.grantee_roles,
        is_grant=not node.is_grant,
        opt=None,
        grantor=node.grantor,
        behavior=None,
    )
    yield Inverse(deparse(flipped))


def _default_privileges(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
    action = node.action
    flipped_action = ast.GrantStmt(
        is_grant=not action.is_grant,
        targtype=action.targtype,
        objtype=action.objtype,
        objects=action.objects,
        privileges=action.privileges,
        grantees=action.grantees,
        grant_option=False,
        behavior=None,
    )
    yield Inverse(
        deparse(ast.AlterDefaultPrivilegesStmt(options=node.options, action=flipped_action))
    )


def _comment_target(node: Any, default_schema: str) -> ObjectRef | None:
    obj = node.object
    kind = str(node.objtype.name).removeprefix("OBJECT_").lower()
    if isinstance(obj, ast.ObjectWithArgs):
        return object_with_args(obj, default_schema, kind)
    parts = strings(obj.names) if isinstance(obj, ast.TypeName) else strings(obj)
    if not parts:
        return None
    if kind == "column":
        schema, table = split_qualified(parts[:-1], default_schema)
        return ObjectRef("column", table, schema, column=parts[-1])
    if kind in ("schema", "extension", "publication", "role"):
        return ObjectRef(kind, parts[-1])
    schema, name = split_qualified(parts, default_schema)
    return ObjectRef("view" if kind == "view" else kind, name, schema)


def _comment_on_new_object(node: Any, ctx: Context) -> bool:
    ref = _comment_target(node, ctx.default_schema)
    if ref is None:
        return False
    if ref.kind == "column":
        table = ObjectRef("table", ref.name, ref.schema)
        return ref.key in ctx.created_here or table.key in ctx.created_here
    return ctx.created_here.has_name(ref.schema or "", ref.name)


def _comment(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
    target = deparse(node.object) if isinstance(node.object, ast.Node) else repr(node.object)
    on_new_object = _comment_on_new_object(node, ctx)
    reset = deparse(ast.CommentStmt(objtype=node.objtype, object=node.object, comment=None))
    if on_new_object:
        yield Inverse(reset, notes=("the object is new in this migration",))
        return
    key = target + str(node.objtype)
    if ctx.history is not None and key in ctx.history.comments:
        previous = ctx.history.comments[key]
        restored = deparse(
            ast.CommentStmt(objtype=node.objtype, object=node.object, comment=previous)
        )
        yield Inverse(restored, notes=("restores the comment set by an earlier migration",))
        return
    ref = _comment_target(node, ctx.default_schema)
    owner = ObjectRef("table", ref.name, ref.schema) if ref and ref.kind == "column" else ref
    if ctx.history is not None and owner is not None and ctx.history.knows(owner):
        yield Inverse(reset, notes=("earlier migrations created it without a comment",))
        return
    yield manual(
        ManualNeed.PRIOR_DEFINITION,
        f"restore the comment it had before (it predates the known migrations): {st.first_line}",
    )


def _alter_publication(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
    if node.action == AlterPublicationAction.AP_SetObjects:
        yield manual(
            ManualNeed.PRIOR_DEFINITION, f"restore the table list of publication {node.pubname}"
        )
        return
    if not node.pubobjects:  # `SET (publish = ...)`: options only, their prior values unknown
        yield manual(
            ManualNeed.PRIOR_DEFINITION, f"restore the options of publication {node.pubname}"
        )
        return
    back = "DROP" if node.action == AlterPublicationAction.AP_AddObjects else "ADD"
    objects = []
    for spec in node.pubobjects or ():
        table = getattr(spec, "pubtable", None)
        if table is None:
            yield manual(ManualNeed.UNSUPPORTED, f"undo by hand: {st.first_line}")
            return
        objects.append(relation(table.relation, ctx.default_schema).qualified)
    yield Inverse(
        f"ALTER PUBLICATION {quote_ident(str(node.pubname))} {back} TABLE {', '.join(objects)}"
    )


# --- data -------------------------------------------------------------------------------------


def _insert(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
    rel = relation(node.relation, ctx.default_schema)
    if rel.key in ctx.created_here:
        yield Inverse(notes=(f"rows go with {rel.qualified}, which the rollback drops",))
        return
    rows = _literal_rows(node)
    keys = _row_key(ctx, rel, [str(c.name) for c in node.cols or ()], rows)
    if not keys or rows is None or not node.cols:
        yield manual(
            ManualNeed.DATA_CHANGE,
            f"review data inserted into {rel.qualified}: no literal primary key to delete by",
            rel,
        )
        return
    cols = [str(c.name) for c in node.cols]
    if any(k not in cols for k in keys):
        yield manual(ManualNeed.DATA_CHANGE, f"review data inserted into {rel.qualified}", rel)
        return
    tuples = []
    for row in rows:
        values = [deparse(row[cols.index(k)]) for k in keys]
        tuples.append(values[0] if len(values) == 1 else "(" + ", ".join(values) + ")")
    key_cols = ", ".join(quote_ident(k) for k in keys)
    target = key_cols if len(keys) == 1 else f"({key_cols})"
    sql = f"DELETE FROM {rel.qualified} WHERE {target} IN ({', '.join(tuples)})"
    if node.onConflictClause is not None:
        yield manual(
            ManualNeed.DATA_CHANGE,
            f"ON CONFLICT: rows of {rel.qualified} that existed before were not inserted; "
            f"delete only the new ones: {sql}",
            rel,
        )
        return
    yield Inverse(sql, notes=(f"removes the {len(rows)} row(s) the migration inserted",))


def _row_key(
    ctx: Context, rel: ObjectRef, cols: list[str], rows: list[tuple[Any, ...]] | None
) -> tuple[str, ...] | None:
    """The key the inserted rows are found by again: the primary key, else a UNIQUE key whose
    columns the INSERT gives, none of them NULL (a unique key holds one row per value)."""
    if ctx.history is None:
        return None
    table = (str(rel.schema), rel.name)
    primary = ctx.history.primary_keys.get(table)
    if primary and all(k in cols for k in primary):
        return primary
    for unique in ctx.history.unique_keys.get(table, ()):
        if (
            all(k in cols for k in unique)
            and rows is not None
            and not any(_is_null(row[cols.index(k)]) for row in rows for k in unique)
        ):
            return unique
    return primary


def _is_null(value: Any) -> bool:
    return isinstance(value, ast.A_Const) and bool(getattr(value, "isnull", False))


def _literal_rows(node: Any) -> list[tuple[Any, ...]] | None:
    select = node.selectStmt
    if not isinstance(select, ast.SelectStmt) or not select.valuesLists:
        return None
    rows = [tuple(r) for r in select.valuesLists]
    for row in rows:
        if not all(isinstance(v, ast.A_Const | ast.TypeCast) for v in row):
            return None
    return rows


def _data_change(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
    rel = relation(node.relation, ctx.default_schema) if getattr(node, "relation", None) else None
    if rel is not None and rel.key in ctx.created_here:  # as for INSERT (see _insert)
        yield Inverse(notes=(f"rows go with {rel.qualified}, which the rollback drops",))
        return
    yield manual(
        ManualNeed.DATA_CHANGE,
        f"{st.kind.removesuffix('Stmt').upper()} changed rows"
        + (f" of {rel.qualified}" if rel else "")
        + ": restore them from the backup taken before the migration",
        rel,
    )


# --- drops and the rest ------------------------------------------------------------------------


def _drop(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
    from migration_rollback.sql.classify import classify

    for target in classify(st).targets:
        ref = _with_default_schema(target, ctx.default_schema)
        if ref.table is None and ref.column is None:
            ctx.gone_here.add((ref.schema or "", ref.name))
        previous = ctx.history.definition(ref) if ctx.history else None
        holds_data = ref.kind in ("table", "schema", "sequence")
        if previous is not None and not holds_data and previous.is_statement:
            yield Inverse(
                previous.text,
                notes=(f"recreates {ref.describe()} from {previous.statement.location}",),
                recreates=ref,
            )
            continue
        reason = f"{ref.describe()} was dropped; recreate it"
        if holds_data:
            reason += " and restore its data from the backup taken before the migration"
        yield Inverse(
            manual=ManualItem(ManualNeed.RECREATE_DROPPED, reason, ref, ctx.was_named(ref))
        )


def _with_default_schema(ref: ObjectRef, default_schema: str) -> ObjectRef:
    if ref.schema == DEFAULT_SCHEMA and default_schema != DEFAULT_SCHEMA:
        return ObjectRef(ref.kind, ref.name, default_schema, ref.column, ref.args, ref.table)
    return ref


def _dynamic(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
    yield manual(
        ManualNeed.DYNAMIC,
        f"{st.kind.removesuffix('Stmt')} at line {st.location.line} runs code the generator "
        "cannot see into; undo its effects by hand",
    )


def _select(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
    if node.intoClause is not None:  # SELECT ... INTO creates a table
        ref = relation(node.intoClause.rel, ctx.default_schema)
        if node.intoClause.rel.relpersistence == "t":
            yield Inverse(notes=("a temporary table ends with the session",))
            return
        ctx.created_here.add(ref.key)
        yield Inverse(_drop_sql("table", ref))
        return
    calls = platform_calls.plain_calls(node)
    if calls is not None:
        undone = [_undo_call(call, ctx) for call in reversed(calls)]
        if all(u is not None for u in undone):
            yield from (u for u in undone if u is not None)
            return
    if effects.locks_or_reads_only(node, effects.PLATFORM_NOTHING_LASTING):
        yield Inverse(notes=("a query of functions with no lasting effect changes nothing",))
    else:
        yield from _dynamic(node, st, ctx)


def _undo_call(call: platform_calls.Call, ctx: Context) -> Inverse | None:
    """The undo of one known platform call; None for a call this table does not know."""
    effect = call.effect
    if effect is None:
        return None
    undo = _CALL_UNDO.get(effect)
    if undo is None:
        return Inverse(notes=(f"{call.schema or 'pg_catalog'}.{call.name} {effect}: nothing "
                              "lasting to undo",))  # fmt: skip
    return undo(call, ctx)


def _previous_job(call: platform_calls.Call, ctx: Context) -> platform_calls.Call | None:
    """The schedule an earlier migration gave the same named job, if there was one."""
    ref = platform_calls.cron_job_ref(call)
    if ref is None or ref.key in ctx.created_here or ctx.history is None:
        return None
    definition = ctx.history.definition(ref)
    return platform_calls.job_call(definition.statement.node, ref) if definition else None


def _undo_schedule(call: platform_calls.Call, ctx: Context) -> Inverse | None:
    previous = _previous_job(call, ctx)
    ref = platform_calls.cron_job_ref(call)
    if ref is not None:
        ctx.created_here.add(ref.key)
    if previous is not None:
        return Inverse(f"SELECT {previous.sql()}", notes=("the job's earlier schedule",))
    unschedule = platform_calls.unschedule_sql(call)
    if unschedule is None:
        return manual(ManualNeed.DYNAMIC, "a cron job whose name or schedule is not a literal")
    return Inverse(unschedule)


def _undo_unschedule(call: platform_calls.Call, ctx: Context) -> Inverse | None:
    ref = platform_calls.cron_job_ref(call)
    previous = _previous_job(call, ctx)
    if previous is not None:
        return Inverse(f"SELECT {previous.sql()}")
    what = f"cron job {ref.name!r}" if ref else "a cron job given by id"
    return manual(ManualNeed.PRIOR_DEFINITION, f"{what} was unscheduled; its schedule and "
                  "command are not known from earlier migrations", ref)  # fmt: skip


def _undo_secret(call: platform_calls.Call, ctx: Context) -> Inverse | None:
    delete = platform_calls.delete_secret_sql(call)
    if delete is None:
        return manual(ManualNeed.DATA_CHANGE, "a vault secret stored without a literal name "
                      "cannot be told apart from others; remove it by hand")  # fmt: skip
    return Inverse(delete)


_CALL_UNDO: dict[
    platform_calls.Effect, Callable[[platform_calls.Call, Context], Inverse | None]
] = {
    platform_calls.Effect.SCHEDULES_JOB: _undo_schedule,
    platform_calls.Effect.UNSCHEDULES_JOB: _undo_unschedule,
    platform_calls.Effect.CREATES_SECRET: _undo_secret,
}


def _nothing(reason: str) -> Rule:
    def rule(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
        yield Inverse(notes=(reason,))

    return rule


def _explain(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
    """EXPLAIN plans a statement; EXPLAIN ANALYZE runs it, so its effects need the undo."""
    analyze = any(str(getattr(o, "defname", "")).lower() == "analyze" for o in node.options or ())
    if not analyze:
        yield Inverse(notes=("EXPLAIN without ANALYZE runs nothing",))
        return
    inner = Statement(deparse(node.query), st.location, st.index, node.query)
    yield from invert(inner, ctx)


def _set(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
    schema = search_path_schema(node)
    if schema:
        ctx.default_schema = schema
    yield Inverse(notes=("session setting; nothing to undo",))


def _create_role(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
    yield Inverse(
        f"DROP ROLE IF EXISTS {quote_ident(str(node.role))}",
        notes=("roles are cluster-wide: make sure no other database uses it",),
    )


def _rule_stmt(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
    rel = relation(node.relation, ctx.default_schema)
    yield Inverse(f"DROP RULE IF EXISTS {quote_ident(str(node.rulename))} ON {rel.qualified}")


def _event_trigger(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
    yield Inverse(f"DROP EVENT TRIGGER IF EXISTS {quote_ident(str(node.trigname))}")


RULES: dict[type, Rule] = {
    ast.CreateStmt: _create_table,
    ast.IndexStmt: _create_index,
    ast.ViewStmt: _create_view,
    ast.CreateTableAsStmt: _create_table_as,
    ast.CreateFunctionStmt: _create_function,
    ast.CreateTrigStmt: _create_trigger,
    ast.CreatePolicyStmt: _create_policy,
    ast.AlterPolicyStmt: _alter_policy,
    ast.CreateEnumStmt: _create_simple("type"),
    ast.CompositeTypeStmt: _create_simple("type"),
    ast.CreateDomainStmt: _create_simple("domain"),
    ast.CreateSeqStmt: _create_simple("sequence"),
    ast.CreateSchemaStmt: _create_simple("schema"),
    ast.CreateExtensionStmt: _create_simple("extension"),
    ast.CreatePublicationStmt: _create_simple("publication"),
    ast.AlterTableStmt: _alter_table,
    ast.AlterSeqStmt: _alter_sequence,
    ast.RenameStmt: _rename,
    ast.AlterFunctionStmt: _alter_function,
    ast.CreateForeignTableStmt: _create_foreign_table,
    ast.CreateForeignServerStmt: _create_foreign_server,
    ast.CreateFdwStmt: _create_fdw,
    ast.AlterObjectSchemaStmt: _set_schema,
    ast.AlterEnumStmt: _alter_enum,
    ast.AlterOwnerStmt: _alter_owner,
    ast.GrantStmt: _grant,
    ast.GrantRoleStmt: _grant_role,
    ast.AlterDefaultPrivilegesStmt: _default_privileges,
    ast.CommentStmt: _comment,
    ast.AlterPublicationStmt: _alter_publication,
    ast.InsertStmt: _insert,
    ast.UpdateStmt: _data_change,
    ast.DeleteStmt: _data_change,
    ast.TruncateStmt: _data_change,
    ast.MergeStmt: _data_change,
    ast.DropStmt: _drop,
    ast.DoStmt: _dynamic,
    ast.SelectStmt: _select,
    ast.VariableSetStmt: _set,
    ast.TransactionStmt: _nothing("transaction control; the rollback runs in its own transaction"),
    ast.VacuumStmt: _nothing("maintenance; nothing to undo"),
    ast.ReindexStmt: _nothing("maintenance; nothing to undo"),
    ast.RefreshMatViewStmt: _nothing("refreshing a materialized view needs no undo"),
    ast.LockStmt: _nothing("a lock ends with its transaction"),
    ast.NotifyStmt: _nothing("a notification already sent; nothing lasting to undo"),
    ast.ListenStmt: _nothing("LISTEN ends with the session"),
    ast.UnlistenStmt: _nothing("UNLISTEN ends with the session"),
    ast.VariableShowStmt: _nothing("SHOW changes nothing"),
    ast.DiscardStmt: _nothing("DISCARD affects only the session"),
    ast.CheckPointStmt: _nothing("a checkpoint changes no schema or data"),
    ast.PrepareStmt: _nothing("a prepared statement ends with the session"),
    ast.DeallocateStmt: _nothing("a prepared statement ends with the session"),
    ast.ExplainStmt: _explain,
    ast.CreateRoleStmt: _create_role,
    ast.RuleStmt: _rule_stmt,
    ast.CreateEventTrigStmt: _event_trigger,
}


def invert(statement: Statement, ctx: Context) -> list[Inverse]:
    """The inverses of one forward statement, in the order they must run."""
    rule = RULES.get(type(statement.node))
    if rule is None:
        return [
            manual(
                ManualNeed.UNSUPPORTED,
                f"{statement.kind} ({statement.first_line}) has no automatic inverse",
            )
        ]
    return list(rule(statement.node, statement, ctx))
