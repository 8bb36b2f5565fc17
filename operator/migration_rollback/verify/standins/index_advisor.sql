-- stand-in: index_advisor
-- version: 0.2.0
-- schema: current
-- follows: supabase/index_advisor 0.2 (its real dependency hypopg is not required here)
--
-- index_advisor(query) with its real result columns; it never advises anything.
CREATE FUNCTION @extschema@.index_advisor(query text)
  RETURNS TABLE(startup_cost_before jsonb, startup_cost_after jsonb, total_cost_before jsonb,
                total_cost_after jsonb, index_statements text[], errors text[])
  LANGUAGE sql VOLATILE
AS $$ SELECT NULL::jsonb, NULL::jsonb, NULL::jsonb, NULL::jsonb, '{}'::text[], '{}'::text[] $$;
