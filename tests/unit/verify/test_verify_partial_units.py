"""Pure parts of going on past a failed forward migration and of the stand-ins the corpus
needed: what a partial replay's skipped statements would have created, the note later verdicts
carry, and the new stand-in files' headers."""

from __future__ import annotations

from typing import Any, cast

import pytest

from migration_rollback.sql import Script, parse_script
from migration_rollback.verify.lenient import lenient_statements
from migration_rollback.verify.replay_support import would_create
from migration_rollback.verify.replayer import Replayer
from migration_rollback.verify.standins import CURRENT_SCHEMA, standin, standin_names
from migration_rollback.verify.verdict import VerifyResult


def test_only_the_skipped_statements_count_as_not_created() -> None:
    script = parse_script(
        "create table public.kept (id int);\n"
        "create table public.lost (id int references public.nowhere (id));\n",
        "m.sql",
    )
    skipped = Script(script.source, script.statements[1:])
    assert would_create(skipped) == frozenset({"lost", "public.lost"})


def _replayer() -> Replayer:
    return Replayer(cast("Any", None))  # no database: only the bookkeeping is used


def test_later_verdicts_name_the_partial_replays_they_ran_after() -> None:
    replayer = _replayer()
    result = VerifyResult("m2", "verified")
    replayer._note_partial(result)
    assert result.notes == []
    replayer.partial = ["a", "b", "c", "d", "e"]
    replayer._note_partial(result)
    assert result.notes == [
        "ran after a partial replay of c, d, e and 2 more: their failing statements were "
        "skipped, the rest applied"
    ]


def test_skipped_statements_are_in_the_json() -> None:
    result = VerifyResult("m", "forward_failed", skipped_statements=["m.sql:2:1: boom"])
    assert result.to_json()["skipped_statements"] == ["m.sql:2:1: boom"]


@pytest.mark.parametrize(
    ("name", "schema"),
    [
        ("hypopg", CURRENT_SCHEMA),
        ("pg_hashids", CURRENT_SCHEMA),
        ("plpgsql_check", CURRENT_SCHEMA),
        ("plv8", "pg_catalog"),
    ],
)
def test_new_stand_ins_are_registered(name: str, schema: str) -> None:
    assert name in standin_names()
    found = standin(name)
    assert found is not None
    assert found.name == name
    assert found.schema == schema
    assert found.follows
    parse_script(found.script("extensions"), f"{name}.sql")  # the body parses


def test_wrappers_validators_return_void_not_null() -> None:
    found = standin("wrappers")
    assert found is not None
    assert "LANGUAGE plpgsql STRICT AS %L', w || '_fdw_validator', 'BEGIN END'" in found.body


def test_a_file_that_does_not_parse_is_cut_into_the_pieces_that_do() -> None:
    text = (
        "-- head\n"
        "create table a (id int);\n"
        'CREATE POLICY IF NOT EXISTS "p" ON a FOR SELECT USING (true);\n'
        "create function f() returns int language plpgsql as $$ begin return 1; end $$;\n"
        "  RAISE NOTICE 'x; é';  create table b (id int);\n"
        "create rule r as on insert to a do also (insert into a values (1); select 2);\n"
    )
    statements, unparsed = lenient_statements(text, "m.sql")
    assert [str(st.location) for st in statements] == ["m.sql:2:1", "m.sql:4:1", "m.sql:5:25",
                                                       "m.sql:6:1"]  # fmt: skip
    assert [st.index for st in statements] == [0, 1, 2, 3]
    assert statements[2].text == "create table b (id int)"
    assert unparsed == [
        'm.sql:3:18: does not parse: syntax error at or near "NOT"',
        'm.sql:5:3: does not parse: syntax error at or near "RAISE"',
    ]


def test_an_unterminated_quote_is_one_piece_that_does_not_parse() -> None:
    statements, unparsed = lenient_statements("create table a (id int);\nselect $$x;\n", "m.sql")
    assert statements == []
    assert len(unparsed) == 1
