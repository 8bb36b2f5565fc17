"""Which migrations may change a stand-in's members (and so need its member state read): only
DDL that names what it changes, with no word of a member's name, may skip the reads."""

from __future__ import annotations

import pytest

from migration_rollback.sql import parse_script
from migration_rollback.verify.standins.reach import may_change_members

MEMBER_WORDS = frozenset({"vault", "secrets", "decrypted_secrets", "supabase_vault", "extensions"})

CLEARED = [
    "create table public.notes (id bigint primary key, at timestamptz default now());",
    "alter table public.notes add column body text not null default '';",
    "create index notes_at on public.notes (at desc) where body <> '';",
    "create policy p on public.notes for select using (auth.uid() is not null);",
    "create view public.v as select id from public.notes;",
    "create function public.f() returns int language sql as 'select 1';",
    "grant select on public.notes to authenticated;",
    "drop table public.notes;",
    "comment on table public.notes is 'x'; alter table public.notes rename to memos;",
]

REACHING = {
    "a member's schema named": "grant select on vault.secrets to anon;",
    "a member named bare": "alter table secrets enable row level security;",
    "a DO block": "do $$ begin execute 'grant select on va' || 'ult.s to anon'; end $$;",
    "a function call": "select public.setup();",
    "DML (triggers)": "insert into public.notes values (1);",
    "search_path": "set search_path = somewhere;",
    "an extension command": "create extension pgjwt;",
    "a cascade": "drop table public.notes cascade;",
    "a cascade in ALTER TABLE": "alter table public.notes drop column body cascade;",
    "a role renamed": "alter role app rename to app2;",
    "a whole schema granted": "grant select on all tables in schema public to anon;",
    "default privileges": "alter default privileges grant select on tables to anon;",
    "a schema with statements": "create schema s create table t (id int);",
    "an unknown call over rows": "alter table public.notes add column n int default public.f();",
    "an index expression call": "create index on public.notes (public.f(id));",
    "an owned-by command": "reassign owned by app to postgres;",
}


@pytest.mark.parametrize("sql", CLEARED)
def test_ddl_that_names_only_its_own_objects_is_cleared(sql: str) -> None:
    assert not may_change_members(parse_script(sql).statements, MEMBER_WORDS)


@pytest.mark.parametrize("sql", REACHING.values(), ids=REACHING.keys())
def test_anything_else_may_reach_a_member(sql: str) -> None:
    assert may_change_members(parse_script(sql).statements, MEMBER_WORDS)


def test_without_members_only_the_kind_decides() -> None:
    named = parse_script("grant select on vault.secrets to x;").statements
    assert not may_change_members(named, ())
    assert may_change_members(parse_script("do $$ begin end $$;").statements, ())


# pgsodium's `key` table, pgjwt's `sign`, `verify`: words SQL also spells as keywords.
KEYWORD_MEMBERS = frozenset({"key", "sign", "verify", "exception", "valid"})


@pytest.mark.parametrize(
    "sql",
    [
        "create table public.t (id int primary key, k int references public.u (id));",
        "create table public.e (id int, unique (id), constraint c foreign key (id) "
        "references public.u (id) on delete cascade);",
        "alter table public.t add constraint c check (id > 0) not valid;",
        "alter table public.t validate constraint c;",
    ],
)
def test_a_keyword_is_no_members_name(sql: str) -> None:
    assert not may_change_members(parse_script(sql).statements, KEYWORD_MEMBERS)


@pytest.mark.parametrize(
    "sql",
    [
        "alter table key add column x int;",  # the member named bare, as an identifier
        'create index on public.t ("key");',
        "create view public.v as select public.sign(1);",
        "create policy p on public.t using (x = 'key');",  # a literal: it may be run as SQL
        "create function public.f() returns int language plpgsql as $$ begin return 1; "
        "exception when others then return 0; end $$;",  # a code body's words count
        "comment on column public.t.key is 'x';",
    ],
)
def test_a_name_literal_or_body_holding_a_members_word_reaches(sql: str) -> None:
    assert may_change_members(parse_script(sql).statements, KEYWORD_MEMBERS)
