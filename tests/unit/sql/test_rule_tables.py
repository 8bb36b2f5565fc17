"""The inverse rule tables cover the enums they are keyed by.

Each table claims an answer for every member of its enum: a rule, or an explicit "by hand"
(a MANUAL item saying so). These tests parse a real statement for every member the parser
can produce and check the table's answer is the one it claims, so a new pglast enum member,
or a rule registered under the wrong member, fails here rather than in a rollback.
"""

from __future__ import annotations

from typing import Any

import pytest
from pglast import parse_sql
from pglast.enums.parsenodes import AlterPublicationAction, ObjectType
from pglast.enums.parsenodes import AlterTableType as AT
from pglast.stream import RawStream

from migration_rollback.sql import (
    ManualNeed,
    ObjectRef,
    build_history,
    comments,
    generate_rollback,
    kinds,
    parse_script,
)
from migration_rollback.sql.inverse import RULES
from migration_rollback.sql.rules import (
    alter_table,
    create,
    redefine,
    renames,
    settings,
    trigger_switches,
)
from migration_rollback.sql.rules.context import by_hand
from migration_rollback.sql.settings import OWNER

# A statement the parser turns into each subcommand (the first one of the ALTER).
SUBCOMMANDS: dict[AT, str] = {
    AT.AT_AddColumn: "alter table t add column c int",
    AT.AT_ColumnDefault: "alter table t alter column c set default 1",
    AT.AT_DropNotNull: "alter table t alter column c drop not null",
    AT.AT_SetNotNull: "alter table t alter column c set not null",
    AT.AT_SetExpression: "alter table t alter column c set expression as (1)",
    AT.AT_DropExpression: "alter table t alter column c drop expression",
    AT.AT_SetStatistics: "alter table t alter column c set statistics 100",
    AT.AT_SetOptions: "alter table t alter column c set (n_distinct = 1)",
    AT.AT_ResetOptions: "alter table t alter column c reset (n_distinct)",
    AT.AT_SetStorage: "alter table t alter column c set storage plain",
    AT.AT_SetCompression: "alter table t alter column c set compression pglz",
    AT.AT_DropColumn: "alter table t drop column c",
    AT.AT_AddConstraint: "alter table t add constraint k check (c > 0)",
    AT.AT_AlterConstraint: "alter table t alter constraint k deferrable",
    AT.AT_ValidateConstraint: "alter table t validate constraint k",
    AT.AT_DropConstraint: "alter table t drop constraint k",
    AT.AT_AlterColumnType: "alter table t alter column c type bigint",
    AT.AT_AlterColumnGenericOptions: "alter foreign table t alter column c options (add a 'b')",
    AT.AT_ChangeOwner: "alter table t owner to bob",
    AT.AT_ClusterOn: "alter table t cluster on i",
    AT.AT_DropCluster: "alter table t set without cluster",
    AT.AT_SetLogged: "alter table t set logged",
    AT.AT_SetUnLogged: "alter table t set unlogged",
    AT.AT_DropOids: "alter table t set without oids",
    AT.AT_SetAccessMethod: "alter table t set access method heap",
    AT.AT_SetTableSpace: "alter table t set tablespace pg_default",
    AT.AT_SetRelOptions: "alter table t set (fillfactor = 50)",
    AT.AT_ResetRelOptions: "alter table t reset (fillfactor)",
    AT.AT_EnableTrig: "alter table t enable trigger g",
    AT.AT_EnableAlwaysTrig: "alter table t enable always trigger g",
    AT.AT_EnableReplicaTrig: "alter table t enable replica trigger g",
    AT.AT_DisableTrig: "alter table t disable trigger g",
    AT.AT_EnableTrigAll: "alter table t enable trigger all",
    AT.AT_DisableTrigAll: "alter table t disable trigger all",
    AT.AT_EnableTrigUser: "alter table t enable trigger user",
    AT.AT_DisableTrigUser: "alter table t disable trigger user",
    AT.AT_EnableRule: "alter table t enable rule r",
    AT.AT_EnableAlwaysRule: "alter table t enable always rule r",
    AT.AT_EnableReplicaRule: "alter table t enable replica rule r",
    AT.AT_DisableRule: "alter table t disable rule r",
    AT.AT_AddInherit: "alter table t inherit p",
    AT.AT_DropInherit: "alter table t no inherit p",
    AT.AT_AddOf: "alter table t of some_type",
    AT.AT_DropOf: "alter table t not of",
    AT.AT_ReplicaIdentity: "alter table t replica identity full",
    AT.AT_EnableRowSecurity: "alter table t enable row level security",
    AT.AT_DisableRowSecurity: "alter table t disable row level security",
    AT.AT_ForceRowSecurity: "alter table t force row level security",
    AT.AT_NoForceRowSecurity: "alter table t no force row level security",
    AT.AT_GenericOptions: "alter foreign table t options (add a 'b')",
    AT.AT_AttachPartition: "alter table t attach partition p for values in (1)",
    AT.AT_DetachPartition: "alter table t detach partition p",
    AT.AT_DetachPartitionFinalize: "alter table t detach partition p finalize",
    AT.AT_AddIdentity: "alter table t alter column c add generated always as identity",
    AT.AT_SetIdentity: "alter table t alter column c set generated always",
    AT.AT_DropIdentity: "alter table t alter column c drop identity",
}


