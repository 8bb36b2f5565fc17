"""`migration-rollback execute` end to end against a real PostgreSQL: the paths that succeed."""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
from pathlib import Path

import pytest
from runner_support import (
    BASE,
    TIMELINE,
    Project,
    schema_fingerprint,
    timeline_project,
)

from migration_rollback.jobresult import SetMember, set_sha256

pytestmark = pytest.mark.integration

BASE_VERSION = BASE.split("_")[0]


def test_rollback_archives_table_and_column_and_forgets_the_migration(project: Project) -> None:
    timeline_project(project)

    run = project.execute(TIMELINE)

    assert run.returncode == 0, run.stdout + run.stderr
    assert run.result is not None
    assert run.result["outcome"] == "succeeded"
    assert run.result["committed"] is True
    assert project.versions() == [BASE_VERSION]
    assert project.value("SELECT to_regclass('public.timeline_likes')") is None
    assert project.value("SELECT to_regprocedure('public.like_count(bigint)')") is None
    columns = project.sql(
        "SELECT attname FROM pg_attribute WHERE attrelid = 'public.profiles'::regclass "
        "AND attnum > 0 AND NOT attisdropped ORDER BY attnum"
    )
    assert [c[0] for c in columns] == ["id", "name"]
    archived = {a["kind"]: a for a in run.result["archived"]}
    table_archive = archived["table"]["archive"]
    assert table_archive.startswith("migration_rollback_archive.timeline_likes__20251113000001__")
    assert project.value(f"SELECT count(*) FROM {table_archive}") == 3
    # The archived table no longer constrains live ones: deleting a liked event now works.
    project.sql("DELETE FROM public.events WHERE id = 1")
    audit = project.audit()
    assert [a["outcome"] for a in audit] == ["succeeded"]
    assert audit[0]["dry_run"] is False
    assert {a["archive"] for a in audit[0]["archived"]} == {a["archive"] for a in archived.values()}
    assert audit[0]["who"]["db_user"] == "postgres"
    assert {s.get("step") for s in run.steps} >= {
        "connect",
        "audit",
        "lock",
        "preconditions",
        "impact",
        "safety",
        "backup",
        "transaction",
        "deferred",
        "audit-finish",
    }
    assert all("duration_ms" in s for s in run.steps if "step" in s)
    assert "committed" in run.stdout
    assert run.report is not None
    assert "## Archived data" in run.report


def test_impact_lists_rows_and_locks(project: Project) -> None:
    timeline_project(project)

    run = project.execute(TIMELINE, "--dry-run")

    assert run.result is not None
    impact = {i["object"]: i for i in run.result["impact"]}
    likes = impact["table public.timeline_likes"]
    assert likes["rows"] == 3
    assert likes["rows_exact"] is True
    assert likes["lock"] == "ACCESS EXCLUSIVE"
    assert likes["action"] == "move to archive"
    assert impact["column public.profiles.bio"]["action"] == "copy to archive, then drop"
    assert "timeline_likes" in run.stdout
    assert "ACCESS EXCLUSIVE" in run.stdout


def test_dry_run_changes_nothing_but_the_audit_log(project: Project) -> None:
    timeline_project(project)
    project.add(
        "20251120000000_concurrent_index",
        "CREATE INDEX idx_events_title ON public.events(title);",
        "DROP INDEX CONCURRENTLY public.idx_events_title;\nDROP TABLE public.events CASCADE;\n",
    )
    before = schema_fingerprint(project.url)

    run = project.execute("--to", BASE_VERSION, "--dry-run")

    assert run.returncode == 0, run.stdout + run.stderr
    assert run.result is not None
    assert run.result["outcome"] == "dry-run-succeeded"
    assert run.result["committed"] is False
    assert schema_fingerprint(project.url) == before
    assert project.value("SELECT to_regnamespace('migration_rollback_archive')") is None
    assert [d["status"] for d in run.result["deferred"]] == ["listed"]
    # Rehearsed, then rolled back: nothing is archived; the three archives are listed as undone.
    assert run.result.get("archived", []) == []
    undone = [item for item in run.result["rolled_back"] if " archived to " in item]
    assert len(undone) == 3  # events, timeline_likes, profiles.bio
    audit = project.audit()
    assert [(a["outcome"], a["dry_run"]) for a in audit] == [("dry-run-succeeded", True)]
    assert "nothing was changed" in run.stdout


