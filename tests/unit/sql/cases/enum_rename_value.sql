-- forward
alter type public.mood rename value 'ok' to 'fine';
-- rollback
ALTER TYPE public.mood RENAME VALUE 'fine' TO 'ok';
