"""A migration that deallocates the session's prepared statements still verifies.

The verifier's catalog reads (and the archive's, runner/prepared.py) are prepared once per
session. A migration or rollback running DEALLOCATE ALL (or DEALLOCATE PREPARE ALL) dropped them
on the server while the verifier still counted them as prepared: the next read failed with
'prepared statement "_mr_..." does not exist' and the replay stopped. After such a statement,
what the server no longer holds is prepared again.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from verify_support import explain, statuses, write_project

from migration_rollback.verify import run_verification, verify_project

pytestmark = pytest.mark.integration

TABLE_A = "create table public.a (id int primary key);\n"
DROP_A = "drop table if exists public.a;\n"
TABLE_B = "create table public.b (id int primary key, note text);\n"
DROP_B = "drop table if exists public.b;\n"
TABLE_C = "create table public.c (id int primary key);\ncreate index c_id on public.c (id);\n"
DROP_C = "drop table if exists public.c;\n"


@pytest.mark.parametrize("statement", ["deallocate all;\n", "deallocate prepare all;\n"])
@pytest.mark.parametrize("where", ["forward", "rollback"])
def test_a_deallocating_migration_verifies(
    tmp_path: Path, shadow_url: str, statement: str, where: str
) -> None:
    forward_b = statement + TABLE_B if where == "forward" else TABLE_B
    rollback_b = statement + DROP_B if where == "rollback" else DROP_B
    migrations = [
        ("a", TABLE_A, DROP_A),  # its rollback archives a table: the archive's reads prepared
        ("b", forward_b, rollback_b),
        ("c", TABLE_C, DROP_C),  # every read again, after the deallocation
    ]

    results = verify_project(write_project(tmp_path, migrations), shadow_url)

    assert statuses(results) == ["verified"] * 3, explain(results)


# Not seen from the statement's kind: the verifier's read finds its statement gone, and the
# migration's trip runs again, each statement alone with the reads prepared again after it.
IN_CODE = {
    "do": "do $$ begin execute 'deallocate all'; end $$;\n",
    "function": (
        "create function public.f() returns void language plpgsql "
        "as $$ begin execute 'deallocate all'; end $$;\nselect public.f();\n"
        "drop function public.f();\n"
    ),
}


@pytest.mark.parametrize("code", sorted(IN_CODE))
@pytest.mark.parametrize("where", ["forward", "rollback"])
def test_a_deallocation_inside_code_verifies(
    tmp_path: Path, shadow_url: str, code: str, where: str
) -> None:
    statement = IN_CODE[code]
    forward_b = statement + TABLE_B if where == "forward" else TABLE_B
    rollback_b = statement + DROP_B if where == "rollback" else DROP_B
    migrations = [("a", TABLE_A, DROP_A), ("b", forward_b, rollback_b), ("c", TABLE_C, DROP_C)]

    results = verify_project(write_project(tmp_path, migrations), shadow_url)

    assert statuses(results) == ["verified"] * 3, explain(results)


def test_a_discard_of_the_verifiers_temporary_tables_is_a_clean_failure(
    tmp_path: Path, shadow_url: str
) -> None:
    forward_b = "discard temp;\n" + TABLE_B
    migrations = [("a", TABLE_A, DROP_A), ("b", forward_b, DROP_B), ("c", TABLE_C, DROP_C)]

    results = verify_project(write_project(tmp_path, migrations), shadow_url)

    assert statuses(results) == ["verified", "forward_failed", "verified"], explain(results)
    failed = results[1]
    assert failed.message.startswith("the verifier's own catalog read failed"), failed.message
    assert "`discard temp` at" in failed.message, failed.message


def test_a_rollback_discarding_temporary_objects_is_refused_as_execute_refuses_it(
    tmp_path: Path, shadow_url: str
) -> None:
    """execute refuses it (it would drop the runner's own temporary objects mid-run:
    sql/session_state.py), so the shadow never runs it and never calls it verified."""
    rollback_b = "discard temp;\n" + DROP_B
    migrations = [("a", TABLE_A, DROP_A), ("b", TABLE_B, rollback_b), ("c", TABLE_C, DROP_C)]

    results = verify_project(write_project(tmp_path, migrations), shadow_url)

    assert statuses(results) == ["verified", "rollback_failed", "verified"], explain(results)
    failed = results[1]
    assert failed.message.startswith("execute refuses it: "), failed.message
    assert "'discard temp': DISCARD TEMP changes the session's temporary objects" in failed.message


def test_a_commit_that_fails_leaves_the_model_what_is_committed(
    tmp_path: Path, shadow_url: str
) -> None:
    """The kept model is changed before the commit's batch is sent; when the batch fails (here
    the refs' mirror refuses a write: the migration put a constraint on it), the fresh session
    reads the model again from what is committed, and the replay goes on without drift."""
    refuse = (
        "alter table pg_temp._mr_refs\n"
        "  add constraint mr_refuse check (category <> 'rel') not valid;\n"
    )
    migrations = [("a", TABLE_A, DROP_A), ("b", TABLE_B + refuse, DROP_B), ("c", TABLE_C, DROP_C)]

    run = run_verification(write_project(tmp_path, migrations), shadow_url)

    assert statuses(run.results) == ["verified", "forward_failed", "verified"], explain(run.results)
    assert run.drift == []
