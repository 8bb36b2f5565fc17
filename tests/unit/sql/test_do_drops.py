"""What a DO block's code shows it drops (sql/do_drops.py) and the MANUAL item of its undo."""

from __future__ import annotations

from migration_rollback.sql import build_history, generate_rollback, parse_script
from migration_rollback.sql.do_drops import (
    ANY_NAME,
    block_drops,
    block_statements,
    only_drops,
    templated_drops,
)

_BLOCK = """do $$ begin
  drop policy if exists p on public.t;
  if true then execute 'drop trigger if exists tg on public.t'; end if;
  execute format('drop policy %I on public.t', 'x');
  create policy p on public.t using (true);
  alter table public.t drop constraint c, drop column d;
  alter table public.t add column e int;
end $$;"""


def _block() -> tuple[object, object]:
    st = parse_script(_BLOCK, "m.sql").statements[0]
    return st.node, st


def test_written_and_constant_execute_statements_in_order() -> None:
    node, st = _block()
    texts = [inner.text for inner in block_statements(node, st)]
    assert texts == [
        "drop policy if exists p on public.t",
        "drop trigger if exists tg on public.t",
        "create policy p on public.t using (true)",
        "alter table public.t drop constraint c, drop column d",
        "alter table public.t add column e int",
    ]  # format(...) builds its text at run time: not read


def test_drops_are_drop_statements_and_alter_tables_that_only_drop() -> None:
    node, st = _block()
    kinds = [inner.kind for inner in block_drops(node, st)]
    assert kinds == ["DropStmt", "DropStmt", "AlterTableStmt"]


def test_other_languages_and_unparsed_code_show_nothing() -> None:
    for text in (
        "do language plpython3u $$ plpy.execute('drop table t') $$;",
        "do $$ begin drop policy p on t $$;",  # no END: does not parse
    ):
        st = parse_script(text, "m.sql").statements[0]
        assert block_statements(st.node, st) == []


def test_the_block_undo_names_what_it_drops_and_where_it_was_defined() -> None:
    history = build_history(
        [parse_script("create table public.t (id int);\n"
                      "create policy p on public.t using (true);", "earlier.sql")]
    )  # fmt: skip
    plan = generate_rollback(parse_script(_BLOCK, "m.sql"), "m", history)
    [(_, item)] = plan.manual_items
    assert str(item.need) == "DYNAMIC"
    assert "policy public.p on t (defined by earlier.sql:2:1)" in item.reason
    assert "trigger public.tg on t;" in item.reason
    assert "alter table public.t drop constraint c" in item.reason


def _only(text: str) -> bool:
    st = parse_script(text, "m.sql").statements[0]
    return only_drops(st.node)


def test_a_block_only_drops_when_nothing_else_runs_or_writes() -> None:
    assert _only(
        "do $$ begin if exists (select 1 from pg_policies where policyname = 'p') then "
        "execute 'drop policy p on public.t'; end if; drop policy if exists q on public.t; "
        "raise notice 'done %', now(); exception when others then null; end $$;"
    )
    for text in (
        _BLOCK,  # creates and alters too
        "do $$ begin if public.cleanup() then drop policy p on t; end if; end $$;",  # may write
        "do $$ begin execute format('drop policy %I on t', 'p'); end $$;",  # built at run time
        "do $$ begin drop policy p on t; insert into t values (1); end $$;",
        "do $$ declare n int; begin n := 1; drop policy p on t; end $$;",  # an assignment
    ):
        assert not _only(text), text


def test_a_block_that_only_drops_known_policies_is_undone_by_making_them_again() -> None:
    history = build_history(
        [parse_script("create table public.t (id int);\n"
                      "create policy p on public.t using (true);", "earlier.sql")]
    )  # fmt: skip
    block = (
        "do $$ begin execute 'drop policy if exists p on public.t'; "
        "exception when others then null; end $$;"
    )
    plan = generate_rollback(parse_script(block, "m.sql"), "m", history)
    assert [step.sql for step in plan.sql_steps] == [
        "DROP POLICY IF EXISTS p ON public.t",
        "create policy p on public.t using (true)",
    ]
    assert not plan.manual_items


def test_a_drop_built_by_format_is_read_from_its_template() -> None:
    block = (
        "do $$ declare r record; begin for r in select * from pg_policies loop "
        "execute format('DROP POLICY IF EXISTS %I ON %I.%I', r.policyname, r.schemaname, "
        "r.tablename); execute format('drop trigger %s on public.t', r.x); "
        "execute format('select %L', 1); end loop; end $$;"
    )
    st = parse_script(block, "m.sql").statements[0]
    texts = sorted(inner.text for inner in templated_drops(st.node, st))
    assert texts == [
        f"DROP POLICY IF EXISTS {ANY_NAME} ON {ANY_NAME}.{ANY_NAME}",
        f"drop trigger {ANY_NAME} on public.t",
    ]
