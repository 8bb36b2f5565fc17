"""Synthetic Supabase-style migrations for benchmarks: realistic statement mix, any count."""

from __future__ import annotations

import random
from pathlib import Path


def migration_sql(i: int, rng: random.Random) -> str:
    t = f"t{i:04d}"
    prev = f"t{max(i - 1, 0):04d}"
    parts = [
        f"create table public.{t} (\n  id bigint generated always as identity primary key,\n"
        f"  owner uuid not null references auth.users (id),\n  title text not null,\n"
        f"  body text,\n  score integer not null default 0 check (score >= 0),\n"
        f"  created_at timestamptz not null default now()\n);",
        f"create index idx_{t}_owner on public.{t} (owner, created_at desc);",
        f"alter table public.{t} enable row level security;",
        f'create policy "{t} readable" on public.{t} for select using (true);',
        f'create policy "{t} own rows" on public.{t} for insert to authenticated\n'
        f"  with check (auth.uid() = owner);",
        f"create or replace function public.{t}_count() returns bigint language sql stable\n"
        f"as $$ select count(*) from public.{t} $$;",
        f"grant select on public.{t} to anon, authenticated;",
        f"comment on table public.{t} is 'Synthetic table {i}';",
    ]
    if i > 0 and rng.random() < 0.5:
        parts.append(f"alter table public.{prev} add column extra_{i} text;")
    if i > 0 and rng.random() < 0.3:
        parts.append(f"create index concurrently idx_{prev}_title_{i} on public.{prev} (title);")
    if rng.random() < 0.2:
        parts.append(f"create type public.kind_{i} as enum ('a', 'b', 'c');")
    return "\n\n".join(parts) + "\n"


def write_project(directory: Path, count: int, seed: int = 7) -> list[Path]:
    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = directory / f"2025{i:010d}_synthetic_{i}.sql"
        path.write_text(migration_sql(i, rng))
        paths.append(path)
    return paths
