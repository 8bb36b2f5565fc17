"""`parse_script(..., known=...)`: reusing parse trees already built gives the same Script.

`validate` passes the trees of the statements the generator wrote, so that a generated rollback
is split rather than parsed again. Whatever the file holds, the result must be the one a full
parse gives (the trees compare equal: pglast ignores character offsets), and any statement it
does not know means a full parse.
"""

from __future__ import annotations

import pytest

from migration_rollback.errors import SqlSyntaxError
from migration_rollback.sql import generate_rollback, parse_script
from migration_rollback.sql.model import Script

TEXTS = [
    "drop table public.a;\n\n-- note: x\n-- MANUAL: y\ndrop index if exists public.i;\n",
    "\ufeffcreate table t (id int);\r\n-- c\r\n\r\nselect $$ a; b $$;\r\n",
    "select 1; select 2;  select 3;\nselect 4",
    "\\set x 1\ncreate table t (id int);\n\\connect other\nselect 'x\n\\not meta';\n",
    "create function f() returns int language sql\nas $b$\nselect 1;\n$b$;\n/* c */ select 2;",
]


def trees(script: Script) -> dict[str, object]:
    """What validate passes: each statement's own tree, parsed from its text alone."""
    return {st.text: parse_script(st.text).statements[0].node for st in script.statements}


def same(a: Script, b: Script) -> None:
    assert a == b  # text, location (file, line, column), index; warnings
    assert [s.node for s in a.statements] == [s.node for s in b.statements]


@pytest.mark.parametrize("text", TEXTS)
def test_known_trees_give_the_full_parse(text: str) -> None:
    full = parse_script(text, "r.sql")
    known = trees(full)
    reused = parse_script(text, "r.sql", known=known)
    same(full, reused)
    assert all(s.node is known[s.text] for s in reused.statements)


@pytest.mark.parametrize("text", TEXTS)
def test_an_unknown_statement_means_a_full_parse(text: str) -> None:
    full = parse_script(text, "r.sql")
    known = trees(full)
    known.pop(full.statements[-1].text)
    reused = parse_script(text, "r.sql", known=known)
    same(full, reused)
    assert reused.statements[-1].node is not None


def test_a_syntax_error_is_reported_as_without_known_trees() -> None:
    text = "drop table a;\ndrop tabel b;\n"
    with pytest.raises(SqlSyntaxError) as plain:
        parse_script(text, "r.sql")
    with pytest.raises(SqlSyntaxError) as with_known:
        parse_script(text, "r.sql", known={"drop table a": object()})
    assert str(with_known.value) == str(plain.value)
    assert with_known.value.location == plain.value.location


def test_a_generated_rollback_reads_back_with_the_generator_trees() -> None:
    forward = parse_script(
        "create table public.t (id int primary key);\ncreate index i on public.t (id);\n"
        "comment on table public.t is 'x';\ngrant select on public.t to anon;\n",
        "f.sql",
    )
    plan = generate_rollback(forward, "f")
    body = plan.render_body()
    known = {s.parsed.text: s.parsed.node for s in plan.steps if s.parsed is not None}
    reused = parse_script(body, "f_rollback.sql", known=known)
    same(parse_script(body, "f_rollback.sql"), reused)
    assert all(s.node is known[s.text] for s in reused.statements)