def test_to_version_rolls_back_newest_first_in_one_transaction(project: Project) -> None:
    timeline_project(project)
    project.add(
        "20251201000000_orders",
        "CREATE TABLE public.orders (id bigint PRIMARY KEY, amount numeric NOT NULL);",
        "DROP TABLE public.orders;\n",
    )
    # The view depends on the table: rolling back in the wrong order would fail on DROP TABLE.
    project.add(
        "20251202000000_order_totals",
        "CREATE VIEW public.order_totals AS SELECT sum(amount) AS total FROM public.orders;",
        "DROP VIEW public.order_totals;\n",
    )
    project.sql("INSERT INTO public.orders VALUES (1, 9.5), (2, 10)")

    run = project.execute("--to", TIMELINE.split("_")[0])

    assert run.returncode == 0, run.stdout + run.stderr
    assert run.result is not None
    assert run.result["migrations"] == ["20251202000000", "20251201000000"]
    assert run.result["migration_states"] == {
        "20251202000000": "RolledBack",
        "20251201000000": "RolledBack",
    }
    versions = [s["version"] for s in run.result["statements"]]
    assert versions == ["20251202000000", "20251201000000"]
    assert project.versions() == [BASE_VERSION, "20251113000001"]
    assert project.value("SELECT to_regclass('public.order_totals')") is None
    archive = run.result["archived"][0]["archive"]
    assert project.value(f"SELECT sum(amount) FROM {archive}") == 19.5


def test_to_version_failure_in_the_older_migration_undoes_the_newer_one(project: Project) -> None:
    timeline_project(project)
    project.add(
        "20251201000000_broken_rollback",
        "CREATE TABLE public.orders (id bigint PRIMARY KEY);",
        "DROP TABLE public.no_such_table;\n",
    )
    project.add(
        "20251202000000_fine",
        "CREATE VIEW public.order_ids AS SELECT id FROM public.orders;",
        "DROP VIEW public.order_ids;\n",
    )
    before = schema_fingerprint(project.url)

    run = project.execute("--to", TIMELINE.split("_")[0])

    assert run.returncode == 5
    assert run.result is not None
    # One transaction: the failing migration is Failed, the newer one was undone with it.
    assert run.result["migration_states"] == {
        "20251202000000": "Skipped",
        "20251201000000": "Failed",
    }
    assert schema_fingerprint(project.url) == before
    assert project.versions() == [
        BASE_VERSION,
        "20251113000001",
        "20251201000000",
        "20251202000000",
    ]


def _orders_project(project: Project) -> list[SetMember]:
    """Two migrations after the timeline; the set `--to <timeline>` rolls back, newest first."""
    timeline_project(project)
    members = []
    for name, forward, rollback in (
        (
            "20251201000000_orders",
            "CREATE TABLE public.orders (id bigint);",
            "DROP TABLE public.orders;\n",
        ),
        (
            "20251202000000_order_ids",
            "CREATE VIEW public.order_ids AS SELECT id FROM public.orders;",
            "DROP VIEW public.order_ids;\n",
        ),
    ):
        digest = hashlib.sha256(project.add(name, forward, rollback).read_bytes()).hexdigest()
        members.insert(0, SetMember(name.split("_")[0], name, digest))
    return members


def test_to_version_runs_the_set_its_digest_pins(project: Project) -> None:
    members = _orders_project(project)

    run = project.execute(
        "--to", TIMELINE.split("_")[0], "--expect-set-sha256", set_sha256(members)
    )

    assert run.returncode == 0, run.stdout + run.stderr
    assert project.versions() == [BASE_VERSION, "20251113000001"]


