"""Which tables a DO block's code writes rows into (pure: PostgreSQL's PL/pgSQL parser)."""

from __future__ import annotations

import pytest

from migration_rollback.sql.plpgsql_writes import Write, rows_written, tables_written


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("begin insert into public.roles (name) values ('a'); end", [("public", "roles")]),
        (  # nested in a loop and an IF; a reading FOR query is not a write
            "declare r record; begin for r in select * from public.old loop "
            "if r.v is not null then update roles set name = r.v where id = r.id; end if; "
            "end loop; end",
            [("roles",)],
        ),
        (
            "begin with gone as (delete from a.t returning id) insert into a.log select id "
            "from gone; truncate b.u, b.w; end",
            [("a", "log"), ("a", "t"), ("b", "u"), ("b", "w")],
        ),
        ("begin perform pg_notify('x', 'y'); raise notice 'hi'; end", []),
        ("begin execute format('create table %I (id int)', 'x'); end", []),
    ],
)
def test_targets_as_written(body: str, expected: list[tuple[str, ...]]) -> None:
    found = tables_written(body)
    assert found is not None
    assert sorted(found) == sorted(expected)


@pytest.mark.parametrize(
    ("body", "language"),
    [
        ("begin execute 'delete from ' || tbl; end", "plpgsql"),  # dynamic write: unknown
        ("begin call app.refill(); end", "plpgsql"),  # a procedure may write anything
        ("begin insert into t values (1) end", "plpgsql"),  # does not parse
        ("plv8.execute('insert into t values (1)')", "plv8"),  # another language
    ],
)
def test_unknown_is_none(body: str, language: str) -> None:
    assert tables_written(body, language) is None


def test_a_body_holding_the_dollar_tag_still_parses() -> None:
    assert tables_written("begin insert into t (s) values ('$mr$'); end") == [("t",)]


def test_updates_name_the_columns_they_set() -> None:
    body = (
        "begin update public.t set (a, b) = (1, 2), c[1] = 3 where true; "
        "delete from public.t where a is null; end"
    )
    assert set(rows_written(body) or ()) == {
        Write(("public", "t"), ("a", "b", "c")),
        Write(("public", "t")),
    }
