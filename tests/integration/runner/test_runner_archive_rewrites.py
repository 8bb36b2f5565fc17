"""An archived table whose columns of several types the rollback drops is rewritten once.

Each column of a non-built-in type is kept as text (archive_inert.py); an ALTER TABLE per
column rewrote the table once per column (each rewrite: a new heap, TOAST table and index
files), the costliest statement of a rollback that drops such tables (and of its verification,
which runs the same path). One ALTER TABLE with a subcommand per column rewrites it once; the
values read back as before.
"""

from __future__ import annotations

import pytest
from runner_support import Project

pytestmark = pytest.mark.integration

NAME = "20251201000001_tickets"
FORWARD = """
create type public.ticket_state as enum ('open', 'closed');
create type public.ticket_size as enum ('s', 'm', 'l');
create domain public.points as int;
create table public.tickets (
  id bigint primary key,
  state public.ticket_state not null,
  size public.ticket_size,
  sizes public.ticket_size[],
  estimate public.points,
  title text
);
create index tickets_state_idx on public.tickets (id) where state = 'open';
insert into public.tickets values
  (1, 'open', 's', '{s,m}', 3, 'first'), (2, 'closed', null, null, null, 'second');
"""
ROLLBACK = """
DROP TABLE IF EXISTS public.tickets;
DROP DOMAIN IF EXISTS public.points;
DROP TYPE IF EXISTS public.ticket_size;
DROP TYPE IF EXISTS public.ticket_state;
"""
# Every rewrite of a table, as the server reports it (table_rewrite event trigger).
REWRITES = """
create schema rewrites;
create table rewrites.seen (table_oid oid);
create function rewrites.note() returns event_trigger language plpgsql as $$
begin
  insert into rewrites.seen values (pg_event_trigger_table_rewrite_oid());
end $$;
create event trigger rewrites_note on table_rewrite execute function rewrites.note();
"""


def test_columns_of_dropped_types_are_changed_in_one_rewrite(project: Project) -> None:
    project.add(NAME, FORWARD, ROLLBACK)
    project.sql(REWRITES)
    table_oid = project.value("SELECT 'public.tickets'::regclass::oid")

    run = project.execute(NAME, "--allow-data-loss")

    assert run.returncode == 0, run.everything()
    assert run.result is not None
    assert run.result["outcome"] == "succeeded"
    assert project.sql("SELECT table_oid FROM rewrites.seen") == [(table_oid,)]
    archive = next(a["archive"] for a in run.result["archived"] if a["kind"] == "table")
    assert project.sql(f"SELECT * FROM {archive} ORDER BY id") == [
        (1, "open", "s", "{s,m}", "3", "first"),
        (2, "closed", None, None, None, "second"),
    ]
    kept_as_text = project.sql(
        "SELECT attname, format_type(atttypid, atttypmod), col_description(attrelid, attnum) "
        "FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 ORDER BY attnum",
        [archive],
    )
    assert [row[:2] for row in kept_as_text] == [
        ("id", "bigint"),
        ("state", "text"),
        ("size", "text"),
        ("sizes", "text"),
        ("estimate", "text"),
        ("title", "text"),
    ]
    assert "public.ticket_state (enum: 'open', 'closed')" in kept_as_text[1][2]
    assert "public.ticket_size[] (enum: 's', 'm', 'l')" in kept_as_text[3][2]
    assert "domain over integer" in kept_as_text[4][2]
