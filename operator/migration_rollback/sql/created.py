"""What a CREATE statement makes, as PostgreSQL names and records it. Pure, no I/O.

A rollback drops what a migration created and must name it exactly as PostgreSQL did: an index
or constraint declared without a name gets one the server chooses (`t_a_idx`, `t_pkey`), and a
column keeps its type, default and NOT NULL as its definition gave them. The migration history
(history.py) learns from these, and the rollback rules (rules/) and the verifier name objects
with them, so each name has one spelling.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from pglast.enums.parsenodes import ConstrType

from migration_rollback.records import quick_init
from migration_rollback.sql._ast import ast
from migration_rollback.sql.model import ObjectRef
from migration_rollback.sql.names import (
    choose_name,
    deparse,
    index_column_names,
    relation,
    split_qualified,
    strings,
)


@quick_init
@dataclass(frozen=True, slots=True)
class ColumnState:
    """A column as earlier migrations left it; SQL text is rendered only when asked for."""

    type_node: Any
    default_node: Any
    not_null: bool
    generated_node: Any = None  # GENERATED ALWAYS AS (expr) STORED: the expression
    # How many of the history's renames had happened when the column was made: its type,
    # default or expression may name what was renamed since (renamed.py).
    renames_seen: int = 0
    # Set by the rules' context when one of them does: what changed (the text is unsure).
    unsure: Any = None
    # GENERATED … AS IDENTITY (its sequence options): the Constraint as written.
    identity: Any = None
    # COLLATE as written (its CollateClause; None: the type's default collation).
    collation_node: Any = None

    @property
    def generated(self) -> str | None:
        return None if self.generated_node is None else deparse(self.generated_node)

    @property
    def type(self) -> str:
        return deparse(self.type_node)

    @property
    def collate(self) -> str:
        """` COLLATE "C"` when the column has a collation of its own, else empty."""
        return "" if self.collation_node is None else " " + deparse(self.collation_node)

    @property
    def default(self) -> str | None:
        return None if self.default_node is None else deparse(self.default_node)


def column_state(col: Any, renames_seen: int = 0) -> ColumnState:
    """A column as its definition makes it, `renames_seen` renames into the history."""
    default = generated = identity = None
    not_null = False
    for c in col.constraints or ():
        if c.contype == ConstrType.CONSTR_IDENTITY:
            identity = c
        if c.contype == ConstrType.CONSTR_DEFAULT:
            default = c.raw_expr
        elif c.contype == ConstrType.CONSTR_GENERATED:
            generated = c.raw_expr
        elif c.contype in (ConstrType.CONSTR_NOTNULL, ConstrType.CONSTR_PRIMARY):
            not_null = True
    return ColumnState(
        col.typeName, default, not_null, generated, renames_seen, identity=identity,
        collation_node=col.collClause,
    )  # fmt: skip


def object_key_for_index(
    node: Any, schema: str, taken: Callable[[str, str], bool] | None = None
) -> ObjectRef:
    """The index a CREATE INDEX makes; unnamed, the name PostgreSQL picks: the next free one
    when `taken` (schema, name) knows the first to be a relation already (`t_a_idx1`)."""
    rel = relation(node.relation, schema)
    in_use = None if taken is None else partial(taken, str(rel.schema))
    name = node.idxname or choose_name(
        rel.name, index_column_names(node.indexParams), "idx", in_use
    )
    return ObjectRef("index", name, rel.schema)


# Constraints whose name is their index's: chosen among the schema's relations, not its
# constraints (PostgreSQL's ChooseIndexName, then ChooseConstraintName for the others).
INDEXED = frozenset(
    {ConstrType.CONSTR_PRIMARY, ConstrType.CONSTR_UNIQUE, ConstrType.CONSTR_EXCLUSION}
)

Taken = Callable[[str, bool], bool]  # (name, whether an index's) -> already in use


def constraint_name(
    table: str, constraint: Any, column: str | None = None, taken: Taken | None = None
) -> str:
    """The name PostgreSQL gives a constraint declared without one: the next free one when
    `taken` knows the first in use (`t_a_check1`)."""
    if constraint.conname:
        return str(constraint.conname)
    ct = constraint.contype
    in_use = None if taken is None else partial(_flipped, taken, ct in INDEXED)
    if ct == ConstrType.CONSTR_PRIMARY:
        return choose_name(table, [], "pkey", in_use)
    keys = strings(constraint.keys) or ([column] if column else [])
    if ct == ConstrType.CONSTR_UNIQUE:
        return choose_name(table, keys, "key", in_use)
    if ct == ConstrType.CONSTR_FOREIGN:
        return choose_name(table, strings(constraint.fk_attrs) or keys, "fkey", in_use)
    if ct == ConstrType.CONSTR_EXCLUSION:
        return choose_name(table, keys, "excl", in_use)
    if ct == ConstrType.CONSTR_CHECK:
        columns = [column] if column else _check_columns(constraint)
        return choose_name(table, columns, "check", in_use)
    return choose_name(table, keys, "con", in_use)


def _flipped(taken: Taken, indexed: bool, name: str) -> bool:
    return taken(name, indexed)


def _check_columns(constraint: Any) -> list[str]:
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, ast.ColumnRef):
            names = strings(node.fields)
            if names and names[-1] not in found:
                found.append(names[-1])
        elif isinstance(node, ast.Node):
            for attr in node:  # pglast nodes iterate over their field names
                walk(getattr(node, attr))
        elif isinstance(node, tuple | list):
            for item in node:
                walk(item)

    walk(constraint.raw_expr)
    return found[:1] if len(found) == 1 else []


def simple_object_ref(kind: str, node: object, default_schema: str) -> ObjectRef | None:
    """The object a CREATE of a type, domain, sequence, schema, extension... names."""
    if isinstance(node, ast.CreateEnumStmt):
        schema, name = split_qualified(strings(node.typeName), default_schema)
    elif isinstance(node, ast.CompositeTypeStmt):
        return relation(node.typevar, default_schema, "type")
    elif isinstance(node, ast.CreateDomainStmt):
        schema, name = split_qualified(strings(node.domainname), default_schema)
    elif isinstance(node, ast.CreateSeqStmt):
        return relation(node.sequence, default_schema, "sequence")
    elif isinstance(node, ast.CreateSchemaStmt):
        return ObjectRef("schema", str(node.schemaname))
    elif isinstance(node, ast.CreateExtensionStmt):
        return ObjectRef("extension", str(node.extname))
    elif isinstance(node, ast.CreatePublicationStmt):
        return ObjectRef("publication", str(node.pubname))
    else:
        return None
    return ObjectRef(kind, name, schema)
