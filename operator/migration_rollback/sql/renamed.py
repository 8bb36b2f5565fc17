"""Names that changed since an earlier text was written: whether re-running that text makes
the same object again.

PostgreSQL binds a view, policy, index, trigger, constraint or SQL-standard routine body to
the objects it names when it is created, and follows them through renames; its CREATE text
does not. Re-run after a rename, the text names a column or table that is gone (the rollback
fails) or, worse, one made since under the old name. The rollback runs at the place of the
forward statement it undoes: renames made after the text was written and before that
statement still hold there (those made after it are undone first), so they decide. A routine
body kept as a string (PL/pgSQL, LANGUAGE sql) is what PostgreSQL stored too and is resolved
when called, except that a LANGUAGE sql body is checked when it is created: its statements
count. An enum value or a sequence renamed is named in a literal (`'active'`, `nextval('s')`).

Such a text is written again only where that is certain: a relation renamed or moved, named
by its RangeVars alone (called_now). Anything else is the rules' MANUAL item naming the change.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pglast import parse_sql
from pglast.enums.parsenodes import ObjectType as OT
from pglast.parser import ParseError

from migration_rollback.sql._ast import ast
from migration_rollback.sql.model import ObjectRef, Statement
from migration_rollback.sql.names import (
    DEFAULT_SCHEMA,
    deparse,
    relation,
    split_qualified,
    strings,
    table_key,
)

STAR = "\x00*"  # what a `*` in a select list names: every column, as it was then (not `*`,
# which the tree also holds as the multiplication operator's name)
ANY = "\x00any"  # what a text that cannot be read names: anything


class RenamedKind(StrEnum):
    """What was renamed, as a reader calls it."""

    COLUMN = "column"
    ATTRIBUTE = "attribute"
    TABLE = "table"
    VIEW = "view"
    MATVIEW = "materialized view"
    FOREIGN_TABLE = "foreign table"
    SEQUENCE = "sequence"
    SCHEMA = "schema"
    TYPE = "type"
    DOMAIN = "domain"
    FUNCTION = "function"
    PROCEDURE = "procedure"
    AGGREGATE = "aggregate"
    ROUTINE = "routine"
    ENUM_VALUE = "enum value"


@dataclass(frozen=True, slots=True)
class Renamed:
    """A name that stopped meaning what it meant: renamed or moved, or (a column added) a `*`
    that now expands to more."""

    old: str  # the name an earlier text would say
    what: str  # for a reader: "column a of public.t renamed to b at m.sql:3"
    table: str | None = None  # a column's table: a text must name it too
    literal: bool = False  # named in a string literal rather than as an identifier
    # A relation is named as an identifier and in a literal too (`'public.t'::regclass`,
    # `to_regclass('t')`, `nextval('s')`).
    also_literal: bool = False
    qualifier: bool = False  # a schema: named only before a dot (`s.t`), not as a column
    kind: RenamedKind | None = None  # what was renamed (None: a test's bare name)
    # A relation renamed or moved: (schema, name) before and after, which a text naming it by
    # a RangeVar can say instead (called_now).
    moved: tuple[tuple[str, str], tuple[str, str]] | None = None


def renamed_by(node: Any, st: Statement, default_schema: str) -> tuple[Renamed, ...]:
    """What a RENAME, SET SCHEMA or ALTER TYPE … RENAME VALUE changes in names."""
    where = f"{st.location.file}:{st.location.line}"
    if isinstance(node, ast.AlterEnumStmt):  # ADD VALUE changes no name
        what = f"value '{node.oldVal}' renamed to '{node.newVal}' at {where}"
        value = Renamed(str(node.oldVal), what, literal=True, kind=RenamedKind.ENUM_VALUE)
        return (value,) if node.oldVal else ()
    old, table = _old_name(node, default_schema)
    if old is None:
        return ()
    kind = _KIND.get(_object_type(node))
    if kind is None:
        return ()
    renamed = isinstance(node, ast.RenameStmt)
    to = f"renamed to {node.newname}" if renamed else f"moved to schema {node.newschema}"
    of = f" of {table.qualified}" if table else ""
    relation_kind = kind in _RELATION_KINDS
    # A column is named with its table; an attribute through a value of its type, unnamed.
    on = table.name if table and kind == RenamedKind.COLUMN else None
    what = f"{kind} {old}{of} {to} at {where}"
    moved = _moved(node, default_schema) if relation_kind else None
    schema = kind == RenamedKind.SCHEMA
    return (Renamed(old, what, on, False, relation_kind, schema, kind, moved),)


def _moved(node: Any, default_schema: str) -> tuple[tuple[str, str], tuple[str, str]] | None:
    """A relation's (schema, name) before and after a RENAME or SET SCHEMA."""
    if node.relation is None:
        return None
    rel = relation(node.relation, default_schema)
    before = table_key(rel)
    if isinstance(node, ast.RenameStmt):
        return (before, (before[0], str(node.newname))) if node.newname else None
    return (before, (str(node.newschema), rel.name)) if node.newschema else None


