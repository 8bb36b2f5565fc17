"""Parsing edge cases and the hazard classification table."""

from __future__ import annotations

import pytest

from migration_rollback.errors import SqlSyntaxError, UnsafeOutputError
from migration_rollback.sql import LockLevel, checked_statement, classify, parse_script


def test_syntax_error_reports_file_line_and_column() -> None:
    with pytest.raises(SqlSyntaxError) as info:
        parse_script("select 1;\n\n  creat table x (id int);\n", "2025_x.sql")
    assert str(info.value).startswith("2025_x.sql:3:3: ")
    assert "creat" in info.value.message


def test_psql_meta_commands_are_skipped_with_a_warning_and_lines_stay_true() -> None:
    text = "\\set ON_ERROR_STOP on\n\\connect app\ncreate table t (id int);\n"
    script = parse_script(text, "m.sql")
    assert [s.kind for s in script.statements] == ["CreateStmt"]
    assert script.statements[0].location.line == 3
    assert len(script.warnings) == 2
    assert "m.sql:1" in script.warnings[0]


def test_backslash_inside_dollar_quoted_body_is_kept() -> None:
    script = parse_script("select $$\n\\x\n$$;", "f.sql")
    assert "\\x" in script.statements[0].text


def test_bom_and_crlf_do_not_shift_locations() -> None:
    script = parse_script("\ufeffselect 1;\r\nselect 2;\r\n", "w.sql")
    assert [s.location.line for s in script.statements] == [1, 2]
    assert script.statements[1].text == "select 2"


@pytest.mark.parametrize(
    ("sql", "lock", "transactional", "destroys"),
    [
        ("create table t (id int)", LockLevel.NONE, True, False),
        ("create index i on t (a)", LockLevel.SHARE, True, False),
        ("create index concurrently i on t (a)", LockLevel.SHARE_UPDATE_EXCLUSIVE, False, False),
        ("drop index concurrently i", LockLevel.SHARE_UPDATE_EXCLUSIVE, False, False),
        ("drop table t", LockLevel.ACCESS_EXCLUSIVE, True, True),
        # Without CASCADE a schema drops only when empty: no rows, no table lock.
        ("drop schema s", LockLevel.NONE, True, False),
        ("drop schema s cascade", LockLevel.ACCESS_EXCLUSIVE, True, True),
        # A foreign table's rows live on its server: the DROP loses the definition only.
        ("drop foreign table f", LockLevel.ACCESS_EXCLUSIVE, True, False),
        # Routines and foreign-data objects take a lock on the object, not on a table.
        ("drop aggregate a(int)", LockLevel.NONE, True, False),
        ("drop server s", LockLevel.NONE, True, False),
        ("drop foreign data wrapper w", LockLevel.NONE, True, False),
        ("drop event trigger e", LockLevel.NONE, True, False),
        # CASCADE may take the columns over a type, and lock their tables.
        ("drop type t cascade", LockLevel.ACCESS_EXCLUSIVE, True, True),
        ("drop function f(int) cascade", LockLevel.ACCESS_EXCLUSIVE, True, True),
        ("drop sequence s", LockLevel.ACCESS_EXCLUSIVE, True, True),
        ("drop view v", LockLevel.ACCESS_EXCLUSIVE, True, False),
        ("drop function f(int)", LockLevel.NONE, True, False),
        ("alter table t drop column c", LockLevel.ACCESS_EXCLUSIVE, True, True),
        ("alter table t add column c int", LockLevel.ACCESS_EXCLUSIVE, True, False),
        (
            "alter table t add constraint f foreign key (a) references u (id)",
            LockLevel.SHARE_ROW_EXCLUSIVE,
            True,
            False,
        ),
        ("alter table t validate constraint f", LockLevel.SHARE_UPDATE_EXCLUSIVE, True, False),
        ("truncate t", LockLevel.ACCESS_EXCLUSIVE, True, True),
        ("delete from t", LockLevel.ROW_EXCLUSIVE, True, True),
        ("insert into t values (1)", LockLevel.ROW_EXCLUSIVE, True, False),
        ("create policy p on t using (true)", LockLevel.ACCESS_EXCLUSIVE, True, False),
        (
            "create trigger x after insert on t execute function f()",
            LockLevel.SHARE_ROW_EXCLUSIVE,
            True,
            False,
        ),
        ("vacuum t", LockLevel.SHARE_UPDATE_EXCLUSIVE, False, False),
        ("grant select on t to anon", LockLevel.NONE, True, False),
    ],
)
def test_classification(sql: str, lock: LockLevel, transactional: bool, destroys: bool) -> None:
    c = classify(parse_script(sql).statements[0])
    assert (c.lock, c.transactional, c.destroys_data) == (lock, transactional, destroys)


@pytest.mark.parametrize(
    "sql",
    [
        "update t set a = 1",
        "do $$ begin end $$",
        "alter type e add value 'x'",
        "alter table t alter column a type bigint",
        "create or replace function f() returns int language sql as $$ select 1 $$",
        "drop table t",
        "create statistics s on a, b from t",
    ],
)
def test_statements_whose_inverse_needs_prior_state_are_manual(sql: str) -> None:
    assert classify(parse_script(sql).statements[0]).needs_manual


def test_drop_targets_are_schema_qualified() -> None:
    c = classify(parse_script("drop table a.b, c").statements[0])
    assert [t.qualified for t in c.targets] == ["a.b", "public.c"]


def test_cascade_is_called_out() -> None:
    c = classify(parse_script("drop table t cascade").statements[0])
    assert any("CASCADE" in n for n in c.notes)


def test_safety_belt_refuses_unparseable_or_multiple_statements() -> None:
    with pytest.raises(UnsafeOutputError):
        checked_statement("DROP TABLE IF EXISTS")
    with pytest.raises(UnsafeOutputError):
        checked_statement("select 1; select 2")
    assert checked_statement("DROP TABLE IF EXISTS public.t").kind == "DropStmt"


def test_error_at_end_of_input_points_past_the_last_line() -> None:
    with pytest.raises(SqlSyntaxError) as info:
        parse_script("select 1;\ncreate table", "e.sql")
    assert info.value.location.line == 2


def test_publication_options_change_is_a_manual_item_not_an_empty_table_list() -> None:
    from migration_rollback.sql import History, generate_rollback

    script = parse_script("alter publication feed set (publish = 'insert, update');")
    plan = generate_rollback(script, "20240101000001_x", History())
    assert not plan.sql_steps
    ((_, item),) = plan.manual_items
    assert "options of publication feed" in str(item)


@pytest.mark.parametrize(
    ("text", "near"),
    [
        ("select 1;\nselect 'abc;\nvalid    x\n2 migrations: 2 valid\n", '"\'abc;…" (cut)'),
        ("select /* open\nvalid    x\n", "(cut)"),
        ("select $$ " + "x" * 500, '…" (cut)'),
    ],
    ids=["string", "comment", "long-dollar-quote"],
)
def test_a_syntax_error_quotes_one_short_line_of_the_file(text: str, near: str) -> None:
    # The parser quotes the text at the error: for an unterminated string, the rest of the file,
    # whose lines, printed, passed for lines of the tool's own output ("valid ...").
    with pytest.raises(SqlSyntaxError) as caught:
        parse_script(text, "f.sql")
    message = str(caught.value)
    assert "\n" not in message, message
    assert len(message) < 200, message
    assert message.endswith(near), message
