"""Code the migration's text does not show, running a statement no event trigger reports
(session twelve): a trigger fired by a write, a user's event trigger, a function behind a
DEFAULT, a CHECK, an index expression, a generated column, a view, an operator; a rule's
action; a write through a view over a system catalog; a trigger function dropped after it ran;
in the forward file and in the rollback file. Each rollback restores everything the text shows
and nothing the hidden statement changed: the full comparison says mismatch, and the scoped
check must say the same (it said verified for each, but the regression cases marked below).

Each case has its own role owning its own table; its hidden statement, REASSIGN OWNED BY that
role (or a write to pg_class giving the table away), changes that table's owner, an object
no statement of the migration names.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_verify_scoped_parity import BASE, NOTHING, assert_scoped_is_full
from verify_support import explain, statuses, write_project

from migration_rollback.verify import run_verification

pytestmark = pytest.mark.integration

CASES = (
    "row_trigger",
    "statement_trigger",
    "trigger_in_forward",
    "event_trigger",
    "default",
    "check",
    "index_expression",
    "generated",
    "view",
    "operator",
    "rule_calls",
    "rule_writes",
    "catalog_view",
    "dropped_after",
    "in_rollback",
    "cte_call",  # regression: the text shows the call
    "kept_catalog_view",
)


def _owners() -> str:
    """A role per case, owning a table of its own."""
    out = []
    for case in CASES:
        out.append(
            f"do $$ begin create role mr_hid_{case}; exception when duplicate_object then null;"
            " end $$;\n"
            f"create table s.o_{case} (a int);\nalter table s.o_{case} owner to mr_hid_{case};\n"
        )
    return "".join(out)


def _give(case: str) -> str:
    return f"reassign owned by mr_hid_{case} to postgres"


def _hidden(case: str, returns: str = "int", value: str = "1") -> str:
    return (
        f"create function s.h_{case}(anyelement default null::int) returns {returns} "
        f"language plpgsql as $$ begin {_give(case)}; return {value}; end $$;\n"
    )


def _trigger_function(case: str) -> str:
    return (
        f"create function s.t_{case}() returns trigger language plpgsql as $$ "
        f"begin {_give(case)}; return null; end $$;\n"
    )


UNSEEN_BASE = (
    BASE
    + _owners()
    + "create table s.w_row (a int);\n"
    + _trigger_function("row_trigger")
    + "create trigger t after insert on s.w_row for each row execute function"
    " s.t_row_trigger();\n"
    + "create table s.w_statement (a int);\ninsert into s.w_statement values (1);\n"
    + _trigger_function("statement_trigger")
    + "create trigger t after update on s.w_statement for each statement execute function"
    " s.t_statement_trigger();\n"
    + "create table s.w_forward (a int);\n"
    + _trigger_function("trigger_in_forward")
    + "create function s.e_event() returns event_trigger language plpgsql as $$ begin"
    " if tg_tag = 'CREATE TABLE' and pg_catalog.to_regclass('s.fire') is not null then"
    f" {_give('event_trigger')}; end if; end $$;\n"
    + _hidden("default")
    + "create table s.w_default (a int, b int default s.h_default());\n"
    + _hidden("check", "boolean", "true")
    + "create table s.w_check (a int check (s.h_check(a)));\n"
    + _hidden("index_expression")
    + "create function s.i_index(int) returns int language plpgsql immutable as $$ begin"
    " perform s.h_index_expression(); return $1; end $$;\n"
    + "create table s.w_index (a int);\ncreate index on s.w_index (s.i_index(a));\n"
    + _hidden("generated")
    + "create function s.i_generated(int) returns int language plpgsql immutable as $$ begin"
    " perform s.h_generated(); return $1; end $$;\n"
    + "create table s.w_generated (a int, b int generated always as (s.i_generated(a))"
    " stored);\n"
    + _hidden("view")
    + "create view s.v_view as select s.h_view() as x;\n"
    + "create function s.h_operator(int, int) returns int language plpgsql as $$ begin"
    f" {_give('operator')}; return $1; end $$;\n"
    + "create operator s.### (function = s.h_operator, leftarg = int, rightarg = int);\n"
    + _hidden("rule_calls")
    + "create table s.w_rule (a int);\n"
    + "create rule r as on insert to s.w_rule do also select s.h_rule_calls();\n"
    + "create table s.w_rule2 (a int);\n"
    + "create table s.w_dropped (a int);\n"
    + _trigger_function("dropped_after")
    + "create trigger t after insert on s.w_dropped for each row execute function"
    " s.t_dropped_after();\n"
    + "create table s.w_rollback (a int);\n"
    + _trigger_function("in_rollback")
    + "create trigger t after insert on s.w_rollback for each row execute function"
    " s.t_in_rollback();\n"
    + _hidden("cte_call")
    + "create view s.v_kept as select oid, relowner from pg_catalog.pg_class;\n"
)

DROPPED_BACK = (
    _trigger_function("dropped_after")
    + "create trigger t after insert on s.w_dropped for each row execute function"
    " s.t_dropped_after();\n"
)

MIGRATIONS = [
    ("row_trigger", "insert into s.w_row values (1);", NOTHING),
    ("statement_trigger", "update s.w_statement set a = a;", NOTHING),
    (
        "trigger_in_forward",
        "create trigger t after insert on s.w_forward for each row execute function"
        " s.t_trigger_in_forward();\ninsert into s.w_forward values (1);",
        "drop trigger t on s.w_forward;",
    ),
    ("default", "insert into s.w_default (a) values (1);", NOTHING),
    ("check", "insert into s.w_check values (1);", NOTHING),
    ("index_expression", "insert into s.w_index values (1);", NOTHING),
    ("generated", "insert into s.w_generated (a) values (1);", NOTHING),
    ("view", "select * from s.v_view;", NOTHING),
    ("operator", "select 1 operator(s.###) 2;", NOTHING),
    ("rule_calls", "insert into s.w_rule values (1);", NOTHING),
    (
        "dropped_after",
        "insert into s.w_dropped values (1);\ndrop trigger t on s.w_dropped;\n"
        "drop function s.t_dropped_after();",
        DROPPED_BACK,
    ),
    ("in_rollback", "create table s.x (a int);", "insert into s.w_rollback values (1);\n"
     "drop table s.x;"),
    ("cte_call", "with c as (select s.h_cte_call()) select * from c;", NOTHING),
    (
        "kept_catalog_view",
        "update s.v_kept set relowner = 10 where oid = 's.o_kept_catalog_view'::regclass;\n"
        "drop view s.v_kept;",
        "create view s.v_kept as select oid, relowner from pg_catalog.pg_class;",
    ),
    # What stays once created, last: a rule, a view, an event trigger (the rollback drops it).
    (
        "rule_writes",
        "create rule r as on insert to s.w_rule2 do also update pg_catalog.pg_class"
        " set relowner = 10 where oid = 's.o_rule_writes'::regclass;\n"
        "insert into s.w_rule2 values (1);",
        "drop rule r on s.w_rule2;",
    ),
    (
        "catalog_view",
        "create view s.v_class as select oid, relowner from pg_catalog.pg_class;\n"
        "update s.v_class set relowner = 10 where oid = 's.o_catalog_view'::regclass;",
        "drop view s.v_class;",
    ),
    (
        "event_trigger",
        "create event trigger mr_hid_event on ddl_command_end execute function s.e_event();\n"
        "create table s.fire (a int);",
        "drop table s.fire;\ndrop event trigger mr_hid_event;",
    ),
]  # fmt: skip


# What each case's note must name (its own cause, not one a case before it left behind).
CAUSES = {
    "row_trigger": "t_row_trigger()",
    "statement_trigger": "t_statement_trigger()",
    "trigger_in_forward": "t_trigger_in_forward()",
    "default": "h_default()",
    "check": "h_check()",
    "index_expression": "h_index_expression()",
    "generated": "h_generated()",
    "view": "h_view()",
    "operator": "h_operator()",
    "rule_calls": "h_rule_calls()",
    "dropped_after": "dropped function",
    "in_rollback": "t_in_rollback()",
    "cte_call": "h_cte_call()",
    "kept_catalog_view": "(dropped) to a system catalog",
    "rule_writes": "a rule writing pg_class",
    "catalog_view": "through view v_class",  # created, written through, dropped
    "event_trigger": "e_event()",
}


def test_code_run_unseen_asks_for_the_full_comparison(tmp_path: Path, shadow_url: str) -> None:
    """Every case changes an owner the rollback leaves changed: mismatch, scoped as full,
    each for its own cause."""
    verdicts = assert_scoped_is_full(tmp_path, shadow_url, MIGRATIONS, base=UNSEEN_BASE)
    assert verdicts == ["verified", *["mismatch"] * len(MIGRATIONS)]
    pairs = write_project(tmp_path / "again", [("base", UNSEEN_BASE, None), *MIGRATIONS])
    results = run_verification(pairs, shadow_url).results[1:]
    for (name, _, _), result in zip(MIGRATIONS, results, strict=True):
        full = [n for n in result.notes if n.startswith("compared full snapshots")]
        assert full, (name, result.notes)
        assert CAUSES[name] in full[0], (name, result.notes)


def test_code_that_runs_nothing_hidden_keeps_the_scoped_check(
    tmp_path: Path, shadow_url: str
) -> None:
    """Triggers, defaults and event triggers whose code runs nothing hidden: checked in scope
    (the common case stays fast), a trigger that ran in one migration does not make the next
    one full, and a right rollback is verified."""
    base = (
        BASE
        + "create table s.audit (a int);\n"
        + "create function s.log() returns trigger language plpgsql as $$ begin"
        " insert into s.audit values (new.a); return new; end $$;\n"
        + "create table s.t (a int, b int default pg_catalog.random()::int);\n"
        + "create trigger t before insert on s.t for each row execute function s.log();\n"
    )
    pairs = write_project(
        tmp_path,
        [
            ("base", base, "drop schema s cascade;\n"),
            (
                "fires",
                "insert into s.t (a) values (1);\nalter table s.t add column c int;\n",
                "alter table s.t drop column c;\n",
            ),
            ("next", "create table s.u (a int);\n", "drop table s.u;\n"),
        ],
    )
    run = run_verification(pairs, shadow_url)
    assert statuses(run.results) == ["verified"] * 3, explain(run.results)
    for result in run.results[1:]:
        assert "compared full snapshots" not in result.report(), result.report()
