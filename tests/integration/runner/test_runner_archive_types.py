"""`execute` archives a dropped table whose columns use a type the same rollback drops.

The archived table would keep depending on the enum (domain, composite), so `DROP TYPE` failed
at execute time ("cannot drop type order_status because other objects depend on it") although
the rollback ran fine verbatim. The archive keeps such columns as text, the type recorded in
the column's comment, and the rollback succeeds.
"""

from __future__ import annotations

import pytest
from runner_support import Project

pytestmark = pytest.mark.integration

NAME = "20251201000001_orders"
FORWARD = """
create type public.order_status as enum ('pending', 'paid', 'shipped');
create domain public.money_cents as bigint check (value >= 0);
create type public.address as (street text, city text);
create table public.orders (
  id bigint primary key,
  status public.order_status not null default 'pending',
  history public.order_status[] not null default '{}',
  amount public.money_cents,
  ship_to public.address,
  constraint orders_not_shipped_check check (status <> 'shipped')
);
create index orders_paid_idx on public.orders (id) where status = 'paid';
insert into public.orders values
  (1, 'pending', '{pending}', 100, row('Main St 1', 'Springfield')),
  (2, 'paid', '{pending,paid}', 250, null);
"""
ROLLBACK = """
DROP TABLE IF EXISTS public.orders;
DROP TYPE IF EXISTS public.address;
DROP DOMAIN IF EXISTS public.money_cents;
DROP TYPE IF EXISTS public.order_status;
"""


def test_archived_columns_do_not_hold_the_types_the_rollback_drops(project: Project) -> None:
    project.add(NAME, FORWARD, ROLLBACK)

    run = project.execute(NAME, "--allow-data-loss")

    assert run.returncode == 0, run.everything()
    assert run.result is not None
    assert run.result["outcome"] == "succeeded"
    assert project.value("SELECT to_regtype('public.order_status')") is None
    assert project.value("SELECT to_regtype('public.money_cents')") is None
    archive = next(a["archive"] for a in run.result["archived"] if a["kind"] == "table")
    rows = project.sql(f"SELECT id, status, history, amount, ship_to FROM {archive} ORDER BY id")
    assert rows == [
        (1, "pending", "{pending}", "100", '("Main St 1",Springfield)'),
        (2, "paid", "{pending,paid}", "250", None),
    ]
    comment = project.value(
        "SELECT col_description(%s::regclass, attnum) FROM pg_attribute "
        "WHERE attrelid = %s::regclass AND attname = 'status'",
        [archive, archive],
    )
    assert "public.order_status (enum: 'pending', 'paid', 'shipped')" in comment
    domain = project.value(
        "SELECT col_description(%s::regclass, attnum) FROM pg_attribute "
        "WHERE attrelid = %s::regclass AND attname = 'amount'",
        [archive, archive],
    )
    assert "domain over bigint" in domain


FUNCTIONS_NAME = "20251201000002_invites"
FUNCTIONS_FORWARD = """
create function public.short_code(n bigint) returns text language sql immutable
  as $$ select 'c' || n::text $$;
create type public.invite_state as enum ('open', 'used');
create domain public.cents as bigint;
create table public.invites (
  id bigint primary key,
  state public.invite_state not null default 'open',
  code text generated always as (public.short_code(id)) stored,
  amount public.cents,
  doubled bigint generated always as (amount * 2) stored,
  n bigint check (public.short_code(n) <> '')
);
create index invites_code_idx on public.invites (public.short_code(n));
insert into public.invites (id, state, amount, n) values (7, 'used', 5, 1);
"""
FUNCTIONS_ROLLBACK = """
DROP TABLE IF EXISTS public.invites;
DROP TYPE IF EXISTS public.invite_state;
DROP DOMAIN IF EXISTS public.cents;
DROP FUNCTION IF EXISTS public.short_code(bigint);
"""


def test_archived_tables_do_not_hold_the_functions_the_rollback_drops(project: Project) -> None:
    """Generated columns, CHECKs and indexes over a function kept the function (and the
    columns' types) alive in the archive: DROP FUNCTION failed at execute time."""
    project.add(FUNCTIONS_NAME, FUNCTIONS_FORWARD, FUNCTIONS_ROLLBACK)

    run = project.execute(FUNCTIONS_NAME, "--allow-data-loss")

    assert run.returncode == 0, run.everything()
    assert run.result is not None
    assert run.result["outcome"] == "succeeded"
    assert project.value("SELECT to_regprocedure('public.short_code(bigint)')") is None
    archive = next(a["archive"] for a in run.result["archived"] if a["kind"] == "table")
    assert project.sql(f"SELECT id, state, code, amount, doubled FROM {archive}") == [
        (7, "used", "c7", "5", 10)
    ]
    generated = project.value(
        "SELECT count(*) FROM pg_attribute WHERE attrelid = %s::regclass AND attgenerated <> ''",
        [archive],
    )
    assert generated == 0
