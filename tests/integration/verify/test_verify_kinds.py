"""The object-kind registry's answers, proven on a real PostgreSQL: owners, renames then drops,
IF NOT EXISTS, COMMENT kinds and what a DROP costs, for relations and for the other kinds
on the same paths (materialized views, foreign tables, servers, aggregates, schemas).

Each migration is generated with `generate --verify`; each rollback must come out `verified`
with nothing left by hand, and say what the static rules now know.
"""

from __future__ import annotations

import re

import psycopg
import pytest
from verify_support import assert_verified, body_of, generate_replays

from migration_rollback.sql import (
    LockLevel,
    ObjectRef,
    build_history,
    classify,
    generate_rollback,
    parse_script,
)
from migration_rollback.verify import GeneratedRollback

pytestmark = pytest.mark.integration

BASE = r"""
create table public.docs (id int primary key, body text);
comment on table public.docs is 'documented';
create index docs_body_idx on public.docs (body);
create materialized view public.doc_counts as select count(*) as n from public.docs;
comment on materialized view public.doc_counts is 'counted';
create index doc_counts_n_idx on public.doc_counts (n);
create foreign data wrapper kinds_fdw;
create server kinds_server foreign data wrapper kinds_fdw;
comment on server kinds_server is 'remote';
create foreign table public.remote_docs (id int) server kinds_server;
create foreign table public.remote_notes (id int) server kinds_server;
create schema if not exists kinds_extra;
create sequence public.kinds_seq;
create aggregate public.total_of(int) (sfunc = int4pl, stype = int, initcond = '0');
create aggregate public.mean_of(float8) (
  sfunc = float8_accum, stype = float8[], finalfunc = float8_avg, combinefunc = float8_combine,
  initcond = '{0,0,0}', parallel = safe
);
create aggregate public.most_of(int) (sfunc = int4larger, stype = int, sortop = >);
create foreign table public.remote_opts (
  id int options (column_name 'ident') not null, v text check (v <> '')
) server kinds_server options (schema_name 'far', table_name 'opts');
comment on foreign table public.remote_opts is 'remote, with options';
create view public.doc_view as select id from public.docs;
create table public.notes (id int primary key);
create trigger notes_touch before update on public.notes
  for each row execute function suppress_redundant_updates_trigger();
"""

MIGRATIONS = [
    # 1. an index has no owner of its own; the other relations give theirs back
    (
        "owners",
        "alter index public.docs_body_idx owner to anon;\n"
        "alter materialized view public.doc_counts owner to anon;\n"
        "alter foreign table public.remote_docs owner to anon;\n"
        "alter sequence public.kinds_seq owner to anon;\n",
    ),
    # 2. renamed, then dropped: recreated from what it was before the rename
    (
        "renamed_then_dropped",
        "alter index public.docs_body_idx rename to docs_body_idx_old;\n"
        "drop index public.docs_body_idx_old;\n"
        "alter view public.doc_view rename to doc_view_old;\n"
        "alter view public.doc_view_old set schema kinds_extra;\n"
        "drop view kinds_extra.doc_view_old;\n",
    ),
    # 3. IF NOT EXISTS of what was there changes nothing, whatever the kind
    (
        "if_not_exists",
        "create schema if not exists kinds_extra;\n"
        "create sequence if not exists public.kinds_seq;\n"
        "create index if not exists doc_counts_n_idx on public.doc_counts (n);\n"
        "create server if not exists kinds_server foreign data wrapper kinds_fdw;\n",
    ),
    # 4, 5. comments by the registry's kind; a new column leaves its table as old as it was
    (
        "comments",
        "alter table public.docs add column title text;\n"
        "comment on table public.docs is 'with titles';\n"
        "alter table public.docs owner to anon;\n"
        "comment on materialized view public.doc_counts is 'recounted';\n"
        "comment on server kinds_server is 'elsewhere';\n"
        "comment on trigger notes_touch on public.notes is 'touched';\n"
        "comment on schema kinds_extra is 'extras';\n",
    ),
    # 6. a schema dropped without CASCADE was empty: recreated, no data involved
    ("drops", "drop schema kinds_extra;\n"),
    # 7. foreign tables and aggregates, recreated by the state-aware writer from the shadow
    (
        "drops_elsewhere",
        "alter foreign table public.remote_notes rename to remote_notes_old;\n"
        "drop foreign table public.remote_notes_old;\n"
        "drop foreign table public.remote_docs;\n"
        "drop foreign table public.remote_opts;\n"
        "drop aggregate public.total_of(int);\n"
        "drop aggregate public.mean_of(float8);\n"
        "drop aggregate public.most_of(int);\n",
    ),
    # 8, 9. a privilege granted with its grant option, then the option alone revoked: each
    # undo puts back exactly what was there (the privilege stays in 9's)
    ("granted_with_option", "grant select on public.notes to anon with grant option;\n"),
    ("grant_option_revoked", "revoke grant option for select on public.notes from anon;\n"),
]
DROPS_ELSEWHERE = MIGRATIONS[-3][1]


