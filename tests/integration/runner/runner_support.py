"""Helpers for the runner's integration tests: a Supabase-style project on a real database.

`project.add(...)` writes a forward migration and its rollback into `supabase/migrations`,
applies the forward SQL and records it in `supabase_migrations.schema_migrations`, as
`supabase db push` would; `project.execute(...)` runs `migration-rollback execute` in a
subprocess exactly as the Job does (URL in the environment) and returns what it printed.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

HISTORY_DDL = """
CREATE SCHEMA IF NOT EXISTS supabase_migrations;
CREATE TABLE IF NOT EXISTS supabase_migrations.schema_migrations (
  version text PRIMARY KEY, statements text[], name text);
"""


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    result: dict[str, Any] | None
    report: str | None

    @property
    def steps(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stderr.splitlines() if line.startswith("{")]

    def step(self, name: str) -> dict[str, Any]:
        return next(s for s in self.steps if s.get("step") == name)

    def everything(self) -> str:
        return "\n".join(
            [self.stdout, self.stderr, json.dumps(self.result or {}), self.report or ""]
        )


class Project:
    def __init__(self, root: Path, url: str) -> None:
        self.root = root
        self.url = url
        self.migrations = root / "supabase" / "migrations"
        self.migrations.mkdir(parents=True)
        self.sql(HISTORY_DDL)

    def sql(self, query: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.url, autocommit=True) as conn:
            cur = conn.execute(query, params)
            return cur.fetchall() if cur.description else []

    def value(self, query: str, params: Sequence[Any] | None = None) -> Any:
        rows = self.sql(query, params)
        return rows[0][0] if rows else None

    def add(
        self,
        name: str,
        forward: str,
        rollback: str,
        *,
        apply: bool = True,
        header: bool = True,
    ) -> Path:
        """Write `<name>.sql` and `<name>_rollback.sql`; apply and record the forward one."""
        forward_path = self.migrations / f"{name}.sql"
        forward_path.write_text(forward)
        lines = []
        if header:
            digest = hashlib.sha256(forward_path.read_bytes()).hexdigest()
            lines = [
                f"-- ROLLBACK: {name}",
                "-- Generated: 2025-11-13T00:00:00Z",
                f"-- Source: {name}.sql",
                f"-- Source-SHA256: {digest}",
                "",
            ]
        rollback_path = self.migrations / f"{name}_rollback.sql"
        rollback_path.write_text("\n".join(lines) + rollback)
        if apply:
            self.sql(forward)
            self.record(name)
        return rollback_path

    def record(self, name: str) -> None:
        version = name.split("_", 1)[0]
        self.sql(
            "INSERT INTO supabase_migrations.schema_migrations (version, name) VALUES (%s, %s)",
            [version, name.split("_", 1)[1]],
        )

    def versions(self) -> list[str]:
        rows = self.sql("SELECT version FROM supabase_migrations.schema_migrations ORDER BY 1")
        return [r[0] for r in rows]

    def audit(self) -> list[dict[str, Any]]:
        rows = self.sql("SELECT to_jsonb(a) FROM migration_rollback.audit_log a ORDER BY id")
        return [r[0] for r in rows]

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "migration_rollback", "execute", *args]

    def environment(
        self, url: str | None = None, extra: dict[str, str] | None = None
    ) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATION_ROLLBACK_")}
        env["MIGRATION_ROLLBACK_DATABASE_URL"] = url or self.url
        env.update(extra or {})
        return env

    def start(
        self,
        *args: str,
        url: str | None = None,
        env: dict[str, str] | None = None,
        tag: str = "run",
    ) -> subprocess.Popen[str]:
        """Start the CLI in the background (for concurrency and fault tests)."""
        result = self.root / f"{tag}.result.json"
        return subprocess.Popen(
            self.command(*args, "--result-file", str(result)),
            cwd=self.root,
            env=self.environment(url, env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def finish(self, proc: subprocess.Popen[str], tag: str = "run", timeout: float = 120) -> Run:
        stdout, stderr = proc.communicate(timeout=timeout)
        return self._run(proc.returncode, stdout, stderr, tag)

    def execute(
        self,
        *args: str,
        url: str | None = None,
        env: dict[str, str] | None = None,
        tag: str = "run",
        timeout: float = 120,
    ) -> Run:
        result = self.root / f"{tag}.result.json"
        report = self.root / f"{tag}.report.md"
        for path in (result, report):
            path.unlink(missing_ok=True)
        proc = subprocess.run(
            self.command(*args, "--result-file", str(result), "--report", str(report)),
            cwd=self.root,
            env=self.environment(url, env),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return self._run(proc.returncode, proc.stdout, proc.stderr, tag)

    def _run(self, code: int, stdout: str, stderr: str, tag: str) -> Run:
        result_path = self.root / f"{tag}.result.json"
        report_path = self.root / f"{tag}.report.md"
        result = None
        if result_path.exists():
            raw = result_path.read_bytes()
            # The operator reads it from the termination message: Kubernetes keeps 4096 bytes.
            assert len(raw) <= 4096, f"result file is {len(raw)} bytes"
            result = json.loads(raw)
        report = report_path.read_text() if report_path.exists() else None
        return Run(code, stdout, stderr, result, report)


def schema_fingerprint(url: str) -> list[tuple[Any, ...]]:
    """Every user-visible catalog fact that a rollback could change, plus row counts."""
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            """
            SELECT 'rel', n.nspname, c.relname, c.relkind::text, c.oid::text,
                   coalesce((SELECT string_agg(a.attname || ':'
                                              || format_type(a.atttypid, a.atttypmod)
                                              || ':' || a.attnotnull, ',' ORDER BY a.attnum)
                             FROM pg_attribute a
                             WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '')
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname NOT IN
              ('pg_catalog', 'information_schema', 'pg_toast', 'migration_rollback')
            UNION ALL
            SELECT 'con', conrelid::regclass::text, conname, contype::text, oid::text,
                   pg_get_constraintdef(oid)
            FROM pg_constraint WHERE connamespace NOT IN
              (SELECT oid FROM pg_namespace
               WHERE nspname IN ('pg_catalog', 'information_schema', 'migration_rollback'))
            UNION ALL
            SELECT 'proc', pronamespace::regnamespace::text, proname, prokind::text, oid::text,
                   md5(prosrc)
            FROM pg_proc WHERE pronamespace NOT IN
              (SELECT oid FROM pg_namespace WHERE nspname IN ('pg_catalog', 'information_schema'))
            UNION ALL
            SELECT 'trg', tgrelid::regclass::text, tgname, '', oid::text, ''
            FROM pg_trigger WHERE NOT tgisinternal
            UNION ALL
            SELECT 'nsp', nspname, '', '', oid::text, '' FROM pg_namespace
            WHERE nspname NOT LIKE 'pg_%' AND nspname <> 'migration_rollback'
            ORDER BY 1, 2, 3
            """
        ).fetchall()
        counts = []
        for schema, name in conn.execute(
            """
            SELECT n.nspname, c.relname
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind = 'r' AND n.nspname NOT IN
              ('pg_catalog', 'information_schema', 'pg_toast', 'migration_rollback')
            ORDER BY 1, 2
            """
        ).fetchall():
            row = conn.execute(
                sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, name))
            ).fetchone()
            counts.append(("rows", schema, name, "", "", str(row[0] if row else None)))
    return rows + counts


# --- scenarios ---------------------------------------------------------------------------

BASE = "20251101000000_base"
BASE_SQL = """
CREATE TABLE public.profiles (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL);
CREATE TABLE public.events (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, title text NOT NULL);
"""
BASE_ROLLBACK = """DROP TABLE IF EXISTS public.events;
DROP TABLE IF EXISTS public.profiles;
"""

TIMELINE = "20251113000001_timeline_social_features"
TIMELINE_SQL = """
CREATE TABLE public.timeline_likes (
  id bigserial PRIMARY KEY,
  event_id bigint NOT NULL REFERENCES public.events(id) ON DELETE RESTRICT,
  profile_id bigint REFERENCES public.profiles(id),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_timeline_likes_event ON public.timeline_likes(event_id);
ALTER TABLE public.profiles ADD COLUMN bio text;
CREATE FUNCTION public.like_count(e bigint) RETURNS bigint LANGUAGE sql
  AS $$ SELECT count(*) FROM public.timeline_likes WHERE event_id = e $$;
"""
TIMELINE_ROLLBACK = """BEGIN;
DROP FUNCTION IF EXISTS public.like_count(bigint);
DROP INDEX IF EXISTS public.idx_timeline_likes_event;
DROP TABLE IF EXISTS public.timeline_likes CASCADE;
ALTER TABLE public.profiles DROP COLUMN IF EXISTS bio;
COMMIT;
"""

SEED_DATA = """
INSERT INTO public.profiles (name, bio) VALUES ('ada', 'math'), ('grace', 'navy'), ('linus', NULL);
INSERT INTO public.events (title) VALUES ('launch'), ('party');
INSERT INTO public.timeline_likes (event_id, profile_id) VALUES (1, 1), (1, 2), (2, 3);
"""


def timeline_project(project: Project) -> None:
    """Base + timeline migrations applied, with data in every table."""
    project.add(BASE, BASE_SQL, BASE_ROLLBACK)
    project.add(TIMELINE, TIMELINE_SQL, TIMELINE_ROLLBACK)
    project.sql(SEED_DATA)


@contextmanager
def lock_held(database_url: str, locked: str) -> Iterator[psycopg.Connection[Any]]:
    """A session in a transaction with a 300 ms statement_timeout while another holds table
    `locked` in ACCESS EXCLUSIVE mode: a statement that needs it there is cancelled. Tables
    `locked`, `counted` and its inheritance child `counted_child` (count(*) of the parent
    reads the child) are made first."""
    with (
        psycopg.connect(database_url, autocommit=True) as holder,
        psycopg.connect(database_url, autocommit=True) as conn,
    ):
        holder.execute("CREATE TABLE locked (id int)")
        holder.execute("CREATE TABLE counted (id int)")
        holder.execute("CREATE TABLE counted_child () INHERITS (counted)")
        holder.execute("BEGIN")
        lock = sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(sql.Identifier(locked))
        holder.execute(lock)
        conn.execute("BEGIN")
        conn.execute("SET LOCAL statement_timeout = '300ms'")
        yield conn
        conn.execute("ROLLBACK")
        holder.execute("ROLLBACK")
