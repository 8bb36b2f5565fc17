"""What every inverse rule works with: the piece of rollback it yields, and the context it
consults (earlier migrations, and what this migration did so far); for ALTER TABLE, the
subcommand as its builder sees it.

Rules see the forward statements in order; the context carries forward what a later
statement's inverse must know (a column's type set here, a type renamed here, an object
created here needs no undo of its own).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from pglast.enums.parsenodes import AlterTableType as AT
from pglast.enums.parsenodes import DropBehavior

from migration_rollback import platform
from migration_rollback.records import quick_init
from migration_rollback.sql import kinds
from migration_rollback.sql._ast import ast, make
from migration_rollback.sql.compose import (
    EMPTY,
    SQL,
    Composable,
    Identifier,
    arguments,
    name_of,
    qualified,
    quote_ident,
    sql,
)
from migration_rollback.sql.created import ColumnState
from migration_rollback.sql.history import Definition, History
from migration_rollback.sql.model import Leaves, ManualItem, ManualNeed, ObjectRef, Statement
from migration_rollback.sql.names import DEFAULT_SCHEMA, NAMEDATALEN, deparse, qualified_name
from migration_rollback.sql.privilege_states import Grants
from migration_rollback.sql.renamed import TYPE_KINDS, Renamed, called_now, first_named
from migration_rollback.sql.renamed import RenamedKind as RK
from migration_rollback.sql.rules.created_here import CreatedObjects


@quick_init
@dataclass(frozen=True, slots=True)
class Inverse:
    """One piece of a rollback: SQL to run, or a manual item, with notes for reviewers."""

    sql: str | None = None
    manual: ManualItem | None = None
    notes: tuple[str, ...] = ()
    recreates: ObjectRef | None = None  # the object the SQL recreates from an earlier migration
    # The parse tree of `sql` when it is known without parsing it: the text of a statement
    # already parsed (an earlier migration's own), or a DROP made from the same parts as its
    # text (`drop`). The safety belt has nothing new to check in it.
    tree: Any = field(default=None, compare=False, repr=False)


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
        return state.type if state is not None and state.unsure is None else None

    def default_before(self, state: ColumnState | None) -> Any:
        """The default SQL, None for no default, or UNKNOWN."""
        if self.default_known:
            return None if self.default_node is None else deparse(self.default_node)
        return state.default if state is not None and state.unsure is None else UNKNOWN

    def not_null_before(self, state: ColumnState | None) -> bool | None:
        if self.not_null is not None:
            return self.not_null
        return state.not_null if state is not None else None


@dataclass
class Context:
    """What the rules may consult: earlier migrations and this migration so far."""

    history: History | None
    default_schema: str = DEFAULT_SCHEMA
    # The schemas of the last `SET search_path` (its first the default schema while nothing
    # has set another since): where an unqualified name of an existing object is looked up.
    search_path: tuple[str, ...] = ()
    created_here: CreatedObjects = field(default_factory=CreatedObjects)
    # Tables this migration declared partitioned or gave children so far (rules/only.py).
    descent: History = field(default_factory=History)
    columns: dict[tuple[str, str, str], ColumnMoment] = field(default_factory=dict)

    # Types this migration renamed so far: (schema, new name) -> old name. The rollback undoes
    # the rename last, so its earlier steps must call the type by its new name.
    renamed_types: dict[tuple[str, str], str] = field(default_factory=dict)
    # Relations (schema, name) this migration renamed away or dropped so far: a CREATE … IF NOT
    # EXISTS of that name afterwards creates a new one, whatever existed before. Other objects
    # dropped here too, a routine by its arguments (gone_key).
    gone_here: set[tuple[str, str]] = field(default_factory=set)
    # Objects (ObjectRef.key) this migration dropped so far, named or taken with a column or
    # by CASCADE: the undo of one DROP recreates each once (rules/dependents.py).
    dropped_here: set[str] = field(default_factory=set)
    # Relations this migration renamed or moved so far: (schema, name) now -> (schema, name)
    # before (a backup renamed aside and dropped later is recreated from what it was).
    renamed_relations: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    # Columns this migration renamed so far: (schema, table, new name) -> name before.
    renamed_columns: dict[tuple[str, str, str], str] = field(default_factory=dict)
    # Routines, triggers and policies renamed or moved so far, by what they are called now:
    # their names are not `schema.name` (arguments; a table), so the relations' map cannot hold
    # them.
    renamed_members: dict[tuple[str, str, str | None, str], ObjectRef] = field(default_factory=dict)
    # Constraints this migration added so far, (schema, name): PostgreSQL names the next
    # unnamed one around them.
    constraints_here: set[tuple[str, str]] = field(default_factory=set)
    # Constraints without an index this migration dropped so far, (schema, name) -> how many:
    # the next unnamed one may take the name again when no other constraint of the schema has
    # it (an index-backed one frees its index's name: `gone_here`).
    constraints_gone: dict[tuple[str, str], int] = field(default_factory=dict)
    # Objects dropped here and made again since (gone_key), with the statement that last made
    # them: a later CREATE OR REPLACE of one replaces what this migration made after the DROP
    # (redefine.replaced); a later DROP drops that one, which its undo makes again from there.
    remade_here: dict[tuple[str, str], Statement] = field(default_factory=dict)
    # Every name this migration changed so far, in order: an earlier text re-run at this
    # point of the rollback sees them still (they are undone after it).
    renamed_here: list[Renamed] = field(default_factory=list)
    # The last ENABLE / DISABLE TRIGGER ALL or USER this migration made on each table so far
    # (rules/trigger_switches.py).
    triggers_switched: dict[tuple[str, str], AT] = field(default_factory=dict)
    # What this migration's GRANTs and REVOKEs so far left each grantee holding
    # (privilege_states.py): the state just before the next one, over the history's.
    privileges_here: Grants = field(default_factory=dict)

    def renamed_since(
        self, previous: Definition, itself: ObjectRef | None = None
    ) -> Renamed | None:
        """A name `previous` (an earlier migration's text) says that was changed since it was
        written, here or by a migration in between; not `itself`'s own move or rename (the
        text was made to name it as it is now)."""
        since = self.history.renamed_since(previous) if self.history else ()
        renames = (*since, *self.renamed_here)
        if itself is not None:
            renames = tuple(r for r in renames if not _renames(r, itself))
        if not renames:
            return None
        on = previous.ref.table  # a fragment (a constraint) does not name its table
        return first_named(previous.node, renames, on=on, text=previous.text)

    def called_now(self, previous: Definition) -> str | None:
        """`previous`'s text naming each relation renamed since as it is called now, when that
        is all that changed in what it says (renamed.called_now)."""
        since = self.history.renamed_since(previous) if self.history else ()
        name = previous.ref.name if previous.ref.kind == "index" else None
        return called_now(previous.text, (*since, *self.renamed_here), name=name)

    def column_before(self, schema: str, table: str, column: str) -> ColumnState | None:
        """What earlier migrations tell of a column, by the name it had before this one;
        `unsure` when its type, default or expression names what was changed since."""
        if self.history is None:
            return None
        name = self.renamed_columns.get((schema, table, column), column)
        state = self.history.column(schema, table, name)
        if state is None:
            return None
        earlier = self.history.renamed_since_column(state)
        # A type renamed here is called by its new name where the rollback needs it (type_now)
        here = [r for r in self.renamed_here if r.kind not in TYPE_KINDS]
        renamed = first_named(state.type_node, (*earlier, *here), on=table) or first_named(
            (state.default_node, state.generated_node), (*earlier, *self.renamed_here), on=table
        )
        return state if renamed is None else replace(state, unsure=renamed)

    def type_now(self, type_sql: str) -> str:
        """A type as the rollback must name it at this point: after a rename made here, by
        the name the rename gave it (`contact_role` → `public.contact_role_old`)."""
        base, array = (type_sql[:-2], "[]") if type_sql.endswith("[]") else (type_sql, "")
        for (schema, new), old in self.renamed_types.items():
            spellings = (old, quote_ident(old), schema + "." + old, qualified_name(schema, old))
            if base in spellings:
                return qualified_name(schema, new) + array
        return type_sql

    def was_named(self, ref: ObjectRef) -> ObjectRef | None:
        """The type, relation, routine, trigger or policy `ref` as it was called before this
        migration renamed or moved it (a routine: the one with `ref`'s arguments)."""
        key = (ref.schema or self.default_schema, ref.name)
        kind = kinds.KINDS.get(ref.kind)
        if kind is not None and kind.relation:
            before = self.renamed_relations.get(key)
        else:
            old = self.renamed_types.get(key) if ref.kind in ("type", "domain") else None
            before = (key[0], old) if old is not None else None
        if before is not None:
            return ObjectRef(ref.kind, before[1], before[0])
        member = self.renamed_members.get(_member_key(ref, self.default_schema))
        if member is not None and ref.args is not None and member.args not in (None, ref.args):
            return None  # another overload of the routine renamed or moved: another object
        return member

    def follow_member(self, before: ObjectRef, now: ObjectRef) -> None:
        """A routine, trigger or policy renamed or moved from `before` to `now`."""
        first = self.renamed_members.pop(_member_key(before, self.default_schema), before)
        self.renamed_members[_member_key(now, self.default_schema)] = first

    def follow_relation(self, schema: str, name: str, now: tuple[str, str]) -> None:
        """A relation renamed or moved from (schema, name) to `now`."""
        self.gone_here.add((schema, name))
        self.renamed_relations[now] = self.renamed_relations.pop((schema, name), (schema, name))

    def table_before(self, schema: str, name: str) -> tuple[str, str] | None:
        """The table as earlier migrations knew it: by its name before this migration renamed
        or moved it; None when this migration renamed it away or dropped it and this is
        another made since."""
        now = (schema, name)
        before = self.renamed_relations.get(now)
        if before is not None:
            return before
        return None if now in self.gone_here else now

    def moment(self, schema: str, table: str, column: str) -> ColumnMoment:
        return self.columns.setdefault((schema, table, column), ColumnMoment())

    def note_gone(self, ref: ObjectRef) -> None:
        """`ref` (not a member of a table) dropped by this migration."""
        key = gone_key(ref)
        self.gone_here.add(key)
        # Dropped again: what was made since is gone too (a routine named without its
        # arguments, each overload).
        whole = ref.kind in ROUTINE_KINDS and ref.args is None
        again = [k for k in self.remade_here if k == key or (whole and _same_routine(k, key))]
        for made in again:
            del self.remade_here[made]

    def note_made(self, ref: ObjectRef, st: Statement) -> None:
        """`ref` made by `st` (a CREATE [OR REPLACE]); made again after its DROP."""
        if self.gone(ref):
            self.remade_here[gone_key(ref)] = st

    def remade(self, ref: ObjectRef) -> bool:
        """Dropped by this migration, then made again by it."""
        return gone_key(ref) in self.remade_here

    def made_again_by(self, ref: ObjectRef) -> Statement | None:
        """The statement that made `ref` again after this migration dropped it, if it did."""
        return self.remade_here.get(gone_key(ref))

    def gone(self, ref: ObjectRef) -> bool:
        """Whether this migration dropped `ref` so far: a routine by its arguments (dropping
        one overload leaves the others), or by its name alone (then it was the only one)."""
        if gone_key(ref) in self.gone_here:
            return True
        return ref.kind in ROUTINE_KINDS and gone_key(replace(ref, args=None)) in self.gone_here

    def existed_before(self, ref: ObjectRef) -> bool | None:
        """True/False when earlier migrations tell; None when nothing is known of them. A
        routine or relation moved or renamed here is asked by the name it had before."""
        if ref in self.created_here or self.gone(ref):
            return False
        ref = self.was_named(ref) or ref
        if ref.kind == "schema" and ref.name in platform.schemas():
            return True
        if self.history is None:
            return None
        return self.history.knows(ref)

    def relation_taken(self, schema: str, name: str) -> bool:
        """Whether a relation holds the name at this point of the migration: made here, or by
        an earlier migration and not dropped or renamed away here."""
        if self.created_here.has_name(ObjectRef("index", name, schema)):
            return True
        known = self.history is not None and self.history.relation_taken(schema, name)
        return known and (schema, name) not in self.gone_here

    def constraint_taken(self, schema: str, name: str, indexed: bool) -> bool:
        """The same of a constraint's name (History.constraint_taken), at this point."""
        if (schema, name) in self.constraints_here:
            return True
        if indexed:
            return self.relation_taken(schema, name)
        if self.history is None:
            return False
        made = self.history.constraints_named(schema, name)
        return made > self.constraints_gone.get((schema, name), 0)

    def constraint_dropped(self, ref: ObjectRef) -> None:
        """A constraint an earlier migration made, dropped here: its name is free again for the
        next one PostgreSQL names (vaultwarden drops `devices_pkey`, then adds an unnamed
        PRIMARY KEY, named `devices_pkey` again), its index's too when it had one."""
        key = (ref.schema or "", ref.name)
        index = ObjectRef("index", ref.name, ref.schema).key
        if self.history is not None and self.history.constraint_indexes.get(index) == ref.key:
            self.gone_here.add(key)
        else:
            self.constraints_gone[key] = self.constraints_gone.get(key, 0) + 1

    def only_overload(self, ref: ObjectRef) -> ObjectRef:
        """A routine named without its arguments as the one overload earlier migrations made
        of that name (PostgreSQL takes such a name when one routine holds it); `ref` when
        they made none or several, or this migration dropped it."""
        if ref.args is not None or self.history is None:
            return ref
        key = gone_key(ref)
        if any(_same_routine(gone, key) for gone in self.gone_here):
            return ref  # an overload dropped here: which one is left is not the history's
        return self.history.identity(ref)

    def is_new(self, ref: ObjectRef) -> bool:
        """Created by this migration: dropping it undoes whatever else was done to it."""
        return ref in self.created_here

    def previous(self, ref: ObjectRef) -> Any:
        """The definition an earlier migration gave `ref`, or None."""
        return self.history.definition(ref) if self.history else None

    def previous_as(self, before: ObjectRef, ref: ObjectRef) -> Definition | None:
        """The definition an earlier migration gave `before`, which this migration moved or
        renamed to `ref`, naming it `ref` (Definition.named_as)."""
        previous = self.previous(before)
        return None if previous is None else previous.named_as(ref)


def _renames(renamed: Renamed, ref: ObjectRef) -> bool:
    """Whether `renamed` is the rename or move of `ref` (a routine by its name: which
    overload is not said)."""
    if renamed.moved is not None:
        return renamed.moved[0] == (ref.schema, ref.name)
    return renamed.kind in _RENAMED_ROUTINES and renamed.old == ref.name


_RENAMED_ROUTINES = frozenset({RK.FUNCTION, RK.PROCEDURE, RK.AGGREGATE, RK.ROUTINE})


def _same_routine(key: tuple[str, str], whole: tuple[str, str]) -> bool:
    """`key` (a routine's gone_key) is an overload of the routine `whole` names (`f(*)`)."""
    return key[0] == whole[0] and key[1].split("(", 1)[0] == whole[1].split("(", 1)[0]


def gone_key(ref: ObjectRef) -> tuple[str, str]:
    """How `gone_here` holds a dropped object: (schema, name), a routine's name with its
    arguments (`f(*)` when its DROP left them out)."""
    if ref.kind in ROUTINE_KINDS:
        args = "*" if ref.args is None else _TYPMOD.sub("", ref.args)
        return ref.schema or "", f"{ref.name}({args})"
    return ref.schema or "", ref.name


ROUTINE_KINDS = frozenset({"function", "procedure", "aggregate"})
# A type modifier in an argument list (`vector(768)`, `numeric(10, 2)`): a routine's identity
# leaves it out, so DROP FUNCTION f(vector) drops the f(vector(768)) made earlier.
_TYPMOD = re.compile(r"\(\s*\d+(?:\s*,\s*\d+)*\s*\)")


def _member_key(ref: ObjectRef, default_schema: str) -> tuple[str, str, str | None, str]:
    """A renamed member as a later statement names it (a DROP may leave out the arguments)."""
    return (ref.kind, ref.schema or default_schema, ref.table, ref.name)


Rule = Callable[[Any, Statement, Context], Iterator[Inverse]]


def manual(
    need: ManualNeed,
    reason: str,
    target: ObjectRef | None = None,
    leaves: Leaves = Leaves.WHOLE,
) -> Inverse:
    return Inverse(manual=ManualItem(need, reason, target, leaves=leaves))


def renamed_manual(
    need: ManualNeed, ref: ObjectRef, previous: Definition, renamed: Renamed
) -> Inverse:
    """Re-running `previous` would not make `ref` again: a name it says changed since."""
    reason = (
        f"{ref.describe()} is defined by {previous.statement.location}, which names what was "
        f"changed since ({renamed.what}): write it again under today's names"
    )
    return Inverse(manual=ManualItem(need, reason, ref))


def nothing(reason: str) -> Inverse:
    """A forward statement that needs no SQL to undo, and why."""
    return Inverse(notes=(reason,))


def drop(ref: ObjectRef, *, concurrently: bool = False, notes: tuple[str, ...] = ()) -> Inverse:
    """`DROP <kind> IF EXISTS …` of exactly this object, with its parse tree when made here."""
    text = drop_sql(ref, concurrently=concurrently)
    return Inverse(text, notes=notes, tree=drop_tree(ref, text, concurrently=concurrently))


def drop_sql(ref: ObjectRef, *, concurrently: bool = False) -> str:
    """`DROP <kind> IF EXISTS …` of exactly this object, never CASCADE."""
    keyword = SQL(kinds.KINDS[ref.kind].keyword)
    if ref.table:
        on = qualified(ref.schema, ref.table)
        return sql("DROP {} IF EXISTS {} ON {}", keyword, Identifier(ref.name), on)
    how = SQL(" CONCURRENTLY") if concurrently else EMPTY
    return sql("DROP {}{} IF EXISTS {}{}", keyword, how, name_of(ref), arguments(ref))


def drop_tree(ref: ObjectRef, text: str, *, concurrently: bool = False) -> Any:
    """The tree pglast parses `text` (`drop_sql(ref)`) into, from the same parts, where the
    grammar names the object by its dotted name alone (relations; triggers, policies and
    rules on their table; a schema's type or domain, a TypeName; a routine without
    arguments): the commonest rollback statements then need no parse. None for the others
    (a routine's argument types, how pglast spells them): the safety belt parses those."""
    kind = kinds.KINDS[ref.kind]
    parts: tuple[str | None, ...]
    if kind.on_table and ref.table:
        parts, concurrently = (ref.schema, ref.table, ref.name), False
    elif ref.table or not (ref.args is None or (ref.args == "" and ref.kind in _ROUTINE_KINDS)):
        return None  # argument types: only a parse knows how pglast spells them
    elif kind.relation or ref.kind in _ROUTINE_KINDS or (ref.kind in _TYPE_KINDS and ref.schema):
        parts = (ref.schema, ref.name)
    else:
        return None
    if not _parser_keeps(*parts):
        return None
    names = tuple(make(ast.String, sval=part) for part in parts if part)
    named: Any = names
    if ref.kind in _TYPE_KINDS:  # a bare name could be a built-in's alias: `int` is int4
        at = _name_at(text, ref)
        named = make(ast.TypeName, names=names, setof=False, pct_type=False, typemod=-1,
                     location=at)  # fmt: skip
    elif ref.kind in _ROUTINE_KINDS:  # `f()`, or `f` when the arguments are not given
        named = make(ast.ObjectWithArgs, objname=names, args_unspecified=ref.args is None)
    return make(
        ast.DropStmt,
        objects=(named,),
        removeType=kind.object_type,
        behavior=DropBehavior.DROP_RESTRICT,
        missing_ok=True,
        concurrent=concurrently,
    )


def _name_at(text: str, ref: ObjectRef) -> int:
    """Where `ref`'s name starts in `text`, which ends with it (the location pglast records)."""
    return len(text) - len(name_of(ref).as_string())


def _parser_keeps(*names: str | None) -> bool:
    """Whether the parser keeps these names as written: it truncates one over NAMEDATALEN
    bytes, so a tree made from the long name would not be the parse of its text."""
    return all(len(n.encode()) <= NAMEDATALEN for n in names if n)


_TYPE_KINDS = frozenset({"type", "domain"})  # named by a TypeName in DROP
_ROUTINE_KINDS = frozenset({"function", "procedure"})  # by an ObjectWithArgs


# --- ALTER TABLE subcommands ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Subcommand:
    """One subcommand of an ALTER, with what its builder needs to know."""

    cmd: Any
    rel: ObjectRef  # the relation altered
    kind: kinds.ObjectKind  # what the statement says it is: TABLE, VIEW…
    if_exists: bool  # ALTER … IF EXISTS
    ctx: Context
    only: bool = False  # ALTER TABLE ONLY: the undo keeps to the same table (rules/only.py)

    @property
    def schema(self) -> str:
        return str(self.rel.schema)

    @property
    def column(self) -> Identifier:
        return Identifier(str(self.cmd.name))

    @property
    def column_ref(self) -> ObjectRef:
        return ObjectRef("column", self.rel.name, self.schema, column=self.cmd.name)

    @property
    def state(self) -> ColumnState | None:
        """The column as earlier migrations left it."""
        return self.ctx.column_before(self.schema, self.rel.name, str(self.cmd.name))

    @property
    def table_is_new(self) -> bool:
        return self.ctx.is_new(self.rel) or self.ctx.is_new(self.column_ref)

    def moment(self) -> ColumnMoment:
        """The column as this migration has left it so far."""
        return self.ctx.moment(self.schema, self.rel.name, str(self.cmd.name))

    @property
    def prefix(self) -> Composable:
        """`ALTER TABLE [IF EXISTS] [ONLY] s.t`"""
        if_exists = SQL(" IF EXISTS") if self.if_exists else EMPTY
        template = "ALTER {}{} ONLY {}" if self.only else "ALTER {}{} {}"  # each parsed once
        return SQL(template).format(SQL(self.kind.keyword), if_exists, name_of(self.rel))

    def statement(self, template: str, *args: Composable) -> str:
        """`<prefix> <template>`: a statement on the same relation."""
        return sql("{} " + template, self.prefix, *args)

    def undo(self, subtype: AT, name: str | None = None, notes: tuple[str, ...] = ()) -> Inverse:
        """`<prefix> <one of WORDS>` naming `name`, with the tree pglast parses it into."""
        template, missing_ok = WORDS[subtype]
        if ("{}" in template) != (name is not None):
            raise ValueError(f"{subtype.name}: {template!r} and name {name!r} disagree")
        prefix = self.prefix.as_string()  # written once, for the text and the name's place
        text = sql("{} " + template, SQL(prefix), *(() if name is None else (Identifier(name),)))
        cmd = make(
            ast.AlterTableCmd,
            subtype=subtype,
            name=name,
            num=0,
            behavior=DropBehavior.DROP_RESTRICT,
            missing_ok=missing_ok,
            recurse=False,
        )
        at = _name_at(prefix, self.rel)
        rel = make(
            ast.RangeVar,
            schemaname=self.rel.schema or None,
            relname=self.rel.name,
            inh=not self.only,
            relpersistence="p",
            location=at,
        )
        tree = make(
            ast.AlterTableStmt,
            relation=rel,
            cmds=(cmd,),
            objtype=self.kind.object_type,
            missing_ok=self.if_exists,
        )
        keeps = _parser_keeps(self.rel.schema, self.rel.name, name)
        return Inverse(text, notes=notes, tree=tree if keeps else None)


# Subcommands an undo writes as fixed words and at most one name (a column, constraint or
# trigger): the template and whether it says IF EXISTS. `Subcommand.undo` writes both its
# text and its tree from here, so the safety belt needs no parse of them.
WORDS: dict[AT, tuple[str, bool]] = {
    AT.AT_DropColumn: ("DROP COLUMN IF EXISTS {}", True),
    AT.AT_DropConstraint: ("DROP CONSTRAINT IF EXISTS {}", True),
    AT.AT_ColumnDefault: ("ALTER COLUMN {} DROP DEFAULT", False),
    AT.AT_SetNotNull: ("ALTER COLUMN {} SET NOT NULL", False),
    AT.AT_DropNotNull: ("ALTER COLUMN {} DROP NOT NULL", False),
    AT.AT_DropIdentity: ("ALTER COLUMN {} DROP IDENTITY IF EXISTS", True),
    AT.AT_EnableTrig: ("ENABLE TRIGGER {}", False),
    AT.AT_DisableTrig: ("DISABLE TRIGGER {}", False),
    AT.AT_EnableAlwaysTrig: ("ENABLE ALWAYS TRIGGER {}", False),
    AT.AT_EnableReplicaTrig: ("ENABLE REPLICA TRIGGER {}", False),
    AT.AT_EnableTrigAll: ("ENABLE TRIGGER ALL", False),
    AT.AT_DisableTrigAll: ("DISABLE TRIGGER ALL", False),
    AT.AT_EnableTrigUser: ("ENABLE TRIGGER USER", False),
    AT.AT_DisableTrigUser: ("DISABLE TRIGGER USER", False),
    AT.AT_EnableRule: ("ENABLE RULE {}", False),
    AT.AT_DisableRule: ("DISABLE RULE {}", False),
    AT.AT_EnableAlwaysRule: ("ENABLE ALWAYS RULE {}", False),
    AT.AT_EnableReplicaRule: ("ENABLE REPLICA RULE {}", False),
    AT.AT_SetLogged: ("SET LOGGED", False),
    AT.AT_SetUnLogged: ("SET UNLOGGED", False),
    AT.AT_EnableRowSecurity: ("ENABLE ROW LEVEL SECURITY", False),
    AT.AT_DisableRowSecurity: ("DISABLE ROW LEVEL SECURITY", False),
    AT.AT_ForceRowSecurity: ("FORCE ROW LEVEL SECURITY", False),
    AT.AT_NoForceRowSecurity: ("NO FORCE ROW LEVEL SECURITY", False),
}


SubRule = Callable[[Subcommand], Iterator[Inverse]]


def by_hand(sub: Subcommand) -> Iterator[Inverse]:
    what = sub.cmd.subtype.name.removeprefix("AT_")
    yield manual(
        ManualNeed.UNSUPPORTED, f"ALTER TABLE {sub.rel.qualified} {what}: undo by hand", sub.rel
    )
