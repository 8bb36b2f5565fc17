"""Inline COPY data (pg_dump's `COPY ... FROM stdin;` rows up to `\\.`) is cut out, never
parsed as SQL, and the statements after it keep their file:line."""

from __future__ import annotations

import pytest

from migration_rollback.errors import SqlSyntaxError
from migration_rollback.sql import parse_script
from migration_rollback.sql.copy_data import blank_blocks, without_inline_copies
from migration_rollback.sql.metacommands import find_copy_blocks, find_meta_commands
from migration_rollback.verify.lenient import lenient_statements

DUMP = (
    "create table public.countries (id int, name text);\n"  # 1
    "COPY public.countries (id, name) FROM stdin;\n"  # 2
    "1\tFrance\n"  # 3
    "2\tit's; not SQL (\n"  # 4: a quote, a `;` and a `(` in a row
    "\\N\t\\N\n"  # 5: a row starting with a backslash is no meta-command
    "\\.\n"  # 6
    "insert into public.countries values (3, 'x');\n"  # 7
)


def lines_of(text: str) -> list[int]:
    return [st.location.line for st in parse_script(text, "f.sql").statements]


def test_rows_are_not_parsed_and_later_lines_stay_true() -> None:
    script = parse_script(DUMP, "f.sql")
    assert [st.location.line for st in script.statements] == [1, 2, 7]
    assert script.statements[1].kind == "CopyStmt"
    (block,) = script.copy_blocks
    assert (block.line, block.data_line, block.terminated) == (2, 3, True)
    assert block.rows(DUMP) == "1\tFrance\n2\tit's; not SQL (\n\\N\t\\N\n"
    assert block.row_count(DUMP) == 3
    assert "f.sql:2: inline COPY data (3 rows, lines 3-5)" in script.warnings[0]
    assert find_meta_commands(DUMP) == ()


def test_without_the_cut_the_rows_are_a_syntax_error() -> None:
    """What the user saw before: the control for the test above."""
    with pytest.raises(SqlSyntaxError):
        parse_script(DUMP.replace("FROM stdin", "FROM '/tmp/x'"), "f.sql")


def test_csv_uppercase_several_blocks_and_crlf() -> None:
    text = (
        "COPY a FROM STDIN WITH (FORMAT csv, HEADER);\n"  # 1
        'id,name\n1,"x;y"\n2,"say ""hi"""\n'  # 2-4
        "\\.\n"  # 5
        "select 1;\n"  # 6
        "copy b (x) from stdin csv header;\n"  # 7
        "x\n'\n"  # 8-9: an odd quote
        "\\.\n"  # 10
        "select 2;\n"  # 11
    )
    for variant in (text, text.replace("\n", "\r\n")):
        script = parse_script(variant, "f.sql")
        assert [st.location.line for st in script.statements] == [1, 6, 7, 11]
        assert [(b.line, b.data_line) for b in script.copy_blocks] == [(1, 2), (7, 8)]


def test_a_block_without_terminator_runs_to_the_end_of_file() -> None:
    text = "select 1;\nCOPY t FROM stdin;\n1\n2"
    (block,) = find_copy_blocks(text)
    assert not block.terminated
    assert block.rows(text) == "1\n2"
    assert "no '\\.' line ends it" in block.describe(text)
    assert lines_of(text) == [1, 2]


def test_meta_copy_from_stdin_reads_its_rows_from_the_file() -> None:
    text = "\\copy t from stdin\n1\t'x\n\\.\n\\connect other\nselect 1;\n"
    assert [(m.line, m.command) for m in find_meta_commands(text)] == [
        (1, "\\copy"),
        (4, "\\connect"),
    ]
    assert [b.data_line for b in find_copy_blocks(text)] == [2]
    assert lines_of(text) == [5]
    warnings = parse_script(text, "f.sql").warnings
    assert [w.split(": ", 1)[1][:12] for w in warnings] == [
        "psql meta-co",
        "inline COPY ",
        "psql meta-co",
    ]
    assert [w.split(":", 2)[1] for w in warnings] == ["1", "1", "4"]


@pytest.mark.parametrize(
    "text",
    [
        "COPY t FROM '/tmp/data.csv';\nselect 1;\n",
        "COPY t TO STDOUT;\nselect 1;\n",
        "create function f() returns void language sql as $$ copy t from stdin; $$;\nselect 1;\n",
        "-- COPY t FROM stdin;\nselect 1;\n",
        "select 'COPY t FROM stdin;';\nselect 1;\n",
    ],
)
def test_no_block_where_no_rows_follow(text: str) -> None:
    assert find_copy_blocks(text) == ()


def test_a_comment_before_copy_and_text_after_its_semicolon() -> None:
    text = "/* data */ copy t -- the rows\n from stdin; select 2;\n1\n\\.\nselect 3;\n"
    (block,) = find_copy_blocks(text)
    assert (block.line, block.data_line) == (1, 3)
    assert lines_of(text) == [1, 2, 5]


def test_blanking_keeps_offsets_and_newlines() -> None:
    blocks = find_copy_blocks(DUMP)
    blanked = blank_blocks(DUMP, blocks)
    assert len(blanked) == len(DUMP)
    assert blanked.count("\n") == DUMP.count("\n")
    assert "France" not in blanked


def test_lenient_pieces_skip_the_rows_and_their_copy() -> None:
    text = DUMP + "create policy if not exists p on t;\nselect 9;\n"
    parsed, unparsed = lenient_statements(text, "f.sql")
    assert [st.location.line for st in parsed] == [1, 7, 9]
    assert [st.index for st in parsed] == [0, 1, 2]
    assert len(unparsed) == 1
    assert unparsed[0].startswith("f.sql:8:")


def test_the_shadow_replays_all_but_the_copy_that_reads_rows() -> None:
    text = DUMP + "COPY public.countries TO stdout;\n"
    script = parse_script(text, "f.sql")
    kept, note = without_inline_copies(script)
    assert [(st.location.line, st.index) for st in kept.statements] == [(1, 0), (7, 1), (8, 2)]
    assert note is not None
    assert "line 2" in note
    plain = parse_script("select 1;", "f.sql")
    assert without_inline_copies(plain) == (plain, None)