# What the history needs to follow a setting (rules/settings.py): the table, its trigger, rule.
MADE = """create table public.t (c int);
create trigger g before insert on public.t for each row execute function f();
create rule r as on insert to public.t do also notify t;"""


def _node(sql: str) -> Any:
    return parse_sql(sql)[0].stmt


def _manual_needs(sql: str, history: str | None = None) -> list[ManualNeed]:
    known = build_history([parse_script(history, "earlier.sql")]) if history else None
    plan = generate_rollback(parse_script(sql + ";"), "m", known)
    return [item.need for _, item in plan.manual_items]


def test_every_alter_table_subcommand_has_a_rule_or_is_undone_by_hand() -> None:
    assert set(alter_table.RULES) == set(AT)
    assert not alter_table.BY_HAND & alter_table.INTERNAL
    built = {at for at, rule in alter_table.RULES.items() if rule is not by_hand}
    assert built | alter_table.BY_HAND | alter_table.INTERNAL == set(AT)
    assert not built & (alter_table.BY_HAND | alter_table.INTERNAL)


def test_every_subcommand_a_migration_can_write_is_sampled_and_internal_ones_are_not() -> None:
    assert set(SUBCOMMANDS) == set(AT) - alter_table.INTERNAL


@pytest.mark.parametrize("subtype", list(SUBCOMMANDS), ids=lambda at: at.name)
def test_the_parser_produces_the_subcommand_and_the_table_answers_as_it_claims(
    subtype: AT,
) -> None:
    sql = SUBCOMMANDS[subtype]
    assert _node(sql).cmds[0].subtype == subtype
    needs = _manual_needs(sql)
    if subtype in alter_table.BY_HAND:
        assert needs == [ManualNeed.UNSUPPORTED]
    elif subtype in trigger_switches.BACK:  # an ENABLE alone is by hand, a DISABLE undone
        assert needs == ([ManualNeed.UNSUPPORTED] if " enable " in sql else [])
    elif subtype in settings.FOLLOWED:  # by hand, unless earlier migrations made the table
        assert len(needs) == 1
        assert _manual_needs(sql, MADE) == []
    else:
        assert ManualNeed.UNSUPPORTED not in needs


RENAMES: dict[ObjectType, str] = {
    ObjectType.OBJECT_TABLE: "alter table s.t rename to u",
    ObjectType.OBJECT_VIEW: "alter view s.v rename to w",
    ObjectType.OBJECT_MATVIEW: "alter materialized view s.m rename to n",
    ObjectType.OBJECT_INDEX: "alter index s.i rename to j",
    ObjectType.OBJECT_SEQUENCE: "alter sequence s.q rename to r",
    ObjectType.OBJECT_FOREIGN_TABLE: "alter foreign table s.f rename to g",
    ObjectType.OBJECT_COLUMN: "alter table s.t rename column a to b",
    ObjectType.OBJECT_TABCONSTRAINT: "alter table s.t rename constraint a to b",
    ObjectType.OBJECT_TRIGGER: "alter trigger a on s.t rename to b",
    ObjectType.OBJECT_POLICY: "alter policy a on s.t rename to b",
    ObjectType.OBJECT_SCHEMA: "alter schema s rename to s2",
    ObjectType.OBJECT_FUNCTION: "alter function s.f(int) rename to g",
    ObjectType.OBJECT_PROCEDURE: "alter procedure s.p() rename to q",
    ObjectType.OBJECT_AGGREGATE: "alter aggregate s.a(int) rename to b",
    ObjectType.OBJECT_TYPE: "alter type s.e rename to e2",
    ObjectType.OBJECT_DOMAIN: "alter domain s.d rename to d2",
}
RENAMED_BY_HAND = [
    "alter collation c rename to d",
    "alter server a rename to b",
    "alter publication a rename to b",
    "alter event trigger a rename to b",
]


@pytest.mark.parametrize("object_type", list(RENAMES), ids=lambda t: t.name)
def test_each_rename_rule_is_keyed_by_the_type_the_parser_gives(object_type: ObjectType) -> None:
    sql = RENAMES[object_type]
    assert _node(sql).renameType == object_type
    assert object_type in renames.RENAME
    assert _manual_needs(sql) == []


def test_the_rename_table_claims_exactly_the_sampled_types() -> None:
    assert set(renames.RENAME) == set(RENAMES)


