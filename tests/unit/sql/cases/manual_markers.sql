-- forward
update public.t set a = 1;
delete from public.t where a = 2;
do $$ begin perform 1; end $$;
alter type public.mood add value 'happy';
alter table public.t alter column a type bigint;
drop table public.legacy;
-- manual
RECREATE_DROPPED PRIOR_COLUMN_TYPE ENUM_VALUE DYNAMIC DATA_CHANGE DATA_CHANGE
-- rollback
