"""What earlier migrations built, learned from their SQL alone (no database).

The generator consults it to tell a brand-new object from one that existed before, and to
recover an earlier definition (a function body, a view, an index, a column's type) so that more
rollbacks are complete without a human. Whatever it cannot know stays a MANUAL item; the
verifier (`verify/`) checks every guess against a real PostgreSQL. What each statement kind
teaches it is in history_observers.py; how created objects are named, in created.py.
"""

from __future__ import annotations

from copy import deepcopy
from dataclasses import dataclass, field, fields, replace
from typing import Any, get_type_hints

from migration_rollback.records import quick_init
from migration_rollback.sql import privilege_states
from migration_rollback.sql._ast import ast, changed
from migration_rollback.sql.created import ColumnState
from migration_rollback.sql.history_observers import OBSERVERS
from migration_rollback.sql.kinds import KINDS
from migration_rollback.sql.model import ObjectRef, Statement
from migration_rollback.sql.names import DEFAULT_SCHEMA, deparse, public_unsaid
from migration_rollback.sql.privilege_states import Grants
from migration_rollback.sql.renamed import Renamed
from migration_rollback.sql.routine_text import compiles
from migration_rollback.sql.settings import Fires, Identity, Options


@quick_init
@dataclass(frozen=True, slots=True)
class Definition:
    """The statement that last defined an object, or the fragment of it that did."""

    ref: ObjectRef
    statement: Statement
    fragment: Any = None  # e.g. a table constraint inside CREATE TABLE
    # The schema unqualified names went to when it ran: its text re-run elsewhere may not.
    search_path: str = DEFAULT_SCHEMA
    # How many of the history's renames had happened when the text was written: those after
    # it are names the text may say that mean something else now (renamed.py).
    renames_seen: int = 0

    @property
    def node(self) -> Any:
        """The tree of what the text says: the fragment, or the statement."""
        return self.statement.node if self.fragment is None else self.fragment

    @property
    def is_statement(self) -> bool:
        return self.fragment is None

    @property
    def text(self) -> str:
        return self.statement.text if self.fragment is None else deparse(self.fragment)

    @property
    def tree(self) -> Any:
        """The parse tree of `text` when that is the statement's own (None for a fragment)."""
        return self.statement.node if self.fragment is None else None

    def named_as(self, ref: ObjectRef) -> Definition | None:
        """This CREATE FUNCTION, VIEW or TYPE naming `ref` instead (what a migration moved or
        renamed it to: restored at that point of the rollback, before the move is undone);
        None for another text."""
        tree = deepcopy(self.tree)
        schema = str(ref.schema)
        if isinstance(tree, ast.CreateFunctionStmt):
            tree.funcname = (ast.String(sval=schema), ast.String(sval=ref.name))
        elif isinstance(tree, ast.ViewStmt | ast.CompositeTypeStmt):
            relation = tree.view if isinstance(tree, ast.ViewStmt) else tree.typevar
            relation.schemaname, relation.relname = schema, ref.name
        elif isinstance(tree, ast.CreateEnumStmt):
            tree.typeName = (ast.String(sval=schema), ast.String(sval=ref.name))
        elif isinstance(tree, ast.CreateDomainStmt):
            tree.domainname = (ast.String(sval=schema), ast.String(sval=ref.name))
        else:
            return None
        statement = replace(self.statement, text=deparse(tree), node=tree)
        return replace(self, ref=ref, statement=statement)


TableKey = tuple[str, str]  # (schema, table): what keys a per-table record (see PER_TABLE)


