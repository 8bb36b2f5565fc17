"""What each migration of a project makes, by name, read once from the parsed scripts. Pure.

A forward that fails on a missing object was often written against a database the migrations
do not build (a table made in the dashboard); what every migration makes tells that apart
from migrations out of order (a later one makes it) and from a true error. Read from the
statements the tool parsed: code it cannot read (a DO block's or function's PL/pgSQL, a file
that does not parse) may make more, so what it may make is kept to doubt with (made_in_code.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from migration_rollback.sql import Script, Statement
from migration_rollback.sql._ast import ast
from migration_rollback.sql.names import strings
from migration_rollback.verify.made_in_code import made_in_code

# (schema or None when unqualified, name), lowercased: an object, column or role a statement
# makes. Columns and roles carry no schema.
Made = tuple[str | None, str]


def _qualified(parts: Sequence[str]) -> Made:
    return (parts[-2].lower() if len(parts) > 1 else None, parts[-1].lower())


def _range(rv: Any) -> Made:
    return ((rv.schemaname or "").lower() or None, rv.relname.lower())


def _columns(elements: Iterable[Any] | None) -> Iterator[Made]:
    for element in elements or ():
        if isinstance(element, ast.ColumnDef) and element.colname:
            yield (None, element.colname.lower())


def _create_table(node: Any) -> Iterator[Made]:
    yield _range(node.relation)
    yield from _columns(node.tableElts)


def _alter_table(node: Any) -> Iterator[Made]:
    for cmd in node.cmds or ():
        yield from _columns([getattr(cmd, "def_", None)])


def _rename(node: Any) -> Iterator[Made]:
    """ALTER ... RENAME TO: the new name, in the schema of the old one when it says it."""
    if not node.newname:
        return
    parts = strings(node.object) if isinstance(node.object, tuple) else []
    schema = _range(node.relation)[0] if node.relation is not None else None
    if schema is None and len(parts) > 1:
        schema = parts[-2].lower()
    yield (schema, node.newname.lower())
    yield (None, node.newname.lower())  # a column's or constraint's new name


def _moved(node: Any) -> Iterator[Made]:
    """ALTER ... SET SCHEMA: the object under its new schema."""
    if node.relation is not None:
        yield (node.newschema.lower(), node.relation.relname.lower())
        return
    named = getattr(node.object, "objname", node.object)  # a routine: ObjectWithArgs
    parts = strings(named) if isinstance(named, tuple) else []
    if parts:
        yield (node.newschema.lower(), parts[-1].lower())


def _schema(node: Any) -> Iterator[Made]:
    yield (None, node.schemaname.lower())
    for element in node.schemaElts or ():
        yield from _made_by_node(element)


_MAKERS: Mapping[type, Any] = {
    ast.CreateStmt: _create_table,
    ast.CreateForeignTableStmt: lambda n: _create_table(n.base),
    ast.CreateTableAsStmt: lambda n: [_range(n.into.rel)],
    ast.SelectStmt: lambda n: [_range(n.intoClause.rel)] if n.intoClause else [],
    ast.ViewStmt: lambda n: [_range(n.view)],
    ast.CreateSeqStmt: lambda n: [_range(n.sequence)],
    ast.CompositeTypeStmt: lambda n: [_range(n.typevar)],
    ast.CreateFunctionStmt: lambda n: [_qualified(strings(n.funcname))],
    ast.DefineStmt: lambda n: [_qualified(strings(n.defnames))],
    ast.CreateEnumStmt: lambda n: [_qualified(strings(n.typeName))],
    ast.CreateRangeStmt: lambda n: [_qualified(strings(n.typeName))],
    ast.CreateDomainStmt: lambda n: [_qualified(strings(n.domainname))],
    ast.IndexStmt: lambda n: [(_range(n.relation)[0], n.idxname.lower())] if n.idxname else [],
    ast.CreateTrigStmt: lambda n: [(None, n.trigname.lower())],
    ast.CreatePolicyStmt: lambda n: [(None, n.policy_name.lower())],
    ast.CreateRoleStmt: lambda n: [(None, n.role.lower())],
    ast.CreateExtensionStmt: lambda n: [(None, n.extname.lower())],
    ast.CreateSchemaStmt: _schema,
    ast.AlterTableStmt: _alter_table,
    ast.RenameStmt: _rename,
    ast.AlterObjectSchemaStmt: _moved,
}


def _made_by_node(node: Any) -> Iterator[Made]:
    maker = _MAKERS.get(type(node))
    if maker is not None:
        yield from maker(node)


def made_by(statements: Iterable[Statement]) -> frozenset[Made]:
    """What the statements make (create, add, rename to, move to), as written."""
    return frozenset(m for st in statements for m in _made_by_node(st.node))


def as_names(made: Iterable[Made]) -> frozenset[str]:
    """Each name qualified and bare, as a later error message may carry it."""
    out: set[str] = set()
    for schema, name in made:
        out.add(name)
        if schema:
            out.add(f"{schema}.{name}")
    return frozenset(out)


@dataclass
class ProjectNames:
    """Every migration's made names, and the names its unread code may make, in order."""

    order: tuple[str, ...]
    made: tuple[frozenset[Made], ...]
    # bare names code the tool does not parse may make (made_in_code.py)
    unread: tuple[frozenset[str], ...]
    # the extensions the migrations create: what they make (functions, types) is not read
    extensions: frozenset[str] = frozenset()
    _positions: dict[str, int] = field(init=False, repr=False)
    # bare name -> (position, schema or None) of each migration making it, in order
    _by_bare: dict[str, list[tuple[int, str | None]]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._positions = {m: p for p, m in enumerate(self.order)}
        self._by_bare = {}
        for p, made in enumerate(self.made):
            for schema, name in made:
                self._by_bare.setdefault(name, []).append((p, schema))

    def position(self, migration: str) -> int | None:
        return self._positions.get(migration)

    def makers(self, name: str) -> list[int]:
        """The positions of the migrations whose statements make `name` (`s.n` or `n`)."""
        schema, bare = _split(name)
        found = {
            p
            for p, made_schema in self._by_bare.get(bare, ())
            if schema is None or made_schema is None or made_schema == schema
        }
        return sorted(found)

    def maybe_makers(self, name: str) -> list[int]:
        """The positions of the migrations whose unread code may make `name` (bare)."""
        bare = _split(name)[1]
        return [p for p, names in enumerate(self.unread) if bare in names]


def project_names(migrations: Iterable[tuple[str, Script | None, str]]) -> ProjectNames:
    """From each migration's name, parsed script (None: it does not parse) and text."""
    order, made, unread, extensions = [], [], [], set()
    for name, script, text in migrations:
        statements = script.statements if script is not None else ()
        code = [b for st in statements for b in code_bodies(st.node)]
        order.append(name)
        made.append(made_by(statements))
        unread.append(made_in_code(code if script is not None else [text]))
        extensions |= {st.node.extname.lower() for st in statements if _extension(st)}
    return ProjectNames(tuple(order), tuple(made), tuple(unread), frozenset(extensions))


def _extension(st: Statement) -> bool:
    return isinstance(st.node, ast.CreateExtensionStmt)


def code_bodies(node: Any) -> list[str]:
    """The code strings of a DO block or CREATE FUNCTION/PROCEDURE (their `AS` arguments)."""
    options = getattr(node, "args", None) or getattr(node, "options", None) or ()
    out: list[str] = []
    for option in options:
        if getattr(option, "defname", None) != "as":
            continue
        arg = option.arg
        items = getattr(arg, "items", None) or (arg,)
        out += [str(i.sval) for i in items if getattr(i, "sval", None)]
    return out


def _split(name: str) -> tuple[str | None, str]:
    parts = [p.strip('"').lower() for p in name.split(".")]
    return (parts[-2] if len(parts) > 1 else None, parts[-1])
