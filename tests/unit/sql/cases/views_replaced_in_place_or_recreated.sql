-- CREATE OR REPLACE VIEW undone: an earlier text yielding the same columns is put back in place
-- (the view keeps its owner, comment, privileges and the views built on it); one the forward
-- added columns to is dropped and created again, with the owner, comment and privileges
-- earlier migrations gave it (the CREATE leaves them out).
-- history
create table public.t (id int, b int);
create view public.v as select id from public.t;
comment on view public.v is 'vc';
alter view public.v owner to r1;
grant select on public.v to reader;
create view public.w as select id, 'x' as tag from public.t where id > 0;
comment on view public.w is 'wc';
create view public.s as select * from public.t;
-- forward
create or replace view public.v as select id, b from public.t;
create or replace view public.w as select id, 'x' as tag from public.t where id > 1;
create or replace view public.s as select * from public.t where id > 1;
-- rollback
DROP VIEW IF EXISTS public.s;
create view public.s as select * from public.t;
CREATE OR REPLACE VIEW public.w AS SELECT id, 'x' AS tag FROM public.t WHERE id > 0;
DROP VIEW IF EXISTS public.v;
create view public.v as select id from public.t;
ALTER VIEW public.v OWNER TO r1;
COMMENT ON VIEW public.v IS 'vc';
GRANT SELECT ON TABLE public.v TO reader;
