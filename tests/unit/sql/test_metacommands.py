"""psql meta-commands are found wherever psql would run them, and only there."""

from __future__ import annotations

import pytest

from migration_rollback.sql import parse_script
from migration_rollback.sql.metacommands import find_meta_commands


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        ("\\set ON_ERROR_STOP on\nselect 1;\n", [1]),
        ("select 1;\n  \\i other.sql\n\t\\ir rel.sql\n", [2, 3]),
        ("\\connect db\n\\c db2\n\\gexec\n\\copy t from 'f'\n", [1, 2, 3, 4]),
        ("select 'a\n\\i in a string\n';\n\\c db\n", [4]),
        ("select E'x\\'\n\\i escaped quote\n';\n\\c db\n", [4]),
        ("select 'it''s\n\\i doubled quote';\n", []),
        ('select "a\n\\i in an identifier";\n', []),
        ("select $$\n\\i in a body\n$$;\n\\gexec\n", [4]),
        ("select $f$ $$\n\\i nested tag\n $f$;\n", []),
        ("/* a /* nested\n\\i in a comment */\n*/\n\\ir yes\n", [4]),
        ("-- \\i in a line comment\n\\i yes\n", [2]),
        ("select a$b$\n\\i after an identifier with dollars\n", [2]),
        ("\r\nselect 1;\r\n\\i crlf\r\n", [3]),
        ("\ufeff\\set x 1\n", [1]),
        ("select 1; \\gset\n", []),  # mid-line: pglast refuses it, so it is never dropped
        ("select 1;\n", []),
    ],
)
def test_meta_command_lines(text: str, lines: list[int]) -> None:
    assert [m.line for m in find_meta_commands(text)] == lines


def test_meta_command_text_and_command() -> None:
    (meta,) = find_meta_commands("select 1;\n   \\i   other.sql   \n")
    assert meta.text == "\\i   other.sql"
    assert meta.command == "\\i"
    (long,) = find_meta_commands("\\echo " + "x" * 100)
    assert len(long.shown) == 60
    assert long.shown.endswith("...")


def test_the_parser_blanks_only_real_meta_commands() -> None:
    # A backslash line inside a string is data: the parser must keep it (it once blanked it,
    # so a valid rollback was refused as a syntax error).
    text = "insert into t values ('a\n\\i not a command\n');\n\\set x 1\nselect 2;\n"
    script = parse_script(text, "m.sql")
    assert [s.location.line for s in script.statements] == [1, 5]
    assert "\\i not a command" in script.statements[0].text
    assert [w.split(": ", 1)[0] for w in script.warnings] == ["m.sql:4"]
