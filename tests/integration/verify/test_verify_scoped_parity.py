"""The scoped check against the full comparison: the same verdict for statements whose event
trigger report names another object than the one they change (a composite type's pg_class row
for its attributes, an extension for its members, a partitioned table for the partition it
detached), or nothing at all (REASSIGN OWNED), where a scope built from the report alone
missed the change and a wrong rollback came out verified."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from verify_support import statuses, write_project

from migration_rollback.verify import run_verification

pytestmark = pytest.mark.integration

NOTHING = "select 1;\n"

BASE = """
create schema s;
create type s.comp as (x int);
create type s.comp2 as (x int, y int);
create type s.comp3 as (x int);
create type s.comp4 as (x int, y int);
create extension citext schema s;
create function s.loose() returns int language sql as 'select 1';
create table s.par (id int) partition by range (id);
create table s.par1 partition of s.par for values from (0) to (10);
create table s.par2 partition of s.par for values from (10) to (20);
do $$ begin create role mr_parity_owner; exception when duplicate_object then null; end $$;
create table s.owned (a int);
alter table s.owned owner to mr_parity_owner;
"""


def assert_scoped_is_full(
    tmp_path: Path, shadow_url: str, cases: Sequence[tuple[str, str, str]], base: str = BASE
) -> list[str]:
    """Replay `base` then each (name, forward, rollback) with scoped checks and with full
    snapshots: the same verdicts and differences, per migration. Returns the verdicts."""
    pairs = write_project(tmp_path, [("base", base, "drop schema s cascade;\n"), *cases])
    scoped = run_verification(pairs, shadow_url).results
    full = run_verification(pairs, shadow_url, incremental=False).results
    for pair, s, f in zip(pairs, scoped, full, strict=True):
        assert (s.status, [d.to_json() for d in s.differences]) == (
            f.status,
            [d.to_json() for d in f.differences],
        ), f"{pair.name}: scoped\n{s.report()}\nfull\n{f.report()}"
    return statuses(full)


def test_composite_type_attributes_are_in_scope(tmp_path: Path, shadow_url: str) -> None:
    verdicts = assert_scoped_is_full(
        tmp_path,
        shadow_url,
        [
            ("add_attribute", "alter type s.comp add attribute y int;", NOTHING),
            ("rename_attribute", "alter type s.comp2 rename attribute y to z;", NOTHING),
            ("attribute_type", "alter type s.comp3 alter attribute x type bigint;", NOTHING),
            ("drop_attribute", "alter type s.comp4 drop attribute y;", NOTHING),
            (
                "undone",
                "alter type s.comp rename attribute x to x2;",
                "alter type s.comp rename attribute x2 to x;",
            ),
        ],
    )
    assert verdicts == ["verified", "mismatch", "mismatch", "mismatch", "mismatch", "verified"]


def test_extension_members_added_or_dropped_are_in_scope(tmp_path: Path, shadow_url: str) -> None:
    verdicts = assert_scoped_is_full(
        tmp_path,
        shadow_url,
        [
            ("drop_member", "alter extension citext drop function s.citext(boolean);", NOTHING),
            ("add_member", "alter extension citext add function s.loose();", NOTHING),
            (
                "undone",
                "alter extension citext drop function s.citext(inet);",
                "alter extension citext add function s.citext(inet);",
            ),
        ],
    )
    assert verdicts == ["verified", "mismatch", "mismatch", "verified"]


def test_a_detached_partition_is_in_scope(tmp_path: Path, shadow_url: str) -> None:
    verdicts = assert_scoped_is_full(
        tmp_path,
        shadow_url,
        [
            ("detached", "alter table s.par detach partition s.par2;", NOTHING),
            # attached by a migration kept: the model's refs learn its parent
            ("lone", "create table s.par3 (id int);", "drop table s.par3;"),
            (
                "attached",
                "alter table s.par attach partition s.par3 for values from (20) to (30);",
                "alter table s.par detach partition s.par3;",
            ),
            ("detached_after", "alter table s.par detach partition s.par3;", NOTHING),
            (
                "undone",
                "alter table s.par detach partition s.par1;",
                "alter table s.par attach partition s.par1 for values from (0) to (10);",
            ),
        ],
    )
    assert verdicts == ["verified", "mismatch", "verified", "verified", "mismatch", "verified"]


def test_reassign_owned_asks_for_the_full_comparison(tmp_path: Path, shadow_url: str) -> None:
    """No event trigger reports REASSIGN OWNED (nor ALTER ROLE ... RENAME, not replayed here:
    a role's name is the whole cluster's, and a wrong rollback would leave it renamed)."""
    verdicts = assert_scoped_is_full(
        tmp_path,
        shadow_url,
        [
            ("reassigned", "reassign owned by mr_parity_owner to postgres;", NOTHING),
            ("nothing_left", "reassign owned by mr_parity_owner to postgres;", NOTHING),
        ],
    )
    assert verdicts == ["verified", "mismatch", "verified"]


def test_the_checks_types_are_not_the_migrations(tmp_path: Path, shadow_url: str) -> None:
    """A migration's search_path holds a type named text: the check's arguments (text[]) are
    still pg_catalog's, and a GRANT's check runs (it failed: no such function)."""
    verdicts = assert_scoped_is_full(
        tmp_path,
        shadow_url,
        [
            (
                "granted",
                "set search_path = s, pg_catalog; grant select on s.owned to public;",
                NOTHING,
            ),
            (
                "undone",
                "set search_path = s, pg_catalog; grant update on s.owned to public;",
                "revoke update on s.owned from public;",
            ),
        ],
        base=BASE + "create type s.text as enum ('zz');\n",
    )
    assert verdicts == ["verified", "mismatch", "verified"]


def test_a_migration_that_drops_the_verifiers_helpers_is_told_so(
    tmp_path: Path, shadow_url: str
) -> None:
    """It fails closed, saying what it removed, and the migrations after it are still checked
    (a wrong rollback after it is a mismatch, scoped as full)."""
    pairs = write_project(
        tmp_path,
        [
            ("base", BASE, "drop schema s cascade;\n"),
            ("helpers", "drop schema _migration_rollback_verify cascade;\n", NOTHING),
            ("after", "create table s.after (a int);\n", NOTHING),
        ],
    )
    scoped = run_verification(pairs, shadow_url)
    assert statuses(scoped.results) == ["verified", "forward_failed", "mismatch"]
    report = scoped.results[1].report()
    assert "the migration removed the verifier's helpers" in report, report
    assert "DEALLOCATE" not in report, report
    assert "table s.after" in scoped.results[2].report()
