"""A DROP or an ALTER … subcommand the rules compose comes with its parse tree for the safety
belt (no parse of it): that tree must be exactly what pglast parses the composed text into,
for every kind and every way of naming the object."""

from __future__ import annotations

import itertools
from typing import Any

import pglast
import pytest
from pglast.enums.parsenodes import AlterTableType as AT

from migration_rollback.sql import kinds
from migration_rollback.sql.generator import checked_statement
from migration_rollback.sql.model import ObjectRef
from migration_rollback.sql.rules.context import WORDS, Context, Subcommand, drop
from migration_rollback.sql.touched import touched_names

# Bare, upper case, a reserved word, a space and a quote, an unreserved keyword, multibyte
# within NAMEDATALEN, and one over it (the parser truncates it).
_NAMES = ("t", "Mixed", "user", 'a b"c', "index", "é" * 31, "x" * 64)
_SCHEMAS = (None, "public", "My Schema")


def _refs(kind: kinds.ObjectKind) -> list[ObjectRef]:
    if kind.on_table:
        return [
            ObjectRef(kind.name, name, schema, table=table)
            for name, schema, table in itertools.product(_NAMES, _SCHEMAS, ("tbl", "Tbl"))
        ]
    if kind.schemaless:
        return [ObjectRef(kind.name, name) for name in _NAMES]
    refs = [ObjectRef(kind.name, n, s) for n, s in itertools.product(_NAMES, _SCHEMAS)]
    with_args = [ObjectRef(kind.name, n, "public", args=a) for n in _NAMES for a in ("", "int")]
    return refs + with_args


_DROPPABLE = [k for k in kinds.KINDS.values() if k.object_type is not None and k.name != "column"]
_CASES = [
    pytest.param(ref, concurrently, id=f"{ref.describe()}-{concurrently}")
    for kind in _DROPPABLE
    for ref in _refs(kind)
    for concurrently in (False, True)
    if kind.name == "index" or not concurrently
]


@pytest.mark.parametrize(("ref", "concurrently"), _CASES)
def test_a_composed_drop_tree_is_pglast_parse_of_its_text(
    ref: ObjectRef, concurrently: bool
) -> None:
    inverse = drop(ref, concurrently=concurrently)
    if inverse.tree is None:
        return  # the safety belt parses it
    assert inverse.sql is not None
    (parsed,) = pglast.parse_sql(inverse.sql)
    assert inverse.tree == parsed.stmt
    assert _locations(inverse.tree) == _locations(parsed.stmt)
    # What coverage and ordering read of it: the same as from the belt's own parse.
    assert touched_names(inverse.tree) == touched_names(checked_statement(inverse.sql).node)


@pytest.mark.parametrize("kind", ["table", "view", "materialized view", "index", "sequence",
                                  "foreign table", "policy", "trigger", "rule", "type",
                                  "domain", "function", "procedure"])  # fmt: skip
def test_relations_and_objects_on_a_table_get_their_tree(kind: str) -> None:
    table = "t" if kinds.KINDS[kind].on_table else None
    ref = ObjectRef(kind, "x", "public", table=table, args="" if "function" in kind else None)
    assert drop(ref).tree is not None


@pytest.mark.parametrize(
    "ref",
    [
        ObjectRef("function", "f", "s", args="integer"),
        ObjectRef("aggregate", "a", "s", args=""),
        ObjectRef("schema", "s"),
        ObjectRef("extension", "x"),
        ObjectRef("type", "int"),  # a bare type name may be a built-in's alias
    ],
)
def test_kinds_named_otherwise_are_left_to_the_safety_belt(ref: ObjectRef) -> None:
    assert drop(ref).tree is None


_RELATIONS = [k for k in kinds.KINDS.values() if k.relation]
# The statements whose grammar takes ONLY (ALTER INDEX, VIEW, SEQUENCE… do not).
_TAKE_ONLY = frozenset({"table", "foreign table"})
_ALTERS = [
    pytest.param(
        kind, subtype, schema, if_exists, only,
        id=f"{kind.name}-{subtype.name}-{schema}-{if_exists}-{only}",
    )
    for kind in _RELATIONS
    for subtype in WORDS
    for schema in _SCHEMAS
    for if_exists in (False, True)
    for only in ((False, True) if kind.name in _TAKE_ONLY else (False,))
]  # fmt: skip


@pytest.mark.parametrize(("kind", "subtype", "schema", "if_exists", "only"), _ALTERS)
def test_an_alter_subcommand_tree_is_pglast_parse_of_its_text(
    kind: kinds.ObjectKind, subtype: AT, schema: str | None, if_exists: bool, only: bool
) -> None:
    for table, name in zip(_NAMES, reversed(_NAMES), strict=True):
        rel = ObjectRef(kind.name, table, schema)
        sub = Subcommand(None, rel, kind, if_exists, Context(history=None), only)
        named = "{}" in WORDS[subtype][0]
        inverse = sub.undo(subtype, name if named else None)
        assert inverse.sql is not None
        if any(len(n.encode()) > 63 for n in (table, name if named else "")):
            assert inverse.tree is None  # the parser would truncate it: the belt parses it
            continue
        (parsed,) = pglast.parse_sql(inverse.sql)
        stmt: Any = parsed.stmt
        assert inverse.tree == stmt
        assert stmt.relation.inh is not only  # ONLY written, and read back
        assert inverse.tree.relation.location == stmt.relation.location
        assert touched_names(inverse.tree) == touched_names(checked_statement(inverse.sql).node)


def _locations(node: Any) -> list[int]:
    """Every `location` in a tree, in walk order (node equality leaves them out)."""
    if isinstance(node, tuple):
        return [at for item in node for at in _locations(item)]
    if not isinstance(node, pglast.ast.Node):
        return []
    own = [node.location] if "location" in node else []
    return own + [
        at for name in node if name != "location" for at in _locations(getattr(node, name))
    ]


@pytest.mark.parametrize("name", ["x" * 64, "é" * 32])
def test_a_name_the_parser_would_truncate_gets_no_made_tree(name: str) -> None:
    assert drop(ObjectRef("table", name, "public")).tree is None
    assert drop(ObjectRef("index", "i", name)).tree is None


def test_an_undo_whose_name_and_words_disagree_is_refused() -> None:
    sub = Subcommand(None, ObjectRef("table", "t", "public"), kinds.KINDS["table"], False,
                     Context(history=None))  # fmt: skip
    with pytest.raises(ValueError, match="AT_DropColumn"):
        sub.undo(AT.AT_DropColumn)
    with pytest.raises(ValueError, match="AT_EnableRowSecurity"):
        sub.undo(AT.AT_EnableRowSecurity, "c")