def test_to_version_refuses_a_set_other_than_the_pinned_one(project: Project) -> None:
    """The reviewed set was the two newest; the database has only one of them applied."""
    members = _orders_project(project)
    project.sql(
        "DELETE FROM supabase_migrations.schema_migrations WHERE version = '20251202000000'"
    )
    project.sql("DROP VIEW public.order_ids")
    before = schema_fingerprint(project.url)

    run = project.execute(
        "--to", TIMELINE.split("_")[0], "--expect-set-sha256", set_sha256(members)
    )

    assert run.returncode == 3, run.stdout + run.stderr
    assert run.result is not None
    message = run.result["error"]["message"]
    assert "20251201000000_orders" in message
    assert "the set changed since it was reviewed" in message
    assert run.result["migration_states"] == {"20251201000000": "Skipped"}
    assert schema_fingerprint(project.url) == before


def test_archived_column_values_can_be_restored(project: Project) -> None:
    timeline_project(project)
    before = project.sql("SELECT id, bio FROM public.profiles ORDER BY id")

    run = project.execute(TIMELINE)

    assert run.returncode == 0, run.stderr
    assert run.result is not None
    column = next(a for a in run.result["archived"] if a["kind"] == "column")
    assert column["key_columns"] == ["id"]
    assert column["rows"] == 3
    archive = column["archive"]
    project.sql("ALTER TABLE public.profiles ADD COLUMN bio text")
    project.sql(f"UPDATE public.profiles p SET bio = a.bio FROM {archive} a WHERE p.id = a.id")
    assert project.sql("SELECT id, bio FROM public.profiles ORDER BY id") == before


def test_restore_hints_in_the_report_bring_everything_back(project: Project) -> None:
    timeline_project(project)
    likes = project.sql("SELECT id, event_id, profile_id FROM public.timeline_likes ORDER BY id")
    bios = project.sql("SELECT id, bio FROM public.profiles ORDER BY id")

    run = project.execute(TIMELINE)

    assert run.returncode == 0, run.stderr
    assert run.report is not None
    sql_block = run.report.split("To bring it back:")[1].split("```sql")[1].split("```")[0]
    project.sql(sql_block)
    assert (
        project.sql("SELECT id, event_id, profile_id FROM public.timeline_likes ORDER BY id")
        == likes
    )
    assert project.sql("SELECT id, bio FROM public.profiles ORDER BY id") == bios


def test_drop_table_if_exists_of_a_missing_table_is_a_no_op(project: Project) -> None:
    project.add(
        "20251201000000_ghost",
        "SELECT 1;",
        "DROP TABLE IF EXISTS public.never_created;\n",
    )

    run = project.execute("20251201000000_ghost")

    assert run.returncode == 0, run.stdout + run.stderr
    assert run.result is not None
    assert run.result.get("archived", []) == []
    assert project.versions() == []
    assert project.value("SELECT to_regnamespace('migration_rollback_archive')") is None


def test_cascade_drops_foreign_keys_of_live_tables_that_pointed_at_the_archived_one(
    project: Project,
) -> None:
    project.add(
        "20251201000000_tags",
        "CREATE TABLE public.tags (id int PRIMARY KEY, label text);"
        "CREATE TABLE public.notes (id int PRIMARY KEY, tag_id int REFERENCES public.tags(id));"
        "CREATE VIEW public.tag_labels AS SELECT label FROM public.tags;",
        "DROP TABLE public.tags CASCADE;\n",
    )
    project.sql("INSERT INTO public.tags VALUES (1, 'x'); INSERT INTO public.notes VALUES (1, 1)")

    run = project.execute("20251201000000_tags")

    assert run.returncode == 0, run.stdout + run.stderr
    assert run.result is not None
    notes = " ".join(run.result["dependents"])
    assert "notes_tag_id_fkey" in notes
    assert "tag_labels" in notes
    assert (
        project.value("SELECT count(*) FROM pg_constraint WHERE conname = 'notes_tag_id_fkey'") == 0
    )
    assert project.value("SELECT to_regclass('public.tag_labels')") is None
    assert project.value("SELECT count(*) FROM public.notes") == 1  # live data untouched