@dataclass
class History:
    """Objects, definitions and column states accumulated statement by statement."""

    definitions: dict[str, Definition] = field(default_factory=dict)
    # Indexes over `definitions`, kept by put_definition and _pop_definition alone: the keys of
    # what is on each relation ("schema.table": its constraints, triggers, policies, rules;
    # its indexes by their CREATE's table), and of each routine's overloads by its key
    # without arguments. A scan of every definition per DROP COLUMN, DROP VIEW or routine
    # named without arguments made a project quadratic (1,500 of them: 15 s).
    # Tuples (few keys each), not sets: copy() shares them, where inner maps were each copied.
    on_relation: dict[str, tuple[str, ...]] = field(default_factory=dict)
    overloads: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # How many constraints of `definitions` hold each "schema:name" (not a TableKey: nothing
    # moves with a table): whether a name is taken is asked of every unnamed constraint, and
    # a walk of the keys made a project quadratic.
    constraint_names: dict[str, int] = field(default_factory=dict)
    # Per table, so dropping a table forgets its columns without scanning every column known.
    columns: dict[TableKey, dict[str, ColumnState]] = field(default_factory=dict)
    # Columns a table had that a later plain CREATE TABLE of the same name did not say: that
    # CREATE fails where the table exists, so which of the two is there is not known.
    doubted_columns: dict[TableKey, set[str]] = field(default_factory=dict)
    # The index a PRIMARY KEY, UNIQUE or EXCLUDE constraint made under its name (a relation
    # that CREATE INDEX IF NOT EXISTS meets): the index's key -> the constraint's key.
    constraint_indexes: dict[str, str] = field(default_factory=dict)
    # Row level security on (True) or off, per table whose switch the history followed: a
    # table made by a plain CREATE starts off; one made elsewhere is absent (not known) until
    # a migration switches it, and SQL the history cannot read makes it unknown again.
    rls_enabled: dict[TableKey, bool] = field(default_factory=dict)
    rls_forced: dict[TableKey, bool] = field(default_factory=dict)
    # Comments earlier migrations set: of a relation and what lives on it by table (so a rename
    # moves them and a drop forgets them), keyed by (kind, member), ("relation", None) for the
    # relation itself; of any other object by ObjectRef.key.
    relation_comments: dict[TableKey, dict[tuple[str, str | None], str | None]] = field(
        default_factory=dict
    )
    comments: dict[str, str | None] = field(default_factory=dict)
    primary_keys: dict[TableKey, tuple[str, ...]] = field(default_factory=dict)
    # UNIQUE constraints declared with the table: other keys an inserted row is found by.
    unique_keys: dict[TableKey, tuple[tuple[str, ...], ...]] = field(default_factory=dict)
    # Tables declared PARTITION BY, and tables others inherit from (INHERITS, PARTITION OF,
    # INHERIT): how far an `ALTER TABLE ONLY` undo may reach (rules/only.py).
    partitioned: set[TableKey] = field(default_factory=set)
    parents: set[TableKey] = field(default_factory=set)
    # Settings switched in place (settings.py), per relation made by the migrations and
    # followed since: absent where the history cannot tell (made elsewhere, USING INDEX...).
    replica_identity: dict[TableKey, Identity] = field(default_factory=dict)
    triggers: dict[TableKey, dict[str, Fires]] = field(default_factory=dict)  # by trigger name
    rules: dict[TableKey, dict[str, Fires]] = field(default_factory=dict)  # by rule name
    # The publications a table is in, each with its PublicationTable as written (a column
    # list, a WHERE): what adding it back must say. A dropped table leaves them all.
    published: dict[TableKey, dict[str, Any]] = field(default_factory=dict)
    logged: dict[TableKey, bool] = field(default_factory=dict)  # False: UNLOGGED
    reloptions: dict[TableKey, Options] = field(default_factory=dict)
    # The owner an OWNER TO named since the object was created (its creator is not in the SQL):
    # relations by table, so a rename moves it; other objects by ObjectRef.key.
    relation_owners: dict[TableKey, str] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)
    # Definitions (by ObjectRef.key) a later change left unsaid (ALTER FUNCTION ... SET ...
    # FROM CURRENT): the object is known, its definition is not.
    stale: set[str] = field(default_factory=set)
    # A procedure named by its full argument list, OUT arguments too (PostgreSQL 14+ accepts
    # both): that key -> the procedure as its identity (IN, INOUT, VARIADIC) names it.
    routine_aliases: dict[str, ObjectRef] = field(default_factory=dict)
    # What earlier migrations revoked and did not grant again (platform_grants.py): a GRANT of
    # what the platform gave is undone by revoking it when it is here. (place, grantee, privilege)
    revoked_platform: set[tuple[str, str, str]] = field(default_factory=set)
    # What every GRANT and REVOKE since each object was made left its grantees holding
    # (privilege_states.py): the undo of a later one gives back just that.
    privileges: Grants = field(default_factory=dict)
    # Routines the migrations made and then renamed, "schema.name" as now called: still theirs
    # (their definitions are forgotten, their privileges are not).
    moved_routines: set[str] = field(default_factory=set)
    # Relations moved by SET SCHEMA (by ObjectRef.key, as now called) -> the schema they were
    # made in: the default privileges of that schema gave them their first ACL, kept since.
    made_in_schema: dict[str, str] = field(default_factory=dict)
    # The names in the text of code the history cannot read that may REVOKE (a DO block's
    # EXECUTE format('REVOKE ALL ON public.%I ...') over a list of tables): the platform's
    # default privileges are no longer assumed on them. (Code unseen, a routine made outside
    # the migrations, is taken not to revoke: `--verify` compares what it did.)
    platform_unsure_names: set[str] = field(default_factory=set)
    # Every name changed so far (renamed, moved; a `*` widened by an added column), in order.
    renames: tuple[Renamed, ...] = ()
    default_schema: str = DEFAULT_SCHEMA
    # The schemas of the last SET search_path in this file (sql/search_path.py).
    search_path: tuple[str, ...] = ()
    # Bumped by each statement learned and each definition made or forgotten: what is worked
    # out from the history may be kept while it stays (platform_grants.py).
    learned: int = 0

    def identity(self, ref: ObjectRef) -> ObjectRef:
        """`ref` as the history keys it: a procedure named with its OUT arguments too, as the
        procedure of that name whose identity is its IN arguments (when none is keyed so); a
        routine whose argument types are written with or without `public.` as the one known."""
        key = ref.key
        if key in self.definitions:
            return ref
        if ref.args is None and ref.kind in ROUTINE_KINDS:
            return self._only_overload(ref)
        if not self.routine_aliases:
            return ref
        found = self.routine_aliases.get(key)
        loose = public_unsaid(ref) if found is None else ref
        if loose is not ref:
            found = loose if loose.key in self.definitions else self.routine_aliases.get(loose.key)
        return ref if found is None else found

    def made_in(self, ref: ObjectRef) -> str | None:
        """The schema `ref` was made in (another than its own: moved there by SET SCHEMA)."""
        return self.made_in_schema.get(self.identity(ref).key, ref.schema)

    def _only_overload(self, ref: ObjectRef) -> ObjectRef:
        """A routine named without its arguments, as the one of that name the history knows
        (PostgreSQL takes such a name when one routine holds it); `ref` when none or many."""
        found = self.overloads.get(ref.key, ())
        return self.definitions[next(iter(found))].ref if len(found) == 1 else ref

    def on(self, schema: str, table: str) -> list[Definition]:
        """The definitions of what is on the relation: members and indexes, oldest first."""
        keys = self.on_relation.get(f"{schema}.{table}", ())
        return [self.definitions[k] for k in keys]

    def put_definition(self, key: str, definition: Definition) -> None:
        """`definitions[key] = definition`, the indexes over it kept."""
        earlier = self.definitions.get(key)
        slots = _slots(definition)
        if earlier is not None:
            if earlier.ref is definition.ref or _slots(earlier) == slots:
                self.definitions[key] = definition  # indexed already where it stays
                return
            self._index(key, _slots(earlier), present=False)
        self.definitions[key] = definition
        self._index(key, slots, present=True)

    def _pop_definition(self, key: str) -> Definition | None:
        gone = self.definitions.pop(key, None)
        if gone is not None:
            self._index(key, _slots(gone), present=False)
        return gone

    def _index(self, key: str, slots: tuple[str | None, str | None], *, present: bool) -> None:
        relation, routine = slots
        if relation is None and routine is None:
            return
        for index, slot in ((self.on_relation, relation), (self.overloads, routine)):
            if slot is None:
                continue
            keys = index.get(slot, ())
            if present and key not in keys:
                index[slot] = (*keys, key)
            elif not present and key in keys:
                left = tuple(k for k in keys if k != key)
                if left:
                    index[slot] = left
                else:
                    del index[slot]

    def knows(self, ref: ObjectRef) -> bool:
        key = self.identity(ref).key
        return key in self.definitions or self.constraint_indexes.get(key) in self.definitions

    def holds_routine(self, schema: str, name: str) -> bool:
        """Whether the migrations made a routine (any overload) of that name in `schema`."""
        return any(f"{kind}:{schema}:{name}" in self.overloads for kind in ROUTINE_KINDS)

    def relation_taken(self, schema: str, name: str) -> bool:
        """Whether a relation (table, view, index, sequence...) the migrations made holds the
        name: PostgreSQL names an unnamed index around it."""
        # knows() of each kind, by key: a relation's identity is itself (only routines have
        # aliases), and this is asked for every constraint or index made without a name.
        known, indexes = self.definitions, self.constraint_indexes
        for kind in RELATION_KINDS:
            key = f"{kind}:{schema}:{name}"
            if key in known or indexes.get(key) in known:
                return True
        return False

    def constraint_taken(self, schema: str, name: str, indexed: bool) -> bool:
        """Whether the name is in use for a new constraint of `schema`: by a relation, for one
        with an index; by any constraint of the schema, for another (PostgreSQL's rule)."""
        if indexed:
            return self.relation_taken(schema, name)
        return self.constraints_named(schema, name) > 0

    def constraints_named(self, schema: str, name: str) -> int:
        """How many constraints the migrations made in `schema` hold the name."""
        return self.constraint_names.get(f"{schema}:{name}", 0)

    def definition(self, ref: ObjectRef) -> Definition | None:
        """The text that defined `ref`, when re-running it makes the same object: not after
        a change it does not say (stale), nor when written under another search_path (its
        unqualified names would land in, or read from, the rollback's), nor a routine whose
        body PostgreSQL refuses (routine_text.py)."""
        ref = self.identity(ref)
        found = None if ref.key in self.stale else self.definitions.get(ref.key)
        if found is None or found.search_path != DEFAULT_SCHEMA:
            return None
        return found if compiles(found.tree, found.statement.text) else None

    def renamed_since(self, definition: Definition) -> tuple[Renamed, ...]:
        """The names changed since `definition` was written."""
        return self.renames[definition.renames_seen :]

    def column(self, schema: str, table: str, column: str) -> ColumnState | None:
        return self.columns.get((schema, table), {}).get(column)

    def renamed_since_column(self, state: ColumnState) -> tuple[Renamed, ...]:
        return self.renames[state.renames_seen :]

    def set_column(self, schema: str, table: str, column: str, state: ColumnState) -> None:
        self.columns.setdefault((schema, table), {})[column] = state

    def drop_column(self, schema: str, table: str, column: str) -> None:
        self.columns.get((schema, table), {}).pop(column, None)
        self.relation_comments.get((schema, table), {}).pop(("column", column), None)

    def comment(self, ref: ObjectRef) -> tuple[bool, str | None]:
        """Whether an earlier migration commented on `ref`, and the comment it left."""
        table, member = _comment_slot(self.identity(ref))
        found = self.relation_comments.get(table, {}) if table else self.comments
        return member in found, found.get(member)

    def set_comment(self, ref: ObjectRef, text: str | None) -> None:
        table, member = _comment_slot(self.identity(ref))
        found = self.relation_comments.setdefault(table, {}) if table else self.comments
        found[member] = text

    def rename_member(self, table: TableKey, kind: str, old: str, new: str) -> None:
        """A column, constraint, trigger, policy or rule renamed: its comment goes with it."""
        comments = self.relation_comments.get(table, {})
        if (kind, old) in comments:
            comments[(kind, new)] = comments.pop((kind, old))

    def copy(self) -> History:
        """An independent copy: every map and set of it copied (each table's columns too), so
        a map added to the fields is copied without being listed here."""
        return History(**{f.name: _copied(getattr(self, f.name)) for f in fields(self)})

    def begin_file(self) -> None:
        """Each migration file starts with the default search_path again."""
        self.default_schema = DEFAULT_SCHEMA
        self.search_path = ()

    # --- learning -------------------------------------------------------------------------

    def observe(self, statement: Statement) -> None:
        self.learned += 1
        node = statement.node
        observer = OBSERVERS.get(type(node))
        if observer is not None:
            observer(self, statement, node)

    def define(self, ref: ObjectRef, statement: Statement, fragment: Any = None) -> None:
        """`ref` created by `statement`: one not known, or made by a plain CREATE (neither OR
        REPLACE nor IF NOT EXISTS, so it succeeded on no object), is a new object whatever
        the name held before (renamed away, dropped by CASCADE): its records start over."""
        key = ref.key  # a string built on each read: read once here
        if key not in self.definitions or _makes_new(statement.node):
            self._start_over(ref, key)
        self._record(
            key, Definition(ref, statement, fragment, self.default_schema, len(self.renames))
        )

    def redefine(self, ref: ObjectRef, statement: Statement, fragment: Any = None) -> None:
        """The same object's definition rewritten (ALTER FUNCTION, ALTER POLICY): parts of it
        kept from the earlier text are as old as that text."""
        key = ref.key
        earlier = self.definitions.get(key)
        seen = len(self.renames) if earlier is None else earlier.renames_seen
        self._record(key, Definition(ref, statement, fragment, self.default_schema, seen))

    def validate(self, ref: ObjectRef) -> None:
        """VALIDATE CONSTRAINT: a constraint added NOT VALID is valid from now on, and its
        text recreates it so (kept NOT VALID, the catalog would differ from the one undone)."""
        key = self.identity(ref).key
        earlier = self.definitions.get(key)
        if earlier is None or not getattr(earlier.fragment, "skip_validation", False):
            return
        valid = changed(earlier.fragment, skip_validation=False, initially_valid=True)
        self.put_definition(key, replace(earlier, fragment=valid))

    def _record(self, key: str, definition: Definition) -> None:
        self.learned += 1
        if key not in self.definitions:
            self._count_constraint(definition.ref, 1)
        self.put_definition(key, definition)
        self.stale.discard(key)
        self.made_in_schema.pop(key, None)

    def _count_constraint(self, ref: ObjectRef, step: int) -> None:
        if ref.kind != "constraint":
            return
        named = f"{ref.schema or ''}:{ref.name}"
        left = self.constraint_names.get(named, 0) + step
        if left > 0:
            self.constraint_names[named] = left
        else:
            self.constraint_names.pop(named, None)

    def _start_over(self, ref: ObjectRef, key: str) -> None:
        """A new object: owned by whoever ran it (unknown), no comment, settings as made."""
        self.owners.pop(key, None)
        self.comments.pop(key, None)
        privilege_states.forget(self.privileges, ref)
        if _is_relation(ref) and ref.schema:
            self.move_table((ref.schema, ref.name), None)
        elif ref.schema and ref.table:
            self.relation_comments.get((ref.schema, ref.table), {}).pop((ref.kind, ref.name), None)

    def owner(self, ref: ObjectRef) -> str | None:
        """The owner an OWNER TO gave `ref` (not a relation: those are per table)."""
        return self.owners.get(self.identity(ref).key)

    def forget(self, ref: ObjectRef) -> None:
        ref = self.identity(ref)
        self.learned += 1
        gone = self._pop_definition(ref.key)
        if gone is not None:
            self._count_constraint(gone.ref, -1)
        self.owners.pop(ref.key, None)
        self.comments.pop(ref.key, None)
        self.stale.discard(ref.key)
        self.made_in_schema.pop(ref.key, None)
        privilege_states.forget(self.privileges, ref)
        self.moved_routines.discard(f"{ref.schema}.{ref.name}".lower())
        if _is_relation(ref) and ref.schema:  # one namespace: a view too
            self.move_table((ref.schema, ref.name), None)
            self._forget_members(ref.schema, ref.name)
        elif ref.kind == "schema":
            self._forget_schema(ref.name)
        elif ref.kind == "publication":
            for publications in self.published.values():
                publications.pop(ref.name, None)
        elif ref.schema and ref.table:
            self.relation_comments.get((ref.schema, ref.table), {}).pop((ref.kind, ref.name), None)
            if ref.kind in ("trigger", "rule"):
                members = self.triggers if ref.kind == "trigger" else self.rules
                members.get((ref.schema, ref.table), {}).pop(ref.name, None)

    def _forget_members(self, schema: str, name: str) -> None:
        """A relation dropped took its triggers, rules, policies and constraints with it: a
        view made again under its name has none of them (rules/dependents.py would recreate
        them when it is dropped)."""
        for definition in self.on(schema, name):
            if definition.ref.table == name and definition.ref.kind != "column":
                self.forget(definition.ref)

    def forget_key(self, key: str) -> None:
        """forget() of an object known by its key alone (not a relation nor on one)."""
        definition = self.definitions.get(key)
        if definition is not None:
            self.forget(definition.ref)
        for keyed in (self.owners, self.comments):
            keyed.pop(key, None)
        self.stale.discard(key)

    def _forget_schema(self, schema: str) -> None:
        """A dropped schema took everything in it (with CASCADE; without, it was empty): an
        object made again under the same name there is new, its settings unknown."""
        for definition in [d for d in self.definitions.values() if d.ref.schema == schema]:
            self.forget(definition.ref)
        for name in PER_TABLE:
            for key in [k for k in getattr(self, name) if k[0] == schema]:
                self.move_table(key, None)
        for keyed in (self.owners, self.comments):
            for key in [k for k in keyed if k.split(":", 2)[1:2] == [schema]]:
                del keyed[key]

    def move_table(self, old: TableKey, new: TableKey | None) -> None:
        """Every per-table record of `old` moved to `new` (renamed, SET SCHEMA), or dropped;
        its privileges go with it too."""
        if new is not None:
            privilege_states.move_relation(self.privileges, old, new)
            self._move_definitions(old, new)
        for name in PER_TABLE:
            records = getattr(self, name)
            if isinstance(records, set):
                if old in records:
                    records.discard(old)
                    if new is not None:
                        records.add(new)
            elif old in records:
                record = records.pop(old)
                if new is not None:
                    records[new] = record

    def _move_definitions(self, old: TableKey, new: TableKey) -> None:
        """The relation, and what is on it (constraints, triggers, policies), known under its
        new name: made by an earlier migration still (its privileges as made, its name taken;
        the old name free), but their texts say the old name: stale, never re-run."""
        itself = (self.definitions.get(f"{kind}:{old[0]}:{old[1]}") for kind in RELATION_KINDS)
        on_it = [d.ref for d in itself if d is not None]
        on_it += [d.ref for d in self.on(*old) if d.ref.table is not None]
        for ref in on_it:
            moved = (
                replace(ref, schema=new[0], name=new[1])
                if ref.table is None
                else replace(ref, schema=new[0], table=new[1])
            )
            definition = self._pop_definition(ref.key)
            assert definition is not None
            self._count_constraint(ref, -1)
            self.stale.discard(ref.key)
            made_in = self.made_in_schema.pop(ref.key, ref.schema)
            self._count_constraint(moved, 1)
            self.put_definition(moved.key, replace(definition, ref=moved))
            self.stale.add(moved.key)
            if made_in is not None and made_in != moved.schema:
                self.made_in_schema[moved.key] = made_in
        self.learned += 1


