"""The round trip runs `apply`'s capture steps and `execute`'s restore steps (real PostgreSQL).

A migration whose only MANUAL items are data that the captures restore is `verified`, with the
items listed as restored from captures; data no capture can keep stays `manual`.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from verify_support import explain, statuses, write_project

from migration_rollback.verify import generate_verified, run_verification

pytestmark = pytest.mark.integration

PEOPLE = """
create table public.people (id bigint primary key, name text not null, nick text, age text);
create table public.loose (name text, score int);
"""
# Every kind `execute` restores from a capture, in one file: the restores run interleaved with
# the schema inverses (the type comes back before the UPDATE's prior values are written).
NORMALISE = """
update public.people set nick = lower(name) where nick is null;
delete from public.people where name = '';
alter table public.people alter column age type integer using nullif(age, '')::integer;
alter table public.people drop column nick;
insert into public.people (id, name) values (100, 'seed');
"""
NORMALISE_ROLLBACK = """
-- undoes supabase/migrations/20250101000002_normalise.sql:6: insert into public.people
-- MANUAL: INSERT added rows to public.people: delete them
-- undoes supabase/migrations/20250101000002_normalise.sql:5: alter table public.people drop
ALTER TABLE public.people ADD COLUMN nick text;
-- undoes supabase/migrations/20250101000002_normalise.sql:4: alter table public.people alter
ALTER TABLE public.people ALTER COLUMN age TYPE text;
-- MANUAL: the prior values of age are gone
-- undoes supabase/migrations/20250101000002_normalise.sql:3: delete from public.people
-- MANUAL: DELETE changed rows of public.people: restore them from the backup
-- undoes supabase/migrations/20250101000002_normalise.sql:2: update public.people set nick
-- MANUAL: UPDATE changed rows of public.people: restore them from the backup
"""


def _only(results: list, name: str):  # type: ignore[no-untyped-def]
    return next(r for r in results if r.migration.endswith(name))


def test_generated_data_rollback_is_verified_from_captures(tmp_path: Path, shadow_url: str) -> None:
    pairs = write_project(tmp_path, [("people", PEOPLE, None), ("normalise", NORMALISE, None)])
    out = generate_verified(pairs, shadow_url)
    result = out[1].result
    assert result.status == "verified", explain([result])
    assert result.manual == []
    assert len(result.restored) == 2  # the UPDATE and the DELETE (the INSERT has a DELETE)
    assert any(n.startswith("data: restored from apply's captures") for n in result.notes)
    doc = result.to_json()
    assert doc["status"] == "verified"
    assert doc["restored_from_captures"] == result.restored
    assert "restored from captures:" in result.report()
    assert "-- MANUAL:" in (out[1].sql_body or "")  # the file keeps its markers for execute


def test_hand_written_rollback_with_markers_is_verified(tmp_path: Path, shadow_url: str) -> None:
    pairs = write_project(
        tmp_path,
        [
            ("people", PEOPLE, "drop table public.loose;\ndrop table public.people;\n"),
            ("normalise", NORMALISE, NORMALISE_ROLLBACK),
        ],
    )
    run = run_verification(pairs, shadow_url)
    assert statuses(run.results) == ["verified", "verified"], explain(run.results)
    restored = run.results[1].restored
    assert len(restored) == 4
    assert restored[1].startswith("20250101000002_normalise_rollback.sql:8: the prior values")
    assert restored[0].startswith("20250101000002_normalise_rollback.sql:3: INSERT")
    assert run.drift == []  # the capture schema left nothing in the shadow's model


UPSERTS = [
    (  # the corpus seed's shape: a VALUES list upserted by a unique column
        "insert into public.people (id, name, nick) values (1, 'ada', 'a'), (7, 'gus', 'g')\n"
        "on conflict (id) do update set name = excluded.name, nick = excluded.nick;\n"
    ),
    (  # a variant: DO UPDATE ... WHERE, and a conflict value cast
        "insert into public.people as p (id, name) values ('2'::bigint, 'bo'), (8, 'hal')\n"
        "on conflict (id) do update set nick = excluded.name where p.nick is null;\n"
    ),
    (  # rows from a query (wetraineducattiontech's admins upserted from auth.users' shape)
        "insert into public.people (id, name) select p.id + 10, p.name from public.people p\n"
        "where p.id < 3 on conflict (id) do update set name = excluded.name;\n"
    ),
    (  # a DO block's loop of UPDATEs (curiousanthony's backfill shape): kept whole, pruned
        "do $$ declare r record; begin for r in select id, name from public.people loop\n"
        "  update public.people set nick = upper(r.name) where id = r.id; end loop; end $$;\n"
    ),
    (  # a seed inserted in a loop, then backfilled: kept whole, the added keys kept
        "do $$ declare n text; begin foreach n in array array['cy', 'di'] loop\n"
        "  insert into public.people (id, name) values (10 + length(n), n)\n"
        "  on conflict do nothing;\n"
        "  end loop; update public.people set nick = 'n' where nick is null; end $$;\n"
    ),
]


@pytest.mark.parametrize("forward", UPSERTS)
def test_upserts_and_block_updates_are_verified_from_captures(
    tmp_path: Path, shadow_url: str, forward: str
) -> None:
    seeded = PEOPLE + "insert into public.people (id, name) values (1, 'a'), (2, 'b');\n"
    pairs = write_project(tmp_path, [("people", seeded, None), ("upsert", forward, None)])
    result = generate_verified(pairs, shadow_url)[1].result
    assert result.status == "verified", explain([result])
    assert len(result.restored) == 1
    said = ("ON CONFLICT", "inserted into public.people", "the DO block writes rows")
    assert any(words in result.restored[0] for words in said), result.restored


STAMPED = (
    "alter table public.people add column updated_at timestamptz;\n"
    "create function public.stamp() returns trigger language plpgsql as\n"
    "$$ begin new.updated_at := now(); return new; end $$;\n"
    "create trigger stamp before update on public.people\n"
    "  for each row execute function public.stamp();\n"
)
AUDITED = (
    "create table public.audit (id bigserial primary key, what text);\n"
    "create function public.log_change() returns trigger language plpgsql as\n"
    "$$ begin insert into public.audit (what) values (new.name); return new; end $$;\n"
    "create trigger log_change after update on public.people\n"
    "  for each row execute function public.log_change();\n"
)


@pytest.mark.parametrize(("before", "status"), [(STAMPED, "verified"), (AUDITED, "manual")])
def test_update_under_a_trigger_is_verified_only_when_it_changes_just_the_row(
    tmp_path: Path, shadow_url: str, before: str, status: str
) -> None:
    """A stamp trigger is silenced while the restore writes whole rows back; a trigger that
    writes another table leaves rows no capture keeps."""
    seeded = PEOPLE + before + "insert into public.people (id, name) values (1, 'a');\n"
    forward = "update public.people set nick = upper(name) where nick is null;\n"
    pairs = write_project(tmp_path, [("people", seeded, None), ("nick", forward, None)])
    result = generate_verified(pairs, shadow_url)[1].result
    assert result.status == status, explain([result])
    if status == "manual":
        assert any("trigger log_change" in n for n in result.notes), result.notes


@pytest.mark.parametrize(
    ("forward", "why"),
    [
        (  # a writing CTE: capture_plan refuses (the capture cannot replay it)
            "with gone as (delete from public.loose where score < 0 returning name)\n"
            "update public.people p set nick = 'x' from gone where gone.name = p.name;\n",
            "writing CTE",
        ),
        ("update public.loose set score = 0 where score < 0;\n", "no key to match rows back"),
        (  # an upsert whose conflicting rows cannot be told before it runs (a LIMIT's rows
            # are the plan's choice)
            "insert into public.people (id, name) select id + 1, name from public.people\n"
            "limit 1 on conflict (id) do update set name = excluded.name;\n",
            "upsert from a query",
        ),
        (  # a DO block whose DELETE reads its own variable: the rows are known only then
            "do $$ declare n text := 'x'; begin\n"
            "  delete from public.people where nick is not distinct from n; end $$;\n",
            "DO block",
        ),
    ],
)
def test_data_no_capture_can_keep_stays_manual(
    tmp_path: Path, shadow_url: str, forward: str, why: str
) -> None:
    pairs = write_project(tmp_path, [("people", PEOPLE, None), ("change", forward, None)])
    result = generate_verified(pairs, shadow_url)[1].result
    assert result.status == "manual", f"{why}: {explain([result])}"
    assert result.manual
    assert result.restored == []


def test_only_the_item_no_capture_answers_stays_manual(tmp_path: Path, shadow_url: str) -> None:
    """An UPDATE the captures restore next to a DO block they cannot see into: still manual,
    but the verdict lists the DO block alone as what remains (the UPDATE under `restored`)."""
    forward = (
        "update public.people set nick = lower(name) where nick is null;\n"
        "do $$ declare r record; begin for r in select id from public.people loop "
        "delete from public.people where id = -r.id; end loop; end $$;\n"
    )
    rollback = (
        "-- undoes supabase/migrations/20250101000002_mixed.sql:2: do\n"
        "-- MANUAL: the DO block writes rows: review the data it changed\n"
        "-- undoes supabase/migrations/20250101000002_mixed.sql:1: update public.people\n"
        "-- MANUAL: UPDATE changed rows of public.people\n"
    )
    pairs = write_project(tmp_path, [("people", PEOPLE, None), ("mixed", forward, rollback)])
    result = run_verification(pairs, shadow_url).results[1]
    assert result.status == "manual", explain([result])
    assert result.manual == [
        "20250101000002_mixed_rollback.sql:2: the DO block writes rows: review the data it changed"
    ]
    assert result.restored == [
        "20250101000002_mixed_rollback.sql:4: UPDATE changed rows of public.people"
    ]
    assert "1 MANUAL item(s) remain" in result.message
    assert any(n.startswith("data: 1 MANUAL item(s) restored") for n in result.notes)
    assert result.to_json()["restored_from_captures"] == result.restored


def test_restores_run_on_the_shadow_at_their_place(tmp_path: Path, shadow_url: str) -> None:
    """A restore that cannot run where execute would run it fails the round trip: this
    hand-written rollback puts the UPDATE's prior text back while the column is still integer
    (its type is changed back only after), as execute would try to."""
    forward = (
        "update public.people set nick = 'x' where id > 0;\n"
        "alter table public.people alter column nick type integer using 0;\n"
    )
    rollback = (
        "-- undoes supabase/migrations/20250101000002_touch.sql:1: update public.people\n"
        "-- MANUAL: UPDATE changed rows of public.people\n"
        "-- undoes supabase/migrations/20250101000002_touch.sql:2: alter table public.people\n"
        "ALTER TABLE public.people ALTER COLUMN nick TYPE text;\n"
    )
    pairs = write_project(tmp_path, [("people", PEOPLE, None), ("touch", forward, rollback)])
    result = run_verification(pairs, shadow_url).results[1]
    assert result.status == "rollback_failed", explain([result])
    assert "nick" in result.message, result.message
    assert "is of type integer" in result.message


def test_the_capture_schema_never_reaches_the_shadow(tmp_path: Path, shadow_url: str) -> None:
    pairs = write_project(tmp_path, [("people", PEOPLE, None), ("normalise", NORMALISE, None)])
    generate_verified(pairs, shadow_url)
    with psycopg.connect(shadow_url) as conn:
        left = conn.execute(
            "SELECT count(*) FROM pg_namespace WHERE nspname = 'migration_rollback_capture'"
        ).fetchone()
    assert left == (0,)


def test_rows_written_only_into_tables_made_here_need_nothing(
    tmp_path: Path, shadow_url: str
) -> None:
    """The rows go with the tables the rollback drops: no MANUAL item, nothing to restore."""
    forward = (
        "create table public.roles (id serial primary key, name text unique);\n"
        "insert into public.roles (name) values ('a'), ('b');\n"
        "update public.roles set name = upper(name);\n"
        "delete from public.roles where name = '';\n"
        "do $$ declare r record; begin\n"
        "  for r in select * from public.people loop\n"
        "    insert into public.roles (name) values (r.name) on conflict do nothing;\n"
        "  end loop;\n"
        "end $$;\n"
    )
    pairs = write_project(tmp_path, [("people", PEOPLE, None), ("roles", forward, None)])
    out = generate_verified(pairs, shadow_url)[1]
    assert out.result.status == "verified", explain([out.result])
    assert out.result.restored == []
    assert "MANUAL" not in (out.sql_body or "")


NEW_COLUMN_BACKFILL = (
    "alter table public.people add column slug text;\n"
    "do $$ begin\n"
    "  if exists (select 1 from information_schema.columns\n"
    "             where table_name = 'people' and column_name = 'slug') then\n"
    "    update public.people set slug = lower(name) where slug is null;\n"
    "  end if;\n"
    "end $$;\n"
)


TOUCH = (
    "create function public.touch() returns trigger language plpgsql as\n"
    "$$ begin new.nick := 'touched'; return new; end $$;\n"
)


@pytest.mark.parametrize(
    "before",
    [
        "",  # an INSERT-only trigger does not fire on the backfill's UPDATE
        TOUCH + "create trigger touch before insert on public.people\n"
        "  for each row execute function public.touch();\n",
    ],
)
def test_do_block_filling_only_columns_made_here_needs_nothing(
    tmp_path: Path, shadow_url: str, before: str
) -> None:
    """The values go with the column the rollback drops: no MANUAL item for the DO block."""
    pairs = write_project(
        tmp_path, [("people", PEOPLE + before, None), ("slug", NEW_COLUMN_BACKFILL, None)]
    )
    out = generate_verified(pairs, shadow_url)[1]
    assert out.result.status == "verified", explain([out.result])
    assert "MANUAL" not in (out.sql_body or "")


AUDIT_TOUCH = (
    "create table public.audit (id bigserial primary key, what text);\n"
    "create function public.touch() returns trigger language plpgsql as\n"
    "$$ begin insert into public.audit (what) values (new.name); return new; end $$;\n"
    "create trigger touch after update on public.people\n"
    "  for each row execute function public.touch();\n"
)


@pytest.mark.parametrize(
    ("before", "status"),
    [
        (  # the trigger rewrites the row's own columns: whole rows kept, restored with it off
            TOUCH + "create trigger touch before update on public.people\n"
            "  for each row execute function public.touch();\n",
            "verified",
        ),
        # the column existed before: the backfill's rows are kept before the block runs
        ("alter table public.people add column slug text;\n", "verified"),
        (AUDIT_TOUCH, "manual"),  # the trigger writes another table: nothing keeps that
    ],
)
def test_do_block_backfill_with_a_lasting_effect_needs_a_capture(
    tmp_path: Path, shadow_url: str, before: str, status: str
) -> None:
    forward = NEW_COLUMN_BACKFILL.replace("add column slug", "add column if not exists slug")
    pairs = write_project(tmp_path, [("people", PEOPLE + before, None), ("slug", forward, None)])
    out = generate_verified(pairs, shadow_url)[1]
    assert out.result.status == status, explain([out.result])
    assert "the DO block writes rows" in (out.sql_body or "")  # the marker execute answers
    assert len(out.result.restored) == (1 if status == "verified" else 0)


DO_BLOCKS = [
    (  # Saturday-Vinyl 20260201000001's shape: a guarded EXECUTE of a constant DELETE
        "do $$ begin if exists (select 1 from information_schema.tables\n"
        "  where table_name = 'people') then\n"
        "  execute 'delete from public.people where length(name) = 0';\n"
        "end if; end $$;\n"
    ),
    (  # a static UPDATE next to an independent DELETE in one block
        "do $$ begin update public.people set nick = lower(name) where nick is null;\n"
        "  delete from public.loose where score < 0; end $$;\n"
    ),
]


@pytest.mark.parametrize("forward", DO_BLOCKS)
def test_do_block_static_writes_are_verified_from_captures(
    tmp_path: Path, shadow_url: str, forward: str
) -> None:
    with_key = PEOPLE.replace("(name text, score int)", "(name text primary key, score int)")
    seeded = with_key + "insert into public.people (id, name) values (1, 'a'), (2, '');\n"
    pairs = write_project(tmp_path, [("people", seeded, None), ("block", forward, None)])
    result = generate_verified(pairs, shadow_url)[1].result
    assert result.status == "verified", explain([result])
    assert len(result.restored) == 1  # the DO block's one MANUAL item


def test_the_schema_must_come_back_without_the_restores(tmp_path: Path, shadow_url: str) -> None:
    """Restores from captures would change the type back too; but `execute` without captures
    runs the SQL alone, so the schema verdict is taken without them."""
    rollback = (
        "-- undoes supabase/migrations/20250101000002_widen.sql:1: alter table public.people\n"
        "-- MANUAL: the prior values of age\n"
    )
    pairs = write_project(
        tmp_path,
        [
            ("people", PEOPLE, None),
            ("widen", "alter table public.people alter column age type varchar(9);\n", rollback),
        ],
    )
    result = run_verification(pairs, shadow_url).results[1]
    assert result.status == "mismatch", explain([result])
    assert result.restored == []