def column_added(table: ObjectRef, column: str, st: Statement) -> Renamed:
    """A column added to `table`: a `*` over it, expanded again, takes the column in."""
    where = f"{st.location.file}:{st.location.line}"
    what = f"column {column} added to {table.schema}.{table.name} at {where}"  # often: no quoting
    return Renamed(STAR, what, table.name, kind=RenamedKind.COLUMN)


def _object_type(node: Any) -> Any:
    return node.renameType if isinstance(node, ast.RenameStmt) else node.objectType


def _old_name(node: Any, default_schema: str) -> tuple[str | None, ObjectRef | None]:
    """The name the object had, and a column's (or attribute's) table."""
    typ = _object_type(node)
    if typ in _ON_RELATION:
        rel = relation(node.relation, default_schema) if node.relation is not None else None
        return (str(node.subname) if node.subname else None), rel
    if typ == OT.OBJECT_SCHEMA:
        return (str(node.subname) if node.subname else None), None
    if node.relation is not None:
        return str(node.relation.relname), None
    obj = node.object
    names = obj.objname if isinstance(obj, ast.ObjectWithArgs) else obj
    if not isinstance(names, tuple | list):
        return None, None
    return split_qualified(strings(names), default_schema)[1], None


_ON_RELATION = frozenset({OT.OBJECT_COLUMN, OT.OBJECT_ATTRIBUTE})
K = RenamedKind
_RELATION_KINDS = frozenset({K.TABLE, K.VIEW, K.MATVIEW, K.FOREIGN_TABLE, K.SEQUENCE})
# What a rename changes that another object's text can name, by the object type renamed.
_KIND: dict[Any, RenamedKind] = {
    OT.OBJECT_COLUMN: K.COLUMN,
    OT.OBJECT_ATTRIBUTE: K.ATTRIBUTE,
    OT.OBJECT_TABLE: K.TABLE,
    OT.OBJECT_VIEW: K.VIEW,
    OT.OBJECT_MATVIEW: K.MATVIEW,
    OT.OBJECT_FOREIGN_TABLE: K.FOREIGN_TABLE,
    OT.OBJECT_SEQUENCE: K.SEQUENCE,
    OT.OBJECT_SCHEMA: K.SCHEMA,
    OT.OBJECT_TYPE: K.TYPE,
    OT.OBJECT_DOMAIN: K.DOMAIN,
    OT.OBJECT_FUNCTION: K.FUNCTION,
    OT.OBJECT_PROCEDURE: K.PROCEDURE,
    OT.OBJECT_AGGREGATE: K.AGGREGATE,
    OT.OBJECT_ROUTINE: K.ROUTINE,
}
# A type or domain renamed: followed exactly (the history writes the new name, type_now).
TYPE_KINDS = frozenset({K.TYPE, K.DOMAIN})