def test_without_cascade_dependents_make_the_drop_fail_as_written(project: Project) -> None:
    project.add(
        "20251201000000_tags",
        "CREATE TABLE public.tags (id int PRIMARY KEY);"
        "CREATE TABLE public.notes (id int PRIMARY KEY, tag_id int REFERENCES public.tags(id));",
        "DROP TABLE public.tags;\n",
    )

    run = project.execute("20251201000000_tags")

    assert run.returncode == 5
    assert run.result is not None
    assert run.result["error"]["sqlstate"] == "2BP01"  # dependent objects still exist
    assert project.value("SELECT to_regclass('public.tags')") is not None


def test_archiving_twice_does_not_collide_on_index_names(project: Project) -> None:
    rollback = "DROP TABLE public.items;\n"
    forward = "CREATE TABLE public.items (id int PRIMARY KEY, sku text UNIQUE);"
    project.add("20251201000000_items", forward, rollback)
    first = project.execute("20251201000000_items", tag="first")
    assert first.returncode == 0, first.stderr
    project.sql(forward)
    project.record("20251201000000_items")
    time.sleep(1.1)  # a different archive timestamp; the index names are the same

    second = project.execute("20251201000000_items", tag="second")

    assert second.returncode == 0, second.stdout + second.stderr
    tables = project.value(
        "SELECT count(*) FROM pg_tables WHERE schemaname = 'migration_rollback_archive'"
    )
    assert tables == 2
    indexes = project.sql(
        "SELECT indexname FROM pg_indexes WHERE schemaname = 'migration_rollback_archive'"
    )
    names = {r[0] for r in indexes}
    assert {"items_pkey", "items_sku_key"} <= names  # the first archive's, as they were
    assert len(names) == 4  # the second's renamed


def test_parts_keep_their_names_where_the_archive_has_them_free(project: Project) -> None:
    # An archive that already holds another table: only a name taken there is changed.
    project.add(
        "20251201000000_other", "CREATE TABLE public.other (id int);", "DROP TABLE public.other;\n"
    )
    assert project.execute("20251201000000_other", tag="first").returncode == 0
    project.add(
        "20251201000001_items",
        "CREATE TABLE public.items (id serial PRIMARY KEY, sku text UNIQUE);",
        "DROP TABLE public.items;\n",
    )

    run = project.execute("20251201000001_items", tag="second")

    assert run.returncode == 0, run.stdout + run.stderr
    parts = project.sql(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'migration_rollback_archive' AND c.relkind IN ('i', 'S') ORDER BY 1"
    )
    assert [r[0] for r in parts] == ["items_id_seq", "items_pkey", "items_sku_key"]


def test_partitioned_table_moves_with_its_partitions(project: Project) -> None:
    project.add(
        "20251201000000_metrics",
        "CREATE TABLE public.metrics (at date NOT NULL, v int) PARTITION BY RANGE (at);"
        "CREATE TABLE public.metrics_2025 PARTITION OF public.metrics "
        "FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');",
        "DROP TABLE public.metrics;\n",
    )
    project.sql("INSERT INTO public.metrics VALUES ('2025-05-01', 1), ('2025-06-01', 2)")

    run = project.execute("20251201000000_metrics")

    assert run.returncode == 0, run.stdout + run.stderr
    assert project.value("SELECT to_regclass('public.metrics_2025')") is None
    assert run.result is not None
    sources = sorted(a["source"] for a in run.result["archived"])
    assert sources == ["public.metrics", "public.metrics_2025"]
    parent = next(a for a in run.result["archived"] if a["source"] == "public.metrics")
    assert project.value(f"SELECT sum(v) FROM {parent['archive']}") == 3


def test_concurrent_statements_run_after_commit(project: Project) -> None:
    project.add(
        "20251201000000_index",
        "CREATE TABLE public.things (id int, label text);"
        "CREATE INDEX idx_things_label ON public.things(label);",
        "DROP INDEX CONCURRENTLY public.idx_things_label;\n"
        "ALTER TABLE public.things ADD COLUMN x int;\n",
    )

    run = project.execute("20251201000000_index")

    assert run.returncode == 0, run.stdout + run.stderr
    assert run.result is not None
    deferred = run.result["deferred"]
    assert [(d["status"], d["sql"]) for d in deferred] == [
        ("done", "DROP INDEX CONCURRENTLY IF EXISTS public.idx_things_label")
    ]
    assert project.value("SELECT to_regclass('public.idx_things_label')") is None


