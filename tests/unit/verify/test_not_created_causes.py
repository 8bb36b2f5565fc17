"""A forward failing on an object no migration makes (not_created) or only a later one makes
(created_later): what each migration makes (verify/made.py, made_in_code.py), the
classification (verify/causes.py, placement.py) and the counts by cause (verify/tally.py)."""

from __future__ import annotations

import pytest

from migration_rollback.sql import parse_script
from migration_rollback.verify.causes import CAUSE_KINDS, Cause, Placement, classify_failure
from migration_rollback.verify.made import ProjectNames, made_by, project_names
from migration_rollback.verify.made_in_code import made_in_code
from migration_rollback.verify.placement import missing_object
from migration_rollback.verify.replay_support import would_create
from migration_rollback.verify.tally import CAUSE_PHRASES, cause_counts, tally, tally_lines
from migration_rollback.verify.verdict import VerifyResult


def _project(*scripts: str | None, broken: str = "") -> ProjectNames:
    """Migrations m1, m2... of these scripts (None: a file that does not parse, `broken`)."""
    return project_names(
        (f"m{i}", parse_script(sql, f"m{i}.sql") if sql is not None else None, sql or broken)
        for i, sql in enumerate(scripts, 1)
    )


def _made(sql: str) -> set[tuple[str | None, str]]:
    return set(made_by(parse_script(sql, "x.sql").statements))


@pytest.mark.parametrize(
    ("sql", "made"),
    [
        ("create table public.t (a int)", {("public", "t"), (None, "a")}),
        ("create type mood as enum ('ok')", {(None, "mood")}),
        ("create schema app", {(None, "app")}),
        ("create function app.f() returns int language sql as 'select 1'", {("app", "f")}),
        ("alter table public.t rename to u", {("public", "u"), (None, "u")}),
        ("alter table t rename column a to b", {(None, "b")}),
        ("alter table t add column c int", {(None, "c")}),
        ("alter table t set schema app", {("app", "t")}),
        ("alter function f() set schema app", {("app", "f")}),
        ("create index t_a on public.t (a)", {("public", "t_a")}),
        ("create role reader", {(None, "reader")}),
        ("create table t2 as select 1", {(None, "t2")}),
        ("select 1 into t3", {(None, "t3")}),
        ("insert into t values (1)", set()),
    ],
)
def test_made_by(sql: str, made: set[tuple[str | None, str]]) -> None:
    assert _made(sql) == made


def test_would_create_reads_what_made_reads() -> None:
    names = would_create(parse_script("create type mood as enum ('ok')", "x.sql"))
    assert "mood" in names
    do_block = "do $$ begin if true then create table duels (id int); end if; end $$"
    assert "duels" in would_create(parse_script(do_block, "x.sql"))
    table = would_create(parse_script("create table t (id int)", "x.sql"))
    assert "id" not in table  # a column as common as id would blame this migration


def test_makers_match_schema_or_unqualified() -> None:
    project = _project("create table public.a ()", "create table b ()", "create table app.a ()")
    assert project.makers("public.a") == [0]
    assert project.makers("a") == [0, 2]
    assert project.makers("other.b") == [1]  # made unqualified: it may be in any schema
    assert project.makers("public.c") == []


def test_unread_code_only_when_it_may_make_something() -> None:
    project = _project(
        "do $$ begin execute 'create policy p on public.on_it using (true)'; "
        "create table if not exists made_in_do (); end $$",
        "create function f() returns int language sql as 'select count(*) from read_only'",
        None,
        broken="create table in_a_broken_file (; alter table x rename to renamed_in_it",
    )
    assert project.maybe_makers("made_in_do") == [0]
    assert project.maybe_makers("p") == [0]
    assert project.maybe_makers("on_it") == []  # a policy's table is not made by it
    assert project.maybe_makers("read_only") == []
    assert project.maybe_makers("in_a_broken_file") == [2]
    assert project.maybe_makers("renamed_in_it") == [2]


@pytest.mark.parametrize(
    ("code", "made", "not_made"),
    [
        ("execute format('create table %I (id int)', t) -- over array['alpha']", {"alpha"}, set()),
        ("execute v_sql; -- built from 'beta'", {"beta"}, set()),
        ("create trigger t after insert on x for each row execute function f()", {"t"}, {"x"}),
        ("grant execute on function f() to anon", set(), {"f", "anon"}),
        ("alter table t add column if not exists c int", {"c"}, {"t"}),
        ('create unique index concurrently if not exists "Ix" on t (a)', {"ix"}, {"t"}),
    ],
)
def test_made_in_code(code: str, made: set[str], not_made: set[str]) -> None:
    found = made_in_code([code])
    assert made <= found
    assert not (not_made & found)