@pytest.fixture(scope="module")
def generated(
    tmp_path_factory: pytest.TempPathFactory, pg_server: object
) -> dict[str, GeneratedRollback]:
    root = tmp_path_factory.mktemp("kinds")
    return generate_replays(root, BASE, MIGRATIONS, str(pg_server.admin_url))  # type: ignore[attr-defined]


@pytest.mark.parametrize("case", [name for name, _ in MIGRATIONS])
def test_rollback_is_verified(generated: dict[str, GeneratedRollback], case: str) -> None:
    assert_verified(generated[case])


def test_what_the_rollbacks_say(generated: dict[str, GeneratedRollback]) -> None:
    owners = body_of(generated, "owners")
    assert "docs_body_idx OWNER TO" not in owners
    assert "doc_counts OWNER TO" in owners
    assert "remote_docs OWNER TO" in owners
    # IF NOT EXISTS of existing objects: nothing is dropped
    assert "DROP " not in body_of(generated, "if_not_exists")
    comments = body_of(generated, "comments")
    assert "COMMENT ON TABLE public.docs IS 'documented'" in comments
    assert "COMMENT ON MATERIALIZED VIEW public.doc_counts IS 'counted'" in comments
    assert "COMMENT ON SERVER kinds_server IS 'remote'" in comments
    assert "COMMENT ON TRIGGER notes_touch ON public.notes IS NULL" in comments
    assert "COMMENT ON SCHEMA kinds_extra IS NULL" in comments
    assert "CREATE SCHEMA IF NOT EXISTS kinds_extra" in body_of(generated, "drops")
    elsewhere = body_of(generated, "drops_elsewhere")
    assert "CREATE FOREIGN TABLE public.remote_notes_old" in elsewhere
    assert "OPTIONS (schema_name 'far', table_name 'opts')" in elsewhere
    assert "CREATE OR REPLACE AGGREGATE public.mean_of" in elsewhere
    assert "SORTOP = OPERATOR(pg_catalog.>)" in elsewhere
    assert "ADD COLUMN" not in elsewhere  # the renamed foreign table came back with its columns
    assert "id integer OPTIONS (column_name 'ident') NOT NULL" in elsewhere


def test_static_rules_know_without_the_shadow() -> None:
    """The same answers from the migrations' SQL alone (no MANUAL item where the SQL tells)."""
    history = build_history([parse_script(BASE, "base.sql")])
    comments = generate_rollback(parse_script(MIGRATIONS[3][1], "c.sql"), "c", history)
    assert [item.need for _, item in comments.manual_items] == ["PRIOR_OWNER"]
    renamed = generate_rollback(parse_script(MIGRATIONS[1][1], "r.sql"), "r", history)
    was = [item.was.name for _, item in renamed.manual_items if item.was is not None]
    assert was == ["doc_view", "docs_body_idx"]
    drops = generate_rollback(parse_script(DROPS_ELSEWHERE, "d.sql"), "d", history)
    [remote_docs] = [s for s in drops.steps if s.sql and "remote_docs" in s.sql]
    assert remote_docs.sql is not None
    assert remote_docs.sql.startswith("create foreign table")
    assert [(str(i.need), i.was) for _, i in drops.manual_items] == [
        ("RECREATE_DROPPED", None),  # the aggregates: no CREATE AGGREGATE is followed
        ("RECREATE_DROPPED", None),
        ("RECREATE_DROPPED", None),
        ("RECREATE_DROPPED", ObjectRef("foreign table", "remote_notes", "public")),
    ]


