"""`generate --verify` fills the undo of GRANT/REVOKE ... ON ALL <kind> IN SCHEMA object by
object from the shadow's before-state (verify/stateful/schema_grants.py): the static rule
leaves it MANUAL when some object of the schema held the privilege already (found on real
projects: `GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO authenticated`).
"""

from __future__ import annotations

import pytest
from verify_support import write_project

from migration_rollback.verify import GeneratedRollback, generate_verified

pytestmark = pytest.mark.integration

# Supabase's default privileges give anon and authenticated everything on what public gets:
# each GRANT below reaches objects that held the privilege already (the static rule's MANUAL).
SETUP = """
create table public.held (id int);
create table public.lacked (id int);
create view public.lacked_view as select id from public.lacked;
create sequence public.counter;
create function public.f() returns int language sql as 'select 1';
revoke all on public.lacked, public.lacked_view from anon, authenticated;
revoke select on public.held from authenticated;
grant select on public.held to authenticated with grant option;
revoke all on sequence public.counter from anon;
revoke execute on function public.f() from public, anon;
"""

CASES: list[tuple[str, str]] = [
    (
        "grant_tables",
        "grant select, insert on all tables in schema public to anon;\n"
        "grant select on all tables in schema public to authenticated with grant option;\n"
        "create table public.later (id int);\n",
    ),
    (
        "grant_all_sequences",
        "grant all on all sequences in schema public to anon, authenticated;\n",
    ),
    ("grant_functions", "grant execute on all functions in schema public to anon;\n"),
    # last: what the platform made, which the migrations do not tell
    ("revoke_schema", "revoke all on schema public from anon, authenticated;\n"),
    # PostgreSQL's own default (PUBLIC's EXECUTE on routines) revoked: the static undo
    (
        "revoke_builtin_default",
        "alter default privileges revoke execute on functions from public;\n",
    ),
    ("revoke_tables", "revoke select on all tables in schema public from anon;\n"),
    ("revoke_sequences", "revoke all on all sequences in schema public from authenticated;\n"),
]


@pytest.fixture(scope="module")
def generated(
    tmp_path_factory: pytest.TempPathFactory, pg_server: object
) -> dict[str, GeneratedRollback]:
    root = tmp_path_factory.mktemp("schema_grants")
    pairs = write_project(
        root, [("setup", SETUP, None), *((name, sql, None) for name, sql in CASES)]
    )
    out = generate_verified(pairs, str(pg_server.admin_url))  # type: ignore[attr-defined]
    return {g.migration.split("_", 1)[1]: g for g in out}


def _body(g: GeneratedRollback) -> str:
    return g.result.report() + "\n" + (g.sql_body or "")


@pytest.mark.parametrize("case", [name for name, _ in CASES])
def test_each_on_all_in_schema_undo_is_filled_and_verified(
    generated: dict[str, GeneratedRollback], case: str
) -> None:
    g = generated[case]
    assert g.result.status == "verified", _body(g)
    assert not g.still_manual, _body(g)


def test_a_schema_revoke_grants_back_what_was_held(
    generated: dict[str, GeneratedRollback],
) -> None:
    g = generated["revoke_schema"]
    assert [f.need for f in g.filled] == ["PRIOR_PRIVILEGES"], _body(g)
    assert "GRANT USAGE ON SCHEMA public TO anon" in (g.sql_body or "")
    assert "GRANT CREATE" not in (g.sql_body or "")


def test_only_what_was_lacked_is_revoked(generated: dict[str, GeneratedRollback]) -> None:
    body = generated["grant_tables"].sql_body or ""
    # anon held everything on public.held (the platform's default privileges): untouched
    assert "ON TABLE public.held FROM anon" not in body
    assert "REVOKE SELECT, INSERT ON TABLE public.lacked FROM anon" in body
    assert "REVOKE SELECT, INSERT ON TABLE public.lacked_view FROM anon" in body
    # authenticated held SELECT with the option on public.held: untouched there
    assert "ON TABLE public.held FROM authenticated" not in body
    assert "REVOKE SELECT ON TABLE public.lacked FROM authenticated" in body
    assert "public.later" not in body.split("state-aware", 1)[-1].replace("DROP TABLE", "")