@pytest.mark.parametrize(
    ("state", "message", "found"),
    [
        ("42P01", 'relation "public.orders" does not exist', ("relation", "public.orders")),
        ("42883", "function public.f(uuid, text) does not exist", ("function", "public.f")),
        ("42704", 'type "mood" does not exist', ("type", "mood")),
        ("3F000", 'schema "app" does not exist', ("schema", "app")),
        ("42703", 'column "note" of relation "orders" does not exist', ("column", "note")),
        ("42704", 'policy "p" for table "orders" does not exist', ("policy", "p")),
        ("42883", "operator does not exist: text = integer", None),
        ("42703", 'column "note" does not exist', None),
        ("42P01", 'relation "pg_catalog.nope" does not exist', None),
        ("23505", 'relation "orders" does not exist', None),
    ],
)
def test_missing_object(state: str, message: str, found: tuple[str, str] | None) -> None:
    assert missing_object(state, message) == found


_ALTERS_PROFILES = "alter table public.profiles add column bio text"
_MAKES_PROFILES = "create table public.profiles (id uuid)"


def _cause(project: ProjectNames, migration: str, message: str, state: str = "42P01") -> Cause:
    return classify_failure(state, message, placement=Placement(project, migration))


def test_not_created_when_no_migration_makes_it() -> None:
    project = _project("create table public.orders ()", _ALTERS_PROFILES)
    cause = _cause(project, "m2", 'relation "public.profiles" does not exist')
    assert (cause.kind, cause.subject) == ("not_created", "public.profiles")
    assert "supabase db dump" in cause.detail
    assert "dashboard" in cause.detail


def test_created_later_names_the_later_migration() -> None:
    project = _project(_ALTERS_PROFILES, "create table x ()", _MAKES_PROFILES)
    cause = _cause(project, "m1", 'relation "public.profiles" does not exist')
    assert (cause.kind, cause.subject) == ("created_later", "m3")
    assert "out of order" in cause.detail


def test_created_later_by_a_rename() -> None:
    project = _project(_ALTERS_PROFILES, "alter table public.people rename to profiles")
    assert _cause(project, "m1", 'relation "public.profiles" does not exist').kind == (
        "created_later"
    )


def test_made_earlier_is_the_migrations_own_error() -> None:
    project = _project(_MAKES_PROFILES, "drop table public.profiles", _ALTERS_PROFILES)
    cause = _cause(project, "m3", 'relation "public.profiles" does not exist')
    assert cause.kind == "migration_error"
    assert "created by m1 and is gone since" in cause.detail


def test_made_by_the_same_migration_is_its_own_error() -> None:
    project = _project(f"{_ALTERS_PROFILES}; {_MAKES_PROFILES}")
    cause = _cause(project, "m1", 'relation "public.profiles" does not exist')
    assert cause.detail == "an error in the migration itself [42P01]"


def test_code_that_may_make_it_is_never_not_created() -> None:
    do_block = "do $$ begin execute 'create table public.profiles (id uuid)'; end $$"
    later = _project(_ALTERS_PROFILES, do_block)
    cause = _cause(later, "m1", 'relation "public.profiles" does not exist')
    assert cause.kind == "migration_error"
    assert "code the tool cannot read in m2" in cause.detail
    earlier = _project(do_block, _ALTERS_PROFILES)
    cause = _cause(earlier, "m2", 'relation "public.profiles" does not exist')
    assert cause.kind == "migration_error"
    assert "code the tool cannot read in m1" in cause.detail


def test_depends_on_comes_first() -> None:
    project = _project(_MAKES_PROFILES, _ALTERS_PROFILES)
    failed = {"m1": frozenset({"profiles", "public.profiles"})}
    cause = classify_failure(
        "42P01", 'relation "public.profiles" does not exist', failed=failed,
        placement=Placement(project, "m2"),
    )  # fmt: skip
    assert (cause.kind, cause.subject) == ("depends_on", "m1")


def test_an_extension_a_failed_migration_creates_may_make_routines_and_types() -> None:
    project = _project("create extension pg_trgm", "select similarity('a', 'b')")
    failed = {"m1": frozenset({"pg_trgm"})}
    message = "function similarity(unknown, unknown) does not exist"
    placement = Placement(project, "m2")
    cause = classify_failure("42883", message, failed=failed, placement=placement)
    assert (cause.kind, cause.subject) == ("depends_on", "m1")
    assert "extension pg_trgm may have created" in cause.detail
    relation = classify_failure(
        "42P01", 'relation "t" does not exist', failed=failed, placement=placement
    )
    assert relation.kind == "not_created"  # an extension's tables are not guessed at
    applied = classify_failure("42883", message, placement=placement)  # m1 did not fail
    assert applied.kind == "migration_error"
    assert "comes from the extension pg_trgm, which m1 creates" in applied.detail


