-- A new table's column changed to a type (enum, domain) the migration made after the table: the
-- rollback drops the type before the table, so the column lets go of it first (its values go
-- with the table anyway). A change to a built-in type: nothing to undo on a new table.
-- forward
create table public.orders (id int primary key, state text, qty int, note varchar(10));
create type public.order_state as enum ('open', 'paid');
alter table public.orders alter column state type public.order_state using state::public.order_state;
create domain public.positive as int check (value > 0);
alter table public.orders alter column qty type positive;
alter table public.orders alter column note type text;
-- rollback
ALTER TABLE public.orders DROP COLUMN IF EXISTS qty;
DROP DOMAIN IF EXISTS public.positive;
ALTER TABLE public.orders DROP COLUMN IF EXISTS state;
DROP TYPE IF EXISTS public.order_state;
DROP TABLE IF EXISTS public.orders;
