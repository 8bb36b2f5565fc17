"""`parse_script(..., known=...)`: reusing parse trees already built gives the same Script.

`validate` passes the trees of the statements the generator wrote, so that a generated rollback
is split rather than parsed again. Whatever the file holds, the result must be the one a full
parse gives (the trees compare equal: pglast ignores character offsets), and any statement it
does not know means a full parse.
"""

from __future__ import annotations

import pytest

from migration_rollback.errors import SqlSyntaxError
from migration_rollback.sql import generate_rollback, parse, parse_script
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


def test_a_generated_rollback_is_read_without_a_split(monkeypatch: pytest.MonkeyPatch) -> None:
    """The statements stand where the generator wrote them: the file is not parsed at all."""
    forward = parse_script(
        "create table public.t (id int primary key);\ncreate index i on public.t (id);\n"
        "alter table public.t add column c text;\ncomment on table public.t is 'x';\n",
        "f.sql",
    )
    plan = generate_rollback(forward, "f")
    body = "-- ROLLBACK: f\n-- Source: f.sql\n\n" + plan.render_body()
    known = {s.parsed.text: s.parsed.node for s in plan.steps if s.parsed is not None}
    full = parse_script(body, "f_rollback.sql")
    monkeypatch.setattr(parse, "split", _no_split)
    reused = parse_script(body, "f_rollback.sql", known=known)
    same(full, reused)
    assert len(reused.statements) == 4
    assert all(s.node is known[s.text] for s in reused.statements)


def _no_split(*args: object, **kwargs: object) -> object:
    raise AssertionError("the file was split")


# Files whose statements are all known (each text with its own tree) but not as the generator
# writes them: read in order they would be taken wrongly, or not found; split, or parsed.
NOT_IN_ORDER = [
    ("drop table b;\ndrop table a;\n", ["drop table a", "drop table b"]),  # reordered
    ("select 1;\nselect 1;\n", ["select 1"]),  # one text twice
    ("select 1;\nselect 3;\nselect 2;\n", ["select 1", "select 2"]),  # one more statement
    ("select 1;\n/* c */ select 2;\n", ["select 1", "select 2"]),  # a block comment between
    ("select 1;\n-- a\x0cb\nselect 2;\n", ["select 1", "select 2"]),  # a form feed in a comment
    ("select 1 -- c\n;\nselect 2;\n", ["select 1 -- c", "select 2"]),  # `;` on its own line
    ("select 'a;b';\nselect 2;\n", ["select 'a;b'", "select 2"]),  # a `;` inside a text
    ("select 1;\nselect 2", ["select 1", "select 2"]),  # the last has no `;`
    ("select 1;\nselect 2; x", ["select 1", "select 2"]),  # what follows is no comment
    ("select 1 select 2;\n", ["select 1", "select 2"]),  # no `;` between (an error)
]


@pytest.mark.parametrize(("text", "statements"), NOT_IN_ORDER)
def test_known_texts_out_of_order_give_the_full_parse(text: str, statements: list[str]) -> None:
    known = {s: parse_script(s).statements[0].node for s in statements}
    full, reused = _outcome(text), _outcome(text, known)
    if isinstance(full, Script) and isinstance(reused, Script):
        same(full, reused)
    else:
        assert reused == full  # the same syntax error, located the same


def _outcome(text: str, known: dict[str, object] | None = None) -> Script | str:
    try:
        return parse_script(text, "r.sql", known=known)
    except SqlSyntaxError as exc:
        return str(exc)


def test_a_known_text_opening_with_a_comment_is_not_where_its_statement_starts() -> None:
    """A rule's text is not parsed: one opening with a comment gets the parse's text."""
    text = "/* c */ select 1;\n"
    known = {"/* c */ select 1": parse_script("select 1").statements[0].node}
    full = parse_script(text, "r.sql")
    same(full, parse_script(text, "r.sql", known=known))
    assert full.statements[0].text == "select 1"


def test_a_line_comment_ending_a_known_text_hides_the_semicolon() -> None:
    """`select 1 -- c` then `;`: the `;` is in the comment, and the next line continues the
    statement (here into a syntax error), though both texts are known and in order."""
    text = "select 1 -- c;\nselect 2;\n"
    known = {s: parse_script(s).statements[0].node for s in ("select 1 -- c", "select 2")}
    with pytest.raises(SqlSyntaxError) as plain:
        parse_script(text, "r.sql")
    with pytest.raises(SqlSyntaxError) as with_known:
        parse_script(text, "r.sql", known=known)
    assert str(with_known.value) == str(plain.value)
