"""One CASCADE rule for validate and execute: CASCADE on a statement or on any subcommand of an
ALTER TABLE / ALTER TYPE (`DROP COLUMN c CASCADE` takes the views and policies reading it)."""

from __future__ import annotations

from migration_rollback.sql import parse_script
from migration_rollback.sql.cascades import ALLOW_CASCADE_MARK, unmarked_cascades

TEXT = (
    "alter table t drop column c cascade;\n"
    "alter table t drop constraint k cascade;\n"
    "alter type e drop attribute a cascade;\n"
    "truncate t cascade;\n"
    "drop table x cascade;\n"
    "alter domain d drop constraint dc cascade;\n"
    "alter table t drop column d, drop column e;\n"
    "drop table y;\n"
)


def test_every_cascade_is_found_and_only_those() -> None:
    found = unmarked_cascades(parse_script(TEXT, "r.sql"), TEXT)
    assert [st.location.line for st in found] == [1, 2, 3, 4, 5, 6]


def test_the_mark_allows_them() -> None:
    marked = f"{ALLOW_CASCADE_MARK}\n{TEXT}"
    assert unmarked_cascades(parse_script(marked, "r.sql"), marked) == []
