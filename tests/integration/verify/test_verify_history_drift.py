"""Rollbacks whose earlier state the history had wrong, run on a real PostgreSQL.

Each case was found on a real project: a rollback marked valid (no MANUAL item) that did not
restore the schema, or failed. The history now follows what happened (a DROP ... CASCADE, a
name PostgreSQL chose, an index a constraint took over, a routine renamed or named with and
without `public.`), or leaves the undo to a human where it cannot know.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from verify_support import explain, statuses, write_project

from migration_rollback.sql import build_history, parse_script
from migration_rollback.sql.generator import generate_rollback
from migration_rollback.verify import run_verification

pytestmark = pytest.mark.integration

EARLIER = """
create type public.perm as enum ('a', 'b');
create table public.t (id int primary key, p public.perm, slug text, u int, e int);
create or replace function public.auth(x public.perm) returns bool language sql stable
  as $$ select true $$;
create policy "by perm" on public.t for select using (public.auth('a'::public.perm));
create policy "by id" on public.t for select using (id > 0);
create unique index t_slug_idx on public.t (slug) where slug is not null;
create unique index t_u_e_idx on public.t using btree (u, e);
alter table public.t add constraint t_u_e_key unique using index t_u_e_idx;
alter table public.t add check (e > 0);
create function public.f() returns trigger language plpgsql as $$ begin return new; end $$;
create trigger t_f before insert on public.t for each row execute function public.f();
alter function public.f() rename to trigger_f;
do $$ begin
  alter type public.perm rename to perm_old;
  create type public.perm as enum ('a');
  drop type public.perm_old cascade;
end $$;
"""
# Each forward is verified on its own, after EARLIER and the forwards before it.
FORWARDS = [
    # The policies the cascade took, restored: the rollback must not recreate them.
    """
    create or replace function public.auth(x perm) returns bool language sql stable
      as $$ select true $$;
    drop policy if exists "by perm" on public.t;
    create policy "by perm" on public.t for select using (public.auth('a'::perm));
    """,
    "create index on public.t (slug);",
    "alter table public.t drop constraint t_u_e_key;",
    "alter table public.t add check (e < 100), add check (e <> 5);",
    # A routine renamed earlier, replaced: it existed (its trigger uses it), not new.
    """
    create or replace function public.trigger_f() returns trigger language plpgsql
      as $$ begin new.id := new.id; return new; end $$;
    """,
]


def test_rollbacks_restore_or_leave_it_to_a_human(tmp_path: Path, shadow_url: str) -> None:
    migrations: list[tuple[str, str, str | None]] = [("earlier", EARLIER, None)]
    for n, forward in enumerate(FORWARDS):
        history = build_history(
            [parse_script(text, f"{title}.sql") for title, text, _ in migrations]
        )
        plan = generate_rollback(parse_script(forward, f"f{n}.sql"), f"f{n}", history)
        migrations.append((f"f{n}", forward, plan.render_body()))
    run = run_verification(write_project(tmp_path, migrations), shadow_url)
    rollbacks = "\n".join(str(r) for _, _, r in migrations)
    # The policy the cascade took, and the renamed routine's earlier body, are the human's
    # to restore from the migrations (MANUAL items); what apply kept answers both: the policy
    # was absent, the routine's body is put back as it was.
    expected = ["verified", "verified", "verified", "verified", "verified"]
    assert statuses(run.results)[1:] == expected, explain(run.results) + "\n" + rollbacks
    for answered in (run.results[1], run.results[-1]):
        assert answered.restored, answered.report()
    assert "MANUAL" in str(migrations[1][2])
    assert "MANUAL" in str(migrations[-1][2])