def _slots(definition: Definition) -> tuple[str | None, str | None]:
    """Where the indexes over `definitions` keep it: "schema.table" of the relation it is on
    (an index's from its CREATE), and a routine's key without its arguments."""
    ref = definition.ref
    if ref.table is not None:
        return f"{ref.schema or ''}.{ref.table}", None
    if ref.args is not None and ref.kind in ROUTINE_KINDS:  # no table, no column: its key's head
        return None, f"{ref.kind}:{ref.schema or ''}:{ref.name}"
    node = definition.statement.node
    if ref.kind == "index" and isinstance(node, ast.IndexStmt):
        return f"{node.relation.schemaname or DEFAULT_SCHEMA}.{node.relation.relname}", None
    return None, None


def _comment_slot(ref: ObjectRef) -> tuple[TableKey | None, Any]:
    """Where a comment on `ref` is kept: (its table, (kind, member)), or (None, its key)."""
    schema = ref.schema or ""
    if ref.kind == "column" and ref.column:
        return (schema, ref.name), ("column", ref.column)
    if ref.table:
        return (schema, ref.table), (ref.kind, ref.name)
    if _is_relation(ref):
        return (schema, ref.name), ("relation", None)
    return None, ref.key


def _makes_new(node: Any) -> bool:
    """Whether a statement that defines an object succeeds only where none is (a plain CREATE;
    ALTER TABLE ADD CONSTRAINT too)."""
    return not (getattr(node, "replace", False) or getattr(node, "if_not_exists", False))


def _is_relation(ref: ObjectRef) -> bool:
    kind = KINDS.get(ref.kind)
    return kind is not None and kind.relation


def _copied(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: dict(v) if isinstance(v, dict) else v for k, v in value.items()}
    return set(value) if isinstance(value, set) else value


ROUTINE_KINDS = frozenset({"function", "procedure", "aggregate"})
RELATION_KINDS = tuple(name for name, kind in KINDS.items() if kind.relation)


def _per_table() -> tuple[str, ...]:
    """The History fields keyed by TableKey, read from their types: a new one is moved with
    its table without being listed anywhere."""
    hints = get_type_hints(History)
    return tuple(
        f.name
        for f in fields(History)
        if getattr(hints[f.name], "__origin__", None) in (dict, set)
        and hints[f.name].__args__[0] == TableKey
    )


PER_TABLE = _per_table()
