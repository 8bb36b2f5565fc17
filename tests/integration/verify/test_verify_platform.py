"""Supabase platform fidelity: stand-ins for extensions the shadow lacks, the platform baseline,
and a replay that goes on past a failed migration (issue 12). Real PostgreSQL, no mocks."""

from __future__ import annotations

from pathlib import Path

import pytest
from verify_support import explain, statuses, write_project

from migration_rollback.verify import MigrationPair, run_verification, verify_project

pytestmark = pytest.mark.integration

# A small Supabase-style project: every migration uses something plain PostgreSQL lacks.
PLATFORM_PROJECT: list[tuple[str, str, str | None]] = [
    (
        "extensions",
        """
        create extension if not exists pg_graphql with schema graphql;
        create extension if not exists pgjwt with schema extensions;
        create extension if not exists pg_jsonschema with schema extensions;
        create extension if not exists vector with schema extensions;
        create extension if not exists http with schema extensions;
        create extension if not exists pgmq with schema extensions;
        """,
        """
        drop extension if exists pgmq;
        drop extension if exists http;
        drop extension if exists vector;
        drop extension if exists pg_jsonschema;
        """,
    ),
    (
        "documents",
        """
        create table public.documents (
          id bigserial primary key,
          owner uuid not null default auth.uid() references auth.users (id) on delete cascade,
          body jsonb not null
            check (extensions.jsonb_matches_schema('{"type": "object"}', body)),
          embedding extensions.vector(1536)
        );
        create index documents_embedding_idx on public.documents
          using hnsw (embedding vector_cosine_ops) with (m = 16, ef_construction = 64);
        alter table public.documents enable row level security;
        create policy "own documents" on public.documents for all to authenticated
          using (owner = auth.uid()) with check (owner = auth.uid());
        grant select on public.documents to anon;
        grant all on public.documents to authenticated, service_role;
        create function public.nearest(query extensions.vector(1536), k integer)
          returns setof public.documents language sql stable
          as $$ select * from public.documents order by embedding <=> query limit k $$;
        """,
        "drop function if exists public.nearest(extensions.vector, integer);\n"
        "drop table if exists public.documents;\n",
    ),
    (
        "realtime",
        """
        create policy "room members listen" on realtime.messages for select to authenticated
          using (realtime.topic() = 'room:' || auth.uid()::text);
        create policy "room members send" on realtime.messages for insert to authenticated
          with check (realtime.topic() = 'room:' || auth.uid()::text);
        create function public.documents_broadcast() returns trigger
          language plpgsql security definer set search_path = ''
        as $$
        begin
          perform realtime.send(to_jsonb(new), 'changed', 'room:' || new.owner::text, true);
          perform realtime.broadcast_changes('documents', tg_op, tg_op, tg_table_name,
                                             tg_table_schema, new, old);
          return new;
        end
        $$;
        create trigger documents_broadcast after insert or update on public.documents
          for each row execute function public.documents_broadcast();
        select realtime.send('{"hello": "world"}'::jsonb, 'boot', 'system', false);
        """,
        """
        drop trigger if exists documents_broadcast on public.documents;
        drop function if exists public.documents_broadcast();
        drop policy if exists "room members send" on realtime.messages;
        drop policy if exists "room members listen" on realtime.messages;
        """,
    ),
    (
        "cron",
        """
        create extension if not exists pg_cron with schema pg_catalog;
        grant usage on schema cron to postgres;
        select cron.schedule('purge-documents', '0 3 * * *',
                             $$delete from public.documents where body = '{}'$$);
        """,
        "select cron.unschedule('purge-documents');\ndrop extension if exists pg_cron;\n",
    ),
    (
        "vault",
        """
        select vault.create_secret('s3cr3t', 'webhook_key', 'signs outgoing webhooks');
        create function public.webhook_key() returns text
          language sql stable security definer set search_path = ''
          as $$ select decrypted_secret from vault.decrypted_secrets where name = 'webhook_key' $$;
        revoke all on function public.webhook_key() from anon, authenticated;
        """,
        "drop function if exists public.webhook_key();\n"
        "delete from vault.secrets where name = 'webhook_key';\n",
    ),
    (
        "storage",
        """
        insert into storage.buckets (id, name, public) values ('avatars', 'avatars', false);
        create policy "own avatar folder" on storage.objects for select to authenticated
          using (bucket_id = 'avatars' and (storage.foldername(name))[1] = auth.uid()::text);
        create policy "upload own avatar" on storage.objects for insert to authenticated
          with check (bucket_id = 'avatars' and auth.uid()::text = (storage.foldername(name))[1]
                      and storage.extension(name) in ('png', 'jpg'));
        """,
        """
        drop policy if exists "upload own avatar" on storage.objects;
        drop policy if exists "own avatar folder" on storage.objects;
        delete from storage.buckets where id = 'avatars';
        """,
    ),
    (
        # pg_net enabled from the dashboard: no migration creates it.
        "webhook_requests",
        "create view public.pending_webhooks as\n"
        "  select id, url, method from net.http_request_queue;\n"
        "grant select on public.pending_webhooks to service_role;\n",
        "drop view if exists public.pending_webhooks;\n",
    ),
    (
        "queues",
        """
        select pgmq.create('jobs');
        grant select, insert, update, delete on pgmq.q_jobs to service_role;
        create function public.enqueue(job jsonb) returns bigint language sql
          as $$ select * from pgmq.send('jobs', job) $$;
        create function public.fetch_ip() returns integer language sql
          as $$ select (extensions.http_get('https://example.com')).status $$;
        create function public.service_token() returns text language sql
          as $$ select extensions.sign('{"role": "service_role"}'::json, 'secret') $$;
        comment on table public.documents is e'@graphql({"totalCount": {"enabled": true}})';
        """,
        """
        comment on table public.documents is null;
        drop function if exists public.service_token();
        drop function if exists public.fetch_ip();
        drop function if exists public.enqueue(jsonb);
        select pgmq.drop_queue('jobs');
        """,
    ),
]


