"""SQL composition quotes what it is given as PostgreSQL would, and refuses plain strings;
the object-kind registry answers what the tables it replaced answered."""

from __future__ import annotations

import pytest
from pglast.enums.parsenodes import ObjectType

from migration_rollback.sql import kinds
from migration_rollback.sql.compose import SQL, Identifier, Literal, qualified, sql
from migration_rollback.sql.model import LockLevel


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (("t",), "t"),
        (("public", "t"), "public.t"),
        (("user",), '"user"'),  # reserved
        (("Mixed",), '"Mixed"'),
        (("a b", 'q"uote'), '"a b"."q""uote"'),
        (("_x1",), "_x1"),
        (("1x",), '"1x"'),
    ],
)
def test_identifiers_are_quoted_only_where_postgresql_needs_it(
    names: tuple[str, ...], expected: str
) -> None:
    assert Identifier(*names).as_string() == expected


def test_literals_double_their_quotes() -> None:
    assert Literal("it's").as_string() == "'it''s'"


def test_templates_take_pieces_by_position_index_and_name() -> None:
    text = sql("ALTER {} {0} RENAME TO {new}", SQL("TABLE"), new=Identifier("Neu"))
    assert text == 'ALTER TABLE TABLE RENAME TO "Neu"'
    assert sql("SELECT {}", SQL(", ").join([Literal("a"), Identifier("b")])) == "SELECT 'a', b"


def test_a_plain_string_is_refused_so_nothing_reaches_sql_unquoted() -> None:
    with pytest.raises(TypeError, match="given str"):
        sql("DROP TABLE {}", "users; drop table x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no format spec"):
        sql("DROP TABLE {!r}", Identifier("t"))


def test_qualified_names_leave_out_an_absent_schema() -> None:
    assert qualified(None, "x").as_string() == "x"
    assert qualified("s", "x") == Identifier("s", "x")


def test_each_object_type_names_one_kind_and_kinds_rank_uniquely() -> None:
    types = [k.object_type for k in kinds.KINDS.values() if k.object_type is not None]
    assert len(types) == len(set(types))
    ranks = [k.creation_order for k in kinds.KINDS.values() if k.creation_order is not None]
    assert len(ranks) == len(set(ranks))
    assert all(name == k.name for name, k in kinds.KINDS.items())


def test_the_registry_answers_as_the_tables_it_replaced() -> None:
    """The values the classifier, the inverse rules and the state-aware writer had, with the
    corrections: a foreign table's rows live on its server, a schema drops without CASCADE
    only when empty, and no routine, schema or foreign-data object takes a table lock."""
    holds_data = {k.object_type for k in kinds.KINDS.values() if k.holds_data}
    assert holds_data == {ObjectType.OBJECT_TABLE, ObjectType.OBJECT_SEQUENCE}
    assert kinds.KINDS["foreign table"].rows_elsewhere
    assert kinds.KINDS["schema"].drop_loses_rows(cascade=True)
    assert not kinds.KINDS["schema"].drop_loses_rows(cascade=False)
    no_lock = {k.object_type for k in kinds.KINDS.values() if k.drop_lock == LockLevel.NONE}
    assert no_lock == {
        ObjectType.OBJECT_FUNCTION, ObjectType.OBJECT_PROCEDURE, ObjectType.OBJECT_EXTENSION,
        ObjectType.OBJECT_PUBLICATION, ObjectType.OBJECT_ROLE, ObjectType.OBJECT_TYPE,
        ObjectType.OBJECT_DOMAIN, ObjectType.OBJECT_AGGREGATE, ObjectType.OBJECT_SCHEMA,
        ObjectType.OBJECT_FOREIGN_SERVER, ObjectType.OBJECT_FDW, ObjectType.OBJECT_EVENT_TRIGGER,
    }  # fmt: skip
    grants = {k.name: k.grant_keyword for k in kinds.KINDS.values() if k.grant_keyword}
    assert grants == {
        "table": "TABLE", "view": "TABLE", "materialized view": "TABLE",
        "foreign table": "TABLE", "sequence": "SEQUENCE", "function": "FUNCTION",
        "procedure": "PROCEDURE", "aggregate": "FUNCTION", "schema": "SCHEMA", "type": "TYPE",
    }  # fmt: skip
    order = sorted(
        (k for k in kinds.KINDS.values() if k.creation_order is not None),
        key=lambda k: kinds.creation_rank(k.name),
    )
    assert [k.name for k in order] == [
        "schema", "extension", "type", "sequence", "function", "procedure", "aggregate",
        "table", "column", "constraint", "index", "view", "materialized view", "trigger",
        "policy", "rule", "publication", "publication table",
    ]  # fmt: skip
    assert kinds.creation_rank("domain") == kinds.creation_rank("no such kind") == len(order)


def test_alter_names_a_relation_of_its_object_type_and_a_table_otherwise() -> None:
    assert kinds.relation_of_type(ObjectType.OBJECT_MATVIEW).keyword == "MATERIALIZED VIEW"
    assert kinds.relation_of_type(ObjectType.OBJECT_TYPE) is kinds.TABLE
    assert {kinds.BY_TYPE[t].name for t in kinds.RELATION_TYPES} == {
        "table",
        "view",
        "materialized view",
        "index",
        "sequence",
        "foreign table",
    }