def first_named(
    tree: Any, since: Iterable[Renamed], *, on: str | None = None, text: str | None = None
) -> Renamed | None:
    """The first of `since` that `tree` (a statement, or a fragment of one on table `on`: a
    column of `on` it names is that table's) names; None when it names none of them. `text`,
    the tree's SQL, spares walking it when no name changed appears in it at all."""
    renames = tuple(since) if text is None else _in_text(since, text)
    if not renames:
        return None
    identifiers, qualifiers, literals = _names(tree)
    tables = identifiers if on is None else identifiers | {on}
    for renamed in renames:
        found = literals if renamed.literal else qualifiers if renamed.qualifier else identifiers
        if _named(renamed, found, identifiers, tables):
            return renamed
        if renamed.also_literal and _in_literal(renamed.old, literals):
            return renamed
    return None


def _in_text(since: Iterable[Renamed], text: str) -> tuple[Renamed, ...]:
    """The renames `text` may name, as written in any case: a name the text says is in it
    (unless spelled with escapes: then all of them)."""
    lowered = text.lower()
    if "u&" in lowered or '""' in lowered:
        return tuple(since)
    words = set(_WORD.findall(lowered))
    return tuple(r for r in since if _in(r, lowered, words))


_WORD = re.compile(r"[\w$]+")


def _in(renamed: Renamed, lowered: str, words: set[str]) -> bool:
    """Whether a text may say the name: its old name in it, or a `*` and a column's table."""
    if renamed.old != STAR and _said(renamed.old, lowered, words):
        return True
    star = renamed.table is not None and "*" in lowered
    return star and _said(str(renamed.table), lowered, words)


def _said(name: str, lowered: str, words: set[str]) -> bool:
    name = name.lower()
    return name in words if _WORD.fullmatch(name) else name in lowered


def _named(renamed: Renamed, found: set[str], identifiers: set[str], tables: set[str]) -> bool:
    if ANY in identifiers:
        return True
    if renamed.literal:
        return any(text == renamed.old or text.endswith("." + renamed.old) for text in found)
    if renamed.table is not None and renamed.table not in tables:
        return False
    return renamed.old in found or (renamed.table is not None and STAR in identifiers)


def _in_literal(old: str, literals: set[str]) -> bool:
    """Whether a literal may name relation `old` (`'t'`, `'public.t'`, `'"T"'`): in any
    case, as a regclass cast of it would find it or another of the same name."""
    return any(text.replace('"', "").lower().split(".")[-1] == old.lower() for text in literals)


def called_now(text: str, since: Iterable[Renamed], *, name: str | None = None) -> str | None:
    """`text` naming each relation renamed since by its name now, when that is certain: each
    RangeVar of it rewritten (no CTE could take the name, no alias, relation or `x.a` in it
    says the new name, which the rewritten one would take or clash with), and nothing else it
    says changed (a column renamed, the old name in `t.a` or a literal, a row type): None
    otherwise, and when none was. An unnamed index gets `name`, the one it had: PostgreSQL
    would name it after the table as it is called now."""
    renames = tuple(since)
    moves = [r for r in renames if r.moved is not None]
    original = parse_sql(text)[0].stmt
    now = parse_sql(text)[0].stmt
    if not moves or any(_unsure_reference(n) for n in _walk(now)):
        return None
    # (An alias keeping the old name would bind the same, but PostgreSQL would print it.)
    taken = _refnames(original, moves)
    # A table moved keeps its name: `t.a` still says it; one renamed must not be named so.
    renamed_away = [r for r in moves if r.moved and r.moved[0][1] != r.moved[1][1]]
    if any(r.moved and r.moved[1][1] in taken for r in renamed_away):
        return None
    for renamed in moves:
        _call_now(now, renamed)
    others = [r for r in renames if r.moved is None]
    if first_named(now, renamed_away) or first_named((original, now), others):
        return None
    if isinstance(now, ast.IndexStmt) and not now.idxname:
        now.idxname = name
    return None if _said_otherwise(now, moves) else deparse(now)


def _call_now(tree: Any, renamed: Renamed) -> None:
    """Each RangeVar of `tree` naming the relation `renamed` moved, named as it is after."""
    before, after = renamed.moved or ((None, None), (None, None))
    for node in _walk(tree):
        named = (node.schemaname or DEFAULT_SCHEMA, node.relname) if _is_range(node) else None
        if named == before:
            node.schemaname, node.relname = after


