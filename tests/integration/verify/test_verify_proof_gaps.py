"""Three gaps in the verifier's proof, each a family, against the full comparison on a real
PostgreSQL (session eleven):

1. statements no event trigger reports (owners and role names changed by REASSIGN OWNED, ALTER
   ROLE ... RENAME; privileges revoked by DROP OWNED; catalog rows written directly), run where
   no top-level statement shows them: in a DO block, in a function or procedure the migration
   calls. The scoped check must ask for the full comparison, or a wrong rollback is verified;
2. a session whose search_path puts a type or domain named like a built-in (text, name, oid)
   before pg_catalog: the verifier's reads are immune to it (a false mismatch or a failure);
3. a rollback that drops a composite type's attribute is not a table column's drop for the
   runner (its archive of the column's values failed the rollback).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_verify_scoped_parity import BASE, NOTHING, assert_scoped_is_full
from verify_support import explain, statuses, write_project

from migration_rollback.verify import run_verification

pytestmark = pytest.mark.integration

# A procedure and functions run by the migrations below; each runs its statement as the
# migration would: dynamically, or as a plain statement in PL/pgSQL or SQL.
CODE = """
create procedure s.hand_over(who text) language plpgsql as $$
begin execute format('reassign owned by %I to postgres', who); end $$;
create function s.give_up() returns void language sql as $$
  reassign owned by mr_parity_owner to postgres $$;
create function s.outer_call() returns void language plpgsql as $$
begin perform s.give_up(); end $$;
create function s.strip() returns void language plpgsql as $$
begin drop owned by mr_parity_grantee; end $$;
"""

HIDDEN_BASE = (
    BASE
    + "do $$ begin create role mr_parity_grantee; exception when duplicate_object then null;"
    + " end $$;\n"
    + "grant select on s.owned to mr_parity_grantee;\n"
    + "create table s.owned2 (a int);\nalter table s.owned2 owner to mr_parity_owner;\n"
    + "create table s.owned3 (a int);\nalter table s.owned3 owner to mr_parity_owner;\n"
    + "create table s.owned4 (a int);\nalter table s.owned4 owner to mr_parity_owner;\n"
    + CODE
)


def test_unreported_statements_run_in_code_ask_for_the_full_comparison(
    tmp_path: Path, shadow_url: str
) -> None:
    """Each forward changes what a snapshot holds where the event triggers see nothing, and
    its rollback does nothing: a mismatch, scoped as full (each was verified)."""
    verdicts = assert_scoped_is_full(
        tmp_path,
        shadow_url,
        [
            (
                "in_do_block",
                "do $$ begin reassign owned by mr_parity_owner to postgres; end $$;",
                NOTHING,
            ),
            ("owner_again", "alter table s.owned owner to mr_parity_owner;", NOTHING),
            ("called_procedure", "call s.hand_over('mr_parity_owner');", NOTHING),
            ("owner_back", "alter table s.owned owner to mr_parity_owner;", NOTHING),
            ("called_function", "select s.outer_call();", NOTHING),
            ("top_drop_owned", "drop owned by mr_parity_grantee;", NOTHING),
            ("grant_again", "grant select on s.owned to mr_parity_grantee;", NOTHING),
            ("drop_owned_in_code", "select s.strip();", NOTHING),
            (
                "catalog_write",
                "update pg_catalog.pg_class set relhasindex = relhasindex"
                " where false; do $$ begin execute 'comment on table s.owned2 is null'; end $$;",
                NOTHING,
            ),
            (
                "catalog_row",
                "do $$ begin execute 'update pg_catalog.pg_proc set procost = 7 "
                "where oid = ''s.give_up()''::regprocedure'; end $$;",
                NOTHING,
            ),
            (
                "undone_in_code",
                "do $$ begin execute 'alter table s.owned3 owner to mr_parity_owner'; end $$;",
                "do $$ begin execute 'alter table s.owned3 owner to postgres'; end $$;",
            ),
        ],
        base=HIDDEN_BASE,
    )
    assert verdicts == [
        "verified",
        "mismatch",
        "mismatch",
        "mismatch",
        "mismatch",
        "mismatch",
        "mismatch",
        "mismatch",
        "mismatch",
        "verified",
        "mismatch",
        "verified",
    ]


def test_plain_code_keeps_the_scoped_check(tmp_path: Path, shadow_url: str) -> None:
    """A DO block or a call whose code runs nothing hidden is checked in scope (the cost of an
    ordinary migration stays what it was)."""
    pairs = write_project(
        tmp_path,
        [
            ("base", HIDDEN_BASE, "drop schema s cascade;\n"),
            (
                "plain",
                "create function s.one() returns int language sql as 'select 1';\n"
                "do $$ begin perform s.one(); create table s.t (a int); end $$;\n"
                "select s.one();\n",
                "drop table s.t;\ndrop function s.one();\n",
            ),
        ],
    )
    run = run_verification(pairs, shadow_url)
    assert statuses(run.results) == ["verified", "verified"], explain(run.results)
    assert "compared full snapshots" not in run.results[1].report(), run.results[1].report()


SHADOWING = """
create domain s.text as pg_catalog.int4;
"""


def test_a_search_path_with_types_named_like_built_ins_is_not_the_verifiers(
    tmp_path: Path, shadow_url: str
) -> None:
    """The rollback puts a schema with a domain named text (over int4) before
    pg_catalog (a SET, a SET LOCAL, a set_config); the verifier's reads (and the runner's),
    in the same session after it, mean pg_catalog's: verified, and a wrong one a mismatch,
    scoped as full."""
    verdicts = assert_scoped_is_full(
        tmp_path,
        shadow_url,
        [
            (
                "set",
                "create table s.t1 (a pg_catalog.int4 default 1);\n"
                "alter table s.owned add column b pg_catalog.int4;\n",
                "set search_path = s, pg_catalog;\ndrop table s.t1;\n"
                "alter table s.owned drop column b;\n",
            ),
            (
                "set_local",
                "create function s.f1() returns pg_catalog.int4 language sql as 'select 1';\n",
                "set local search_path = s, pg_catalog, public;\ndrop function s.f1();\n",
            ),
            (
                "set_config",
                "create view s.v1 as select 1 as one;\n",
                "select pg_catalog.set_config('search_path', 's, pg_catalog', false);\n"
                "drop view s.v1;\n",
            ),
            (
                "wrong",
                "create table s.t2 (a pg_catalog.int4);\n",
                "set search_path = s, pg_catalog;\n",
            ),
        ],
        base=BASE + SHADOWING,
    )
    assert verdicts == ["verified", "verified", "verified", "verified", "mismatch"]


def test_a_rollback_drops_a_composite_types_attribute(tmp_path: Path, shadow_url: str) -> None:
    """ALTER TYPE ... DROP ATTRIBUTE is no table column's drop: verified (it failed, the
    runner archiving a column of a table that is no table), also with a table column of that
    type; a wrong one a mismatch."""
    verdicts = assert_scoped_is_full(
        tmp_path,
        shadow_url,
        [
            (
                "added",
                "alter type s.comp add attribute y int;\n",
                "alter type s.comp drop attribute y;\n",
            ),
            (
                "used",
                "create table s.uses (c s.comp2);\nalter type s.comp2 add attribute z text;\n",
                "alter type s.comp2 drop attribute if exists z cascade;\ndrop table s.uses;\n",
            ),
            (
                "wrong",
                "alter type s.comp3 add attribute y int, add attribute z int;\n",
                "alter type s.comp3 drop attribute z;\n",
            ),
        ],
    )
    assert verdicts == ["verified", "verified", "verified", "mismatch"]