def test_a_supabase_project_gets_a_verdict_for_every_migration(
    tmp_path: Path, shadow_url: str
) -> None:
    pairs = write_project(tmp_path, PLATFORM_PROJECT)
    run = run_verification(pairs, shadow_url)
    results = run.results
    assert statuses(results) == ["verified"] * len(PLATFORM_PROJECT), explain(results)
    by_name = {r.migration.split("_", 1)[1]: r for r in results}
    assert set(by_name["extensions"].standins) >= {"http", "pg_jsonschema", "pgmq", "vector"}
    assert "vector" in by_name["documents"].standins
    assert "pg_cron" in by_name["cron"].standins
    assert by_name["cron"].verdict.startswith("verified (stand-ins: ")
    assert "supabase_vault" in by_name["vault"].standins
    assert by_name["storage"].standins == []  # storage is the baseline's, not a stand-in
    assert "pg_net" in by_name["webhook_requests"].standins
    assert any("dashboard" in n for n in by_name["webhook_requests"].notes)
    assert {"pgmq", "http", "pgjwt"} <= set(by_name["queues"].standins)
    # The hnsw index was built as a btree on the shadow only, and the verdict says so.
    assert any("USING btree instead of hnsw" in n for n in by_name["documents"].notes)
    doc = by_name["cron"].to_json()
    assert doc["standins"] == by_name["cron"].standins
    assert doc["verdict"] == by_name["cron"].verdict
    assert run.drift == []


def test_stand_ins_honour_schema_if_not_exists_and_drop(tmp_path: Path, shadow_url: str) -> None:
    pairs = write_project(
        tmp_path,
        [
            (
                "schema_for_vector",
                "create schema ai;\ncreate extension vector with schema ai;\n"
                "create extension if not exists vector;\n"  # a notice, not an error
                "create table public.items (e ai.vector(3));\n",
                "drop table public.items;\ndrop extension vector;\ndrop schema ai;\n",
            ),
            (
                "twice",
                "create extension vector;\n",  # already there: the real error, 42710
                "select 1;\n",
            ),
            (
                "wrong_schema",
                "create extension pg_jsonschema with schema no_such_schema;\n",
                "select 1;\n",
            ),
            (
                # A rollback that leaves the stand-in installed is a mismatch, as with a real one.
                "leaves_it",
                "create extension pg_jsonschema with schema extensions;\n",
                "select 1;\n",
            ),
        ],
    )
    results = verify_project(pairs, shadow_url)
    assert statuses(results) == ["verified", "forward_failed", "forward_failed", "mismatch"], (
        explain(results)
    )
    assert results[0].standins == ["vector"]
    assert "already exists" in results[1].message
    assert 'schema "no_such_schema" does not exist' in results[2].message
    assert "extension pg_jsonschema" in results[3].report()


def test_a_change_inside_a_stand_in_is_never_verified(tmp_path: Path, shadow_url: str) -> None:
    pairs = write_project(
        tmp_path,
        [
            (
                "grant_vault",
                "grant select on vault.decrypted_secrets to authenticated;\n",
                "select 1;\n",  # forgets the revoke
            ),
            (
                "grant_vault_properly",
                "grant select on vault.secrets to authenticated;\n",
                "revoke select on vault.secrets from authenticated;\n",
            ),
        ],
    )
    results = verify_project(pairs, shadow_url)
    assert statuses(results) == ["mismatch", "verified"], explain(results)
    assert results[0].standins == ["supabase_vault"]
    assert any("vault.decrypted_secrets" in d.object.name for d in results[0].differences)
    assert results[1].verdict == "verified (stand-ins: supabase_vault)"


def test_a_member_change_the_text_does_not_name_is_still_found(
    tmp_path: Path, shadow_url: str
) -> None:
    """The member-state reads are skipped only for DDL that names what it changes (reach.py):
    a DO block, or a rollback that reaches a member after a plain forward, is still compared."""
    dynamic = "do $$ begin execute 'grant {} on ' || 'va' || 'ult.secrets to anon'; end $$;\n"
    pairs = write_project(
        tmp_path,
        [
            ("plain", "create table public.plain (id int);\n", "drop table public.plain;\n"),
            ("dynamic", dynamic.format("select"), "select 1;\n"),  # forgets the revoke
            (
                "plain_forward",
                "create table public.other (id int);\n",
                "drop table public.other;\n" + dynamic.format("update"),  # reaches a member
            ),
        ],
    )
    results = verify_project(pairs, shadow_url)
    assert statuses(results) == ["verified", "mismatch", "mismatch"], explain(results)
    for result in results[1:]:
        assert any("vault.secrets" in d.object.name for d in result.differences)