_FOREIGN_TABLES = """
select c.relname, s.srvname, pg_catalog.format_type(a.atttypid, a.atttypmod)
from pg_catalog.pg_foreign_table f
join pg_catalog.pg_class c on c.oid = f.ftrelid
join pg_catalog.pg_foreign_server s on s.oid = f.ftserver
join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attnum > 0
order by 1, 3
"""


def test_dropping_a_foreign_table_loses_no_data_and_its_text_brings_it_back(
    database_url: str,
) -> None:
    """What `execute` would run: the DROP is not gated as data loss (its rows live on the
    server), and the static recreation gives back the same foreign table."""
    history = build_history([parse_script(BASE, "base.sql")])
    forward = "drop foreign table public.remote_docs;\n"
    plan = generate_rollback(parse_script(forward, "d.sql"), "d", history)
    [step] = plan.sql_steps
    drop = classify(parse_script(forward).statements[0])
    assert not drop.destroys_data
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(BASE)
        before = conn.execute(_FOREIGN_TABLES).fetchall()
        conn.execute(forward)
        assert conn.execute(_FOREIGN_TABLES).fetchall() != before
        conn.execute(step.sql or "")
        assert conn.execute(_FOREIGN_TABLES).fetchall() == before


# A dropped relation's pg_class row is gone already: user objects are told by their oid
# (catalogs are below FirstNormalObjectId).
_TABLE_LOCKS = """
select distinct l.mode from pg_catalog.pg_locks l
where l.pid = pg_catalog.pg_backend_pid() and l.locktype = 'relation'
  and l.relation::pg_catalog.int8 >= 16384
"""


def _level(mode: str) -> LockLevel:
    """`AccessExclusiveLock` -> ACCESS_EXCLUSIVE."""
    words = re.findall("[A-Z][a-z]+", mode.removesuffix("Lock"))
    return LockLevel["_".join(w.upper() for w in words)]


@pytest.mark.parametrize(
    "drop",
    [
        "drop aggregate public.total_of(int)",
        "drop function public.touch()",
        "drop schema kinds_extra",
        "drop server lonely_server",
        "drop foreign data wrapper lonely_fdw",
        "drop foreign table public.remote_docs",
        "drop table public.notes",
        "drop trigger notes_touch on public.notes",
        "drop index public.docs_body_idx",
        "drop view public.doc_view",
        "drop sequence public.kinds_seq",
    ],
)
def test_the_lock_a_drop_is_classed_with_is_the_one_postgresql_takes(
    database_url: str, drop: str
) -> None:
    """The table locks the backend holds after the DROP, inside its transaction."""
    extra = (
        "create function public.touch() returns int language sql as 'select 1';\n"
        "create foreign data wrapper lonely_fdw;\n"
        "create server lonely_server foreign data wrapper kinds_fdw;\n"
    )
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(BASE + extra)
    with psycopg.connect(database_url) as conn:
        conn.execute(drop)
        held = [_level(str(mode)) for (mode,) in conn.execute(_TABLE_LOCKS).fetchall()]
        conn.rollback()
    strongest = max(held, default=LockLevel.NONE)
    assert strongest == classify(parse_script(drop).statements[0]).lock


def test_revoking_a_grant_option_is_undone_by_the_rule_alone(
    generated: dict[str, GeneratedRollback],
) -> None:
    # The rule's own GRANT ... WITH GRANT OPTION restores it: no state-aware repair needed.
    rollback = generated["grant_option_revoked"]
    assert_verified(rollback)
    assert "GRANT SELECT ON TABLE public.notes TO anon WITH GRANT OPTION;" in rollback.sql_body
    assert "state-aware repair" not in rollback.sql_body
