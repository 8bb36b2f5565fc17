"""The statements a kept definition may hold: what the capture writes, nothing else."""

from __future__ import annotations

import pytest

from migration_rollback.runner.errors import PreconditionError
from migration_rollback.runner.kept_statements import kept_statement_kind, require_kept_statements

WRITTEN = [
    "CREATE OR REPLACE FUNCTION public.f(a integer DEFAULT 1) RETURNS integer LANGUAGE sql "
    "SECURITY DEFINER SET search_path TO 'pg_catalog' AS $function$ SELECT a $function$",
    "CREATE TRIGGER t BEFORE UPDATE ON public.items FOR EACH ROW EXECUTE FUNCTION public.f()",
    "CREATE POLICY p ON public.items AS RESTRICTIVE FOR SELECT TO PUBLIC USING ((id > 0))",
    "CREATE UNIQUE INDEX i ON public.items USING btree (lower(name)) WHERE (name IS NOT NULL)",
    "CREATE VIEW public.v WITH (security_invoker=true) AS SELECT 1 AS one",
    "COMMENT ON COLUMN public.v.one IS 'the one'",
    "ALTER TABLE public.items ENABLE ALWAYS TRIGGER t",
    "ALTER TABLE public.items DISABLE TRIGGER t",
    "ALTER TABLE public.items REPLICA IDENTITY USING INDEX i",
    "ALTER TABLE public.items CLUSTER ON i",
    "ALTER INDEX public.i ALTER COLUMN 1 SET STATISTICS 500",
    "DROP TRIGGER IF EXISTS t ON public.items",
    "DROP ROUTINE IF EXISTS public.f(integer)",
    "DROP INDEX IF EXISTS public.i",
]
NEVER_WRITTEN = [
    "GRANT ALL ON public.items TO PUBLIC",
    "ALTER FUNCTION public.f() OWNER TO someone",
    "ALTER TABLE public.items DROP COLUMN name",
    "ALTER TABLE public.items ENABLE TRIGGER t, DROP COLUMN name",
    "ALTER VIEW public.v RENAME TO w",
    "ALTER INDEX public.i RENAME TO j",
    "ALTER TABLE public.items ALTER COLUMN name SET STATISTICS 5",
    "DROP TABLE public.items",
    "DROP VIEW public.v CASCADE",
    "DROP INDEX CONCURRENTLY public.i",
    "CREATE INDEX CONCURRENTLY i ON public.items (name)",
    "CREATE OR REPLACE VIEW public.v AS SELECT 2 AS one",
    "DO $$ BEGIN PERFORM 1; END $$",
    "SELECT public.f()",
    "INSERT INTO public.items VALUES (1)",
    "COMMENT ON TRIGGER t ON public.items IS 'x'; DROP TABLE public.items",
    "CREATE TRIGGER (",
    "",
]


@pytest.mark.parametrize("text", WRITTEN)
def test_what_the_capture_writes_is_allowed(text: str) -> None:
    assert kept_statement_kind(text) is not None


@pytest.mark.parametrize("text", NEVER_WRITTEN)
def test_anything_else_is_refused(text: str) -> None:
    assert kept_statement_kind(text) is None


def test_refusal_names_the_object_and_not_the_statement() -> None:
    with pytest.raises(PreconditionError) as raised:
        require_kept_statements("drop-trigger t on public.items", [WRITTEN[1], "SELECT 'x'"])
    assert "drop-trigger t on public.items" in raised.value.message
    assert "statement 2" in raised.value.message
    assert "SELECT" not in raised.value.message
