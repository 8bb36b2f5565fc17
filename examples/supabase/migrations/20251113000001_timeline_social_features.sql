-- Likes and comments on timeline events.
create table public.timeline_likes (
  event_id bigint not null references public.timeline_events (id) on delete cascade,
  user_id uuid not null references public.profiles (id) on delete cascade,
  created_at timestamptz not null default now(),
  primary key (event_id, user_id)
);

create table public.timeline_comments (
  id bigint generated always as identity primary key,
  event_id bigint not null references public.timeline_events (id) on delete cascade,
  author_id uuid not null references public.profiles (id),
  body text not null check (char_length(body) <= 2000),
  created_at timestamptz not null default now()
);

create index idx_timeline_likes_event on public.timeline_likes (event_id);
create index idx_timeline_comments_event on public.timeline_comments (event_id, created_at);

alter table public.timeline_events add column like_count integer not null default 0;

alter table public.timeline_likes enable row level security;
alter table public.timeline_comments enable row level security;

create policy "Likes are public" on public.timeline_likes for select using (true);
create policy "Users like as themselves" on public.timeline_likes
  for insert to authenticated with check (auth.uid() = user_id);
create policy "Users unlike their likes" on public.timeline_likes
  for delete to authenticated using (auth.uid() = user_id);
create policy "Comments are public" on public.timeline_comments for select using (true);

create function public.bump_like_count()
returns trigger
language plpgsql
as $$
begin
  if tg_op = 'INSERT' then
    update public.timeline_events set like_count = like_count + 1 where id = new.event_id;
  elsif tg_op = 'DELETE' then
    update public.timeline_events set like_count = like_count - 1 where id = old.event_id;
  end if;
  return null;
end;
$$;

create trigger timeline_likes_count
  after insert or delete on public.timeline_likes
  for each row execute function public.bump_like_count();

grant select, insert, delete on public.timeline_likes to authenticated;
grant select on public.timeline_comments to anon, authenticated;

alter publication supabase_realtime add table public.timeline_likes;

update public.app_settings set value = 'true' where key = 'timeline_enabled';