@pytest.mark.parametrize(
    ("created", "depends"),
    [
        ({"queue"}, True),  # made unqualified (or read from code): in any schema
        ({"queue", "app.queue"}, False),  # made in another schema
        ({"public.queue", "queue"}, True),
        ({"other"}, False),
    ],
)
def test_depends_on_a_qualified_name_made_bare(created: set[str], depends: bool) -> None:
    failed = {"m1": frozenset(created)}
    cause = classify_failure("42P01", 'relation "public.queue" does not exist', failed=failed)
    assert (cause.kind == "depends_on") is depends


def test_a_well_known_extension_object_names_its_extension() -> None:
    message = "function uuid_generate_v4() does not exist"
    alone = classify_failure("42883", message, placement=Placement(_project("select 1"), "m1"))
    assert (alone.kind, alone.subject) == ("not_created", "uuid_generate_v4")
    assert 'create extension if not exists "uuid-ossp"' in alone.detail
    later = _project("select 1", 'create extension "uuid-ossp"')
    cause = classify_failure("42883", message, placement=Placement(later, "m1"))
    assert (cause.kind, cause.subject) == ("created_later", "m2")
    assert "(extension uuid-ossp)" in cause.detail
    earlier = _project('create extension "uuid-ossp"', "select 1")
    assert classify_failure("42883", message, placement=Placement(earlier, "m2")).kind == (
        "migration_error"
    )


def test_platform_objects_and_other_majors_are_not_not_created() -> None:
    project = _project("select 1")
    platform = _cause(project, "m1", 'relation "auth.users" does not exist')
    assert platform.kind == "missing_platform_object"
    newer = classify_failure(
        "42883", "function uuidv7() does not exist", server_major=17,
        placement=Placement(project, "m1"),
    )  # fmt: skip
    assert newer.kind == "other_major"


def test_a_name_on_the_shadow_is_a_call_or_search_path_error() -> None:
    project = _project("select lower(1)")
    on_shadow = Placement(project, "m1", lambda kind, name: (kind, name) == ("function", "lower"))
    cause = classify_failure("42883", "function lower(integer) does not exist", placement=on_shadow)
    assert cause.kind == "migration_error"
    elsewhere = classify_failure(
        "42883", "function mine(integer) does not exist", placement=on_shadow
    )
    assert elsewhere.kind == "not_created"


def test_without_placement_or_outside_the_project_nothing_changes() -> None:
    message = 'relation "public.profiles" does not exist'
    assert classify_failure("42P01", message).kind == "migration_error"
    assert _cause(_project("select 1"), "not_in_it", message).kind == "migration_error"


def _failed(cause: Cause | None) -> VerifyResult:
    return VerifyResult("m", "forward_failed", cause=cause)


def test_tally_counts_causes() -> None:
    results = [
        _failed(Cause("not_created", "x", "t")),
        _failed(Cause("not_created", "x", "u")),
        _failed(Cause("created_later", "x", "m9")),
        _failed(None),
        VerifyResult("v", "verified"),
    ]
    counts = cause_counts(results)
    assert (counts["not_created"], counts["created_later"], counts["depends_on"]) == (2, 1, 0)
    assert counts["unclassified"] == 1
    assert tally(results)["verdicts"]["forward_failed"] == 4
    lines = tally_lines(results)
    assert lines[0] == "5 replayed on the shadow: 1 verified, 4 forward_failed"
    assert lines[1].startswith("4 forwards failed: 2 on objects no migration creates, 1 on ")


def test_depends_on_traced_to_the_first_failure() -> None:
    results = [
        VerifyResult("m1", "forward_failed", cause=Cause("created_later", "x", "m9")),
        VerifyResult("m2", "forward_failed", cause=Cause("depends_on", "x", "m1")),
        VerifyResult("m3", "forward_failed", cause=Cause("depends_on", "x", "m2")),
        VerifyResult("m4", "forward_failed", cause=Cause("depends_on", "x", "gone")),
    ]
    traced = cause_counts(results, traced=True)
    assert (traced["created_later"], traced["depends_on"]) == (3, 1)
    assert tally(results)["forward_failed_causes"]["depends_on"] == 3
    assert tally(results)["forward_failed_first_causes"] == traced
    lines = tally_lines(results)
    assert lines[1] == (
        "4 forwards failed: 3 after an earlier failed migration, "
        "1 on objects only a later migration creates"
    )
    assert lines[2] == (
        "  traced to their first failures: 3 on objects only a later migration creates, "
        "1 after an earlier failed migration"
    )


def test_no_failure_no_cause_line() -> None:
    assert tally_lines([VerifyResult("v", "verified")]) == ["1 replayed on the shadow: 1 verified"]
    assert "unclassified" not in cause_counts([])


def test_every_cause_has_a_phrase() -> None:
    assert set(CAUSE_PHRASES) == set(CAUSE_KINDS)