def test_purge_really_drops_with_a_verified_pg_dump(project: Project, tmp_path: Path) -> None:
    timeline_project(project)
    backups = tmp_path / "backups"
    backups.mkdir()

    run = project.execute(
        TIMELINE,
        "--purge",
        "--allow-data-loss",
        "--allow-cascade",  # purged, DROP TABLE ... CASCADE really drops its dependents
        "--backup",
        "pg-dump",
        "--backup-dir",
        str(backups),
    )

    assert run.returncode == 0, run.stdout + run.stderr
    assert run.result is not None
    backup = run.result["backup"]
    assert backup["verified"] is True
    assert backup["entries"] > 0
    dump = Path(backup["path"])
    assert dump.parent == backups
    assert dump.stat().st_size == backup["size_bytes"]
    assert oct(dump.stat().st_mode & 0o777) == oct(0o600)
    assert run.result.get("archived", []) == []
    assert project.value("SELECT to_regnamespace('migration_rollback_archive')") is None
    assert sorted(run.result["data_loss"]) == [
        "column public.profiles.bio",
        "sequence public.timeline_likes_id_seq",
        "table public.timeline_likes",
    ]


def test_dry_run_with_pg_dump_checks_but_does_not_dump(project: Project, tmp_path: Path) -> None:
    timeline_project(project)
    backups = tmp_path / "backups"
    backups.mkdir()

    run = project.execute(
        TIMELINE, "--dry-run", "--backup", "pg-dump", "--backup-dir", str(backups)
    )

    assert run.returncode == 0, run.stdout + run.stderr
    assert run.step("backup")["outcome"] == "dry-run"
    assert list(backups.iterdir()) == []


def test_require_recent_accepts_a_fresh_readable_dump(project: Project, tmp_path: Path) -> None:
    timeline_project(project)
    backups = tmp_path / "backups"
    backups.mkdir()
    dump = backups / "manual.dump"
    subprocess.run(["pg_dump", "-Fc", "-f", str(dump), project.url], check=True)

    run = project.execute(
        TIMELINE, "--backup", "require-recent", "--backup-dir", str(backups), "--max-age", "10m"
    )

    assert run.returncode == 0, run.stdout + run.stderr
    assert run.result is not None
    assert run.result["backup"]["path"] == str(dump)
    assert run.result["backup"]["verified"] is True


def test_require_recent_refuses_an_old_dump(project: Project, tmp_path: Path) -> None:
    timeline_project(project)
    backups = tmp_path / "backups"
    backups.mkdir()
    dump = backups / "old.dump"
    subprocess.run(["pg_dump", "-Fc", "-f", str(dump), project.url], check=True)
    old = time.time() - 3 * 3600
    os.utime(dump, (old, old))
    before = schema_fingerprint(project.url)

    run = project.execute(
        TIMELINE, "--backup", "require-recent", "--backup-dir", str(backups), "--max-age", "1h"
    )

    assert run.returncode == 6
    assert run.result is not None
    assert "no backup newer than" in run.result["error"]["message"]
    assert schema_fingerprint(project.url) == before


def test_rollback_file_from_elsewhere_and_the_actor_is_audited(
    project: Project, tmp_path: Path
) -> None:
    timeline_project(project)
    mounted = tmp_path / "configmap" / "rollback.sql"
    mounted.parent.mkdir()
    (project.migrations / f"{TIMELINE}_rollback.sql").rename(mounted)

    run = project.execute(
        TIMELINE,
        "--rollback-file",
        str(mounted),
        env={"MIGRATION_ROLLBACK_ACTOR": "alice@example.com"},
    )

    assert run.returncode == 0, run.stdout + run.stderr
    who = project.audit()[-1]["who"]
    assert who["actor"] == "alice@example.com"
    assert who["os_user"]


def test_a_bare_version_finds_its_rollback_file(project: Project) -> None:
    timeline_project(project)

    run = project.execute(TIMELINE.split("_")[0], "--dry-run")

    assert run.returncode == 0, run.stdout + run.stderr
    assert run.result is not None
    assert run.result["migrations"] == ["20251113000001"]
    assert len(run.result["statements"]) == 4
