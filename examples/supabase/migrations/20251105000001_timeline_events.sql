create table public.timeline_events (
  id bigint generated always as identity primary key,
  author_id uuid not null references public.profiles (id) on delete cascade,
  title text not null,
  body text,
  created_at timestamptz not null default now()
);

create index idx_timeline_events_author on public.timeline_events (author_id, created_at desc);

alter table public.timeline_events enable row level security;

create policy "Timeline is public" on public.timeline_events for select using (true);

create policy "Authors write their events" on public.timeline_events
  for insert to authenticated with check (auth.uid() = author_id);

create or replace function public.recent_events(max_rows integer default 50)
returns setof public.timeline_events
language sql stable
as $$
  select * from public.timeline_events order by created_at desc limit max_rows;
$$;

comment on table public.timeline_events is 'Things that happened, newest first.';
