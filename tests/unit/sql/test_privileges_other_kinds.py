"""GRANT and REVOKE on kinds of object whose privileges the generator does not follow
(a database, a language, a large object, a tablespace...): a GRANT undone by the statement
flipped, a REVOKE by a human (its flip, `GRANT ALL ON DATABASE postgres TO anon`, would give
what may never have been held), never a crash. Seen in a real project's first migration,
`revoke all privileges on database "postgres" from "anon"`, which made `generate` and
`validate` stop with an internal error."""

from __future__ import annotations

import pytest

from migration_rollback.sql import build_history, generate_rollback, parse_script

TARGETS = [
    'database "postgres"',
    "language plpgsql",
    "large object 1234",
    "tablespace pg_default",
    "foreign data wrapper postgres_fdw",
    "foreign server remote",
    "domain public.positive",
    "parameter work_mem",
    "all functions in schema public",
    "all sequences in schema public",
]
EARLIER = "create domain public.positive as int check (value > 0);"


UNFOLLOWED = TARGETS[:8]


def _undo(statement: str) -> tuple[str, object]:
    history = build_history([parse_script(EARLIER, "earlier.sql")])
    plan = generate_rollback(parse_script(statement + ";", "f.sql"), "f", history)
    (step,) = plan.steps
    return (step.sql or "").upper(), step.manual


@pytest.mark.parametrize("target", UNFOLLOWED)
def test_a_grant_is_undone_by_a_revoke(target: str) -> None:
    undo, need = _undo(f"grant all privileges on {target} to anon")
    assert need is None
    assert undo.startswith("REVOKE ALL"), undo


@pytest.mark.parametrize("target", UNFOLLOWED)
def test_a_revoke_on_an_unfollowed_kind_is_left_to_a_human(target: str) -> None:
    undo, need = _undo(f"revoke all on {target} from anon")
    assert undo == ""
    assert need is not None
    assert need.need == "PRIOR_PRIVILEGES"
    assert "GRANT ALL" in need.reason, need.reason


@pytest.mark.parametrize("target", TARGETS[8:])
def test_all_of_a_schema_never_crashes(target: str) -> None:
    for statement in (f"revoke all on {target} from anon", f"grant all on {target} to anon"):
        undo, need = _undo(statement)
        assert need is not None or undo.startswith(("GRANT", "REVOKE")), undo