def test_a_migrations_event_trigger_makes_every_later_migration_compare_members(
    tmp_path: Path, shadow_url: str
) -> None:
    """DDL that names nothing of a stand-in still runs the event triggers a migration made."""
    trigger = (
        "create function public.on_ddl() returns event_trigger language plpgsql as $$\n"
        "begin execute 'grant delete on ' || 'va' || 'ult.secrets to anon'; end $$;\n"
        "create event trigger on_ddl on ddl_command_end when tag in ('CREATE TABLE')\n"
        "  execute function public.on_ddl();\n"
    )
    pairs = write_project(
        tmp_path,
        [
            ("trigger", trigger, "drop event trigger on_ddl;\ndrop function public.on_ddl();\n"),
            ("plain", "create table public.plain (id int);\n", "drop table public.plain;\n"),
        ],
    )
    results = verify_project(pairs, shadow_url)
    assert statuses(results) == ["verified", "mismatch"], explain(results)
    assert any("vault.secrets" in d.object.name for d in results[1].differences)


BROKEN_PROJECT: list[tuple[str, str, str | None]] = [
    ("accounts", "create table public.accounts (id bigint primary key);\n",
     "drop table public.accounts;\n"),
    (
        "broken_orders",
        "create table public.orders (\n"
        "  id bigint primary key,\n"
        "  account_id bigint references public.accounts (id)\n"
        ");\n"
        "create table public.order_items (order_id bigint references public.gone (id));\n",
        "drop table public.orders;\n",
    ),  # no table public.gone: the second statement fails (the first is replayed alone)
    ("unrelated", "create table public.tags (id int);\n", "drop table public.tags;\n"),
    (
        "order_items_index",
        "create index order_items_idx on public.order_items (order_id);\n",
        "drop index public.order_items_idx;\n",
    ),
    ("postgis", "create extension if not exists postgis with schema extensions;\n",
     "drop extension if exists postgis;\n"),
    ("audit_grant", "grant select on auth.audit_trail to service_role;\n", "select 1;\n"),
    ("later", "create table public.later (id int);\n", "drop table public.later;\n"),
]  # fmt: skip


def test_a_broken_migration_in_the_middle_does_not_end_the_verdicts(
    tmp_path: Path, shadow_url: str
) -> None:
    pairs: list[MigrationPair] = write_project(tmp_path, BROKEN_PROJECT)
    run = run_verification(pairs, shadow_url)
    results = run.results
    assert statuses(results) == [
        "verified", "forward_failed", "verified", "forward_failed", "forward_failed",
        "forward_failed", "verified",
    ], explain(results)  # fmt: skip
    broken, dependent = results[1], results[3]
    assert broken.cause is not None
    assert broken.cause.kind == "migration_error"
    assert broken.location is not None
    assert "broken_orders.sql:5:" in broken.location
    assert dependent.cause is not None
    assert dependent.cause.kind == "depends_on"
    assert dependent.depends_on == broken.migration
    assert f"depends on {broken.migration}" in dependent.report()
    assert dependent.to_json()["depends_on"] == broken.migration
    assert results[4].cause is not None
    assert results[4].cause.kind == "missing_extension"
    assert results[4].cause.subject == "postgis"
    assert results[5].cause is not None
    assert results[5].cause.kind == "missing_platform_object"
    assert "skipped" not in statuses(results)
    assert run.drift == []  # the failed ones left nothing behind


def test_if_not_exists_index_of_a_stand_in_method_is_built(tmp_path: Path, shadow_url: str) -> None:
    # apply keeps whether an IF NOT EXISTS index's name was taken, and used to run the
    # statement itself, bypassing the stand-in's rewrite of hnsw/ivfflat (SalonTalk-AI).
    pairs = write_project(
        tmp_path,
        [
            (
                "vectors",
                "create extension if not exists vector with schema extensions;\n"
                "create table public.voices (id int, e extensions.vector(3));\n",
                "drop table public.voices;\ndrop extension vector;\n",
            ),
            (
                "hnsw_if_not_exists",
                "create index if not exists voices_hnsw on public.voices\n"
                "  using hnsw (e extensions.vector_cosine_ops) with (m = 16);\n"
                "create index if not exists voices_ivf on public.voices\n"
                "  using ivfflat (e extensions.vector_l2_ops) where id > 0;\n",
                "drop index if exists public.voices_ivf;\n"
                "drop index if exists public.voices_hnsw;\n",
            ),
        ],
    )
    results = verify_project(pairs, shadow_url)
    assert statuses(results) == ["verified", "verified"], explain(results)
    assert any("USING btree instead of hnsw" in n for n in results[1].notes)
    assert any("USING btree instead of ivfflat" in n for n in results[1].notes)
