"""Settings, privileges and owners a migration changes on an extension's own objects, put back
by the repair from the round trip's differences, proven on a real PostgreSQL (a real project's
DO block ran `ALTER FUNCTION … SET search_path` over every function in `public`, pgvector's
included: the rollback left them changed, a `mismatch`).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from verify_support import assert_verified, generate_replays

from migration_rollback.verify import GeneratedRollback

pytestmark = pytest.mark.integration

BASE = """
create extension if not exists vector;
create function public.own_fn() returns int language sql as $f$ select 1 $f$;
alter function public.vector_out(public.vector) set search_path = "$user", public, extensions;
"""

MIGRATIONS: list[tuple[str, str]] = [
    (
        "settings_over_every_function",
        """
do $$
declare f text;
begin
  for f in select format('%I.%I(%s)', n.nspname, p.proname, oidvectortypes(p.proargtypes))
           from pg_proc p join pg_namespace n on p.pronamespace = n.oid
           where n.nspname = 'public' and p.prokind = 'f'  -- pgvector's avg/sum: aggregates
  loop
    execute 'alter function ' || f || ' set search_path = public';
  end loop;
end $$;
""",
    ),
    (
        # set statically (the generator's MANUAL step), then reset in a DO block
        "settings_set_then_reset",
        "alter function public.vector_out(public.vector) set work_mem = '8MB';\n"
        "do $$ begin execute 'alter function public.vector_out(public.vector) reset all'; "
        "end $$;\n",
    ),
    (
        "privileges_in_a_do_block",
        "do $$ begin\n"
        "  execute 'revoke all on function public.l2_distance(public.vector, public.vector) "
        "from public';\n"
        "  execute 'grant execute on function public.l2_distance(public.vector, public.vector) "
        "to anon';\n"
        "end $$;\n",
    ),
    (
        "owner_in_a_do_block",
        "do $$ begin execute 'alter function public.cosine_distance(public.vector, "
        "public.vector) owner to authenticated'; end $$;\n",
    ),
]


@pytest.fixture(scope="module")
def generated(
    tmp_path_factory: pytest.TempPathFactory, pg_server: object
) -> dict[str, GeneratedRollback]:
    root: Path = tmp_path_factory.mktemp("member_repairs")
    return generate_replays(root, BASE, MIGRATIONS, str(pg_server.admin_url))  # type: ignore[attr-defined]


@pytest.mark.parametrize("case", [name for name, _ in MIGRATIONS])
def test_rollback_is_verified(generated: dict[str, GeneratedRollback], case: str) -> None:
    assert_verified(generated[case])
    assert "vector" in generated[case].result.standins


def test_what_the_repairs_write(generated: dict[str, GeneratedRollback]) -> None:
    # a list setting: each element its own literal (one literal would be one schema)
    body = generated["settings_over_every_function"].sql_body or ""
    assert "ALTER FUNCTION public.vector_out(public.vector) RESET ALL" in body
    # (inside the guard's EXECUTE literal, so each quote doubled)
    assert "SET search_path TO ''$user'', ''public'', ''extensions''" in body
    assert "IF pg_catalog.to_regprocedure('public.vector_out(public.vector)') IS NOT NULL" in body
    body = generated["settings_set_then_reset"].sql_body or ""
    assert "vector_out(public.vector) SET search_path TO ''public''" in body
    body = generated["privileges_in_a_do_block"].sql_body or ""
    assert "REVOKE ALL ON FUNCTION public.l2_distance(public.vector,public.vector)" in body
    body = generated["owner_in_a_do_block"].sql_body or ""
    assert "OWNER TO postgres" in body