def _refnames(tree: Any, moves: Iterable[Renamed]) -> set[str]:
    """The names a text binds or qualifies with that a relation renamed to one would take or
    clash with: aliases, `x` of `x.a`, relations that keep their name."""
    away = {r.moved[0] for r in moves if r.moved}
    found: set[str] = set()
    for node in _walk(tree):
        if isinstance(node, ast.Alias):
            found.add(str(node.aliasname))
        elif _is_range(node) and (node.schemaname or DEFAULT_SCHEMA, node.relname) not in away:
            found.add(str(node.relname))
        elif isinstance(node, ast.ColumnRef) and len(node.fields or ()) > 1:
            found.update(str(f.sval) for f in node.fields[:-1] if isinstance(f, ast.String))
    return found


def _said_otherwise(tree: Any, moves: Iterable[Renamed]) -> bool:
    """Whether the text names a relation moved other than by a RangeVar: in a literal
    (`'public.t'::regclass`, `to_regclass('t')`) or as its row type (`x::public.t`)."""
    _, _, literals = _names(tree)
    types = {
        str(node.names[-1].sval)
        for node in _walk(tree)
        if isinstance(node, ast.TypeName) and node.names
    }
    return any(_in_literal(r.old, literals) or r.old in types for r in moves)


def _unsure_reference(node: Any) -> bool:
    """A name a RangeVar rewrite would not follow: a CTE that may take a relation's name, a
    column named with its schema (`s.t.a`)."""
    if isinstance(node, ast.CommonTableExpr):
        return True
    return isinstance(node, ast.ColumnRef) and len(node.fields or ()) > 2


def _is_range(node: Any) -> bool:
    return isinstance(node, ast.RangeVar)


def _names(tree: Any) -> tuple[set[str], set[str], set[str]]:
    """The identifiers a tree names (a `*` as STAR), those before a dot (a schema, a table),
    and its string literals; a LANGUAGE sql body's too."""
    identifiers: set[str] = set()
    qualifiers: set[str] = set()
    literals: set[str] = set()
    for node in _walk(tree):
        if isinstance(node, tuple) and len(node) > 1:
            qualifiers.update(str(n.sval) for n in node[:-1] if isinstance(n, ast.String))
        elif isinstance(node, ast.A_Const):
            if isinstance(node.val, ast.String):
                literals.add(str(node.val.sval))
        elif isinstance(node, ast.String):
            identifiers.add(str(node.sval))
        elif isinstance(node, ast.RangeVar):
            identifiers.update(str(n) for n in (node.relname, node.schemaname) if n)
            qualifiers.add(str(node.schemaname or ""))
        elif isinstance(node, ast.IndexElem) and node.name:
            identifiers.add(str(node.name))
        elif isinstance(node, ast.A_Star):
            identifiers.add(STAR)
    return identifiers, qualifiers, literals


def _walk(node: Any) -> Iterator[Any]:
    """Every node of the tree, not into a literal nor an option (a routine's language, a body
    kept as a string), but into a LANGUAGE sql body."""
    yield node
    if isinstance(node, ast.A_Const | ast.DefElem):
        return
    if isinstance(node, ast.CreateFunctionStmt):
        yield from _sql_body(node.options or ())
    if isinstance(node, ast.Node):
        for attr in node:
            yield from _walk(getattr(node, attr))
    elif isinstance(node, tuple | list):
        for item in node:
            yield from _walk(item)


def _sql_body(options: Iterable[Any]) -> Iterator[Any]:
    """The statements of a LANGUAGE sql routine's `AS '…'` body: checked when it is created."""
    found = {str(o.defname): o.arg for o in options if isinstance(o, ast.DefElem)}
    language, body = found.get("language"), found.get("as")
    if getattr(language, "sval", None) != "sql" or not body:
        return
    try:
        statements = parse_sql(str(body[0].sval))
    except ParseError:
        yield ast.String(sval=ANY)  # unreadable: it may name anything
        return
    for raw in statements:
        yield from _walk(raw.stmt)