@pytest.mark.parametrize("sql", RENAMED_BY_HAND)
def test_renames_of_other_types_are_by_hand(sql: str) -> None:
    assert _node(sql).renameType not in renames.RENAME
    assert _manual_needs(sql) == [ManualNeed.UNSUPPORTED]


MOVES: dict[ObjectType, str] = {
    ObjectType.OBJECT_TABLE: "alter table s.t set schema x",
    ObjectType.OBJECT_VIEW: "alter view s.v set schema x",
    ObjectType.OBJECT_MATVIEW: "alter materialized view s.m set schema x",
    ObjectType.OBJECT_SEQUENCE: "alter sequence s.q set schema x",
    ObjectType.OBJECT_FOREIGN_TABLE: "alter foreign table s.f set schema x",
    ObjectType.OBJECT_FUNCTION: "alter function s.f(int) set schema x",
    ObjectType.OBJECT_PROCEDURE: "alter procedure s.p() set schema x",
    ObjectType.OBJECT_AGGREGATE: "alter aggregate s.a(int) set schema x",
    ObjectType.OBJECT_TYPE: "alter type s.e set schema x",
    ObjectType.OBJECT_DOMAIN: "alter domain s.d set schema x",
}


@pytest.mark.parametrize("object_type", list(MOVES), ids=lambda t: t.name)
def test_each_set_schema_rule_is_keyed_by_the_type_the_parser_gives(
    object_type: ObjectType,
) -> None:
    sql = MOVES[object_type]
    assert _node(sql).objectType == object_type
    assert _manual_needs(sql) == []


def test_the_set_schema_table_claims_exactly_the_sampled_types() -> None:
    # The grammar has no ALTER INDEX … SET SCHEMA; the relations' rule holds it all the same.
    assert set(renames.SET_SCHEMA) == set(MOVES) | {ObjectType.OBJECT_INDEX}
    assert _manual_needs("alter extension e set schema x") == [ManualNeed.UNSUPPORTED]


def test_relations_are_renamed_and_moved_by_rule() -> None:
    for object_type in kinds.RELATION_TYPES:
        assert object_type in renames.RENAME
        assert object_type in renames.SET_SCHEMA


OWNERS: dict[ObjectType, str] = {
    ObjectType.OBJECT_FUNCTION: "alter function s.f(int) owner to bob",
    ObjectType.OBJECT_PROCEDURE: "alter procedure s.p() owner to bob",
    ObjectType.OBJECT_AGGREGATE: "alter aggregate s.a(int) owner to bob",
    ObjectType.OBJECT_TYPE: "alter type s.e owner to bob",
    ObjectType.OBJECT_DOMAIN: "alter domain s.d owner to bob",
    ObjectType.OBJECT_SCHEMA: "alter schema s owner to bob",
    ObjectType.OBJECT_PUBLICATION: "alter publication p owner to bob",
    ObjectType.OBJECT_EXTENSION: "alter extension e owner to bob",
}


@pytest.mark.parametrize("object_type", list(OWNERS), ids=lambda t: t.name)
def test_each_owner_kind_is_a_prior_owner_item_naming_its_kind(object_type: ObjectType) -> None:
    sql = OWNERS[object_type]
    if object_type is not ObjectType.OBJECT_EXTENSION:  # the grammar has no such statement
        assert _node(sql).objectType == object_type
        assert _manual_needs(sql) == [ManualNeed.PRIOR_OWNER]
    assert OWNER[object_type] is kinds.BY_TYPE[object_type]


@pytest.mark.parametrize(
    "object_type", [t for t in OWNERS if t is not ObjectType.OBJECT_EXTENSION], ids=lambda t: t.name
)
def test_an_owner_an_earlier_migration_named_is_given_back(object_type: ObjectType) -> None:
    sql = OWNERS[object_type]
    earlier = build_history([parse_script(sql.replace(" bob", " alice") + ";", "earlier.sql")])
    plan = generate_rollback(parse_script(sql + ";"), "m", earlier)
    assert not plan.manual_items
    assert [s.sql for s in plan.sql_steps] == [_qualified(sql).replace(" bob", " alice")]
    again = generate_rollback(parse_script(sql.replace(" bob", " alice") + ";"), "m", earlier)
    assert not again.sql_steps  # already so
    assert not again.manual_items


def _qualified(sql: str) -> str:
    """The statement as the undo prints it: pglast's spelling, `s.` written out."""
    return str(RawStream()(parse_sql(sql)[0].stmt))


def test_the_owner_table_claims_exactly_the_sampled_types_and_others_are_by_hand() -> None:
    assert set(OWNER) == set(OWNERS)
    assert _manual_needs("alter server s owner to bob") == [ManualNeed.UNSUPPORTED]


