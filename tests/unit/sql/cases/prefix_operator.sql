-- forward
comment on operator - (none, int) is 'negation';
drop operator if exists public.~~~ (none, int);
-- manual
RECREATE_DROPPED PRIOR_DEFINITION
-- rollback
