-- Longer display names, a default bio, and a new role.
alter table public.profiles alter column display_name type varchar(120);
alter table public.profiles alter column bio set default '';
alter type public.account_role add value 'editor';
insert into public.app_settings (key, value) values ('max_bio_length', '500');
create index concurrently idx_profiles_username_lower on public.profiles (lower(username));