def _on(kind: str, name: str, table: str = "t") -> ObjectRef:
    return ObjectRef(kind, name, "s", table=table)


COMMENTS: dict[ObjectType, tuple[str, ObjectRef]] = {
    ObjectType.OBJECT_COLUMN: ("column s.t.c", ObjectRef("column", "t", "s", column="c")),
    ObjectType.OBJECT_SCHEMA: ("schema s", ObjectRef("schema", "s")),
    ObjectType.OBJECT_EXTENSION: ("extension e", ObjectRef("extension", "e")),
    ObjectType.OBJECT_PUBLICATION: ("publication p", ObjectRef("publication", "p")),
    ObjectType.OBJECT_ROLE: ("role r", ObjectRef("role", "r")),
    ObjectType.OBJECT_MATVIEW: ("materialized view s.m", ObjectRef("materialized view", "m", "s")),
    ObjectType.OBJECT_FOREIGN_TABLE: ("foreign table s.f", ObjectRef("foreign table", "f", "s")),
    ObjectType.OBJECT_FOREIGN_SERVER: ("server v", ObjectRef("server", "v")),
    ObjectType.OBJECT_FDW: ("foreign data wrapper w", ObjectRef("foreign data wrapper", "w")),
    ObjectType.OBJECT_EVENT_TRIGGER: ("event trigger e", ObjectRef("event trigger", "e")),
    ObjectType.OBJECT_TRIGGER: ("trigger g on s.t", _on("trigger", "g")),
    ObjectType.OBJECT_POLICY: ("policy p on s.t", _on("policy", "p")),
    ObjectType.OBJECT_RULE: ("rule r on s.t", _on("rule", "r")),
    ObjectType.OBJECT_TABCONSTRAINT: ("constraint k on s.t", _on("constraint", "k")),
    ObjectType.OBJECT_AGGREGATE: (
        "aggregate s.a(int)",
        ObjectRef("aggregate", "a", "s", args="integer"),
    ),
    ObjectType.OBJECT_TYPE: ("type s.e", ObjectRef("type", "e", "s")),
    ObjectType.OBJECT_INDEX: ("index s.i", ObjectRef("index", "i", "s")),
}


@pytest.mark.parametrize("object_type", list(COMMENTS), ids=lambda t: t.name)
def test_comment_names_its_object_as_the_registry_does(object_type: ObjectType) -> None:
    """The kind is the registry's (`materialized view`, `server`), not the enum's spelling
    (`matview`, `foreign_server`), so earlier migrations' objects are found by it."""
    what, expected = COMMENTS[object_type]
    node = _node(f"comment on {what} is 'x'")
    assert node.objtype == object_type
    assert comments.comment_target(node, "public") == expected
    assert expected.kind in kinds.KINDS


def test_the_comment_table_follows_the_registry() -> None:
    for object_type, kind in kinds.BY_TYPE.items():
        assert object_type in comments.COMMENT_TARGET, kind.name


def test_every_create_names_a_registered_kind_and_is_undone_by_a_drop() -> None:
    samples = [
        "create table s.t (a int)", "create index i on s.t (a)",
        "create foreign table s.f (a int) server x", "create server x foreign data wrapper w",
        "create foreign data wrapper w", "create table s.u as select 1",
        "create materialized view s.m as select 1", "create view s.v as select 1",
        "create function s.f() returns int language sql as 'select 1'",
        "create trigger g before insert on s.t for each row execute function s.f()",
        "create policy p on s.t using (true)",
        "create rule r as on insert to s.t do instead nothing",
        "create event trigger e on ddl_command_start execute function s.f()",
        "create type s.e as enum ('a')", "create type s.c as (a int)",
        "create domain s.d as int", "create sequence s.q", "create schema s",
        "create extension x", "create publication p",
    ]  # fmt: skip
    seen = set()
    for sql in samples:
        node = _node(sql)
        spec = create.CREATES[type(node)]
        ref = spec.target(node, "public")
        assert ref is not None, sql
        assert ref.kind in kinds.KINDS, sql
        plan = generate_rollback(parse_script(sql + ";"), "m")
        assert [s.sql.split()[0] for s in plan.sql_steps if s.sql] == ["DROP"], sql
        seen.add(type(node))
    assert seen == set(create.CREATES)
    assert all(RULES[statement] is create.create for statement in create.CREATES)


def test_every_publication_action_has_an_answer() -> None:
    assert set(redefine._PUBLICATION_BACK) == set(AlterPublicationAction)


def test_every_manual_need_has_a_state_aware_filler() -> None:
    from migration_rollback.verify.stateful.fill import _FILLERS

    # DATA_CHANGE and UNSUPPORTED are filled only for a table or object the migration made
    # (its rows go with it: verify/stateful/fill.py), a human's step otherwise.
    assert set(_FILLERS) == set(ManualNeed)
