"""`printing.direct_text` writes a GRANT / REVOKE / COMMENT exactly as pglast's printer does.

A matrix of shapes (every object kind written directly, both verbs, options, role words,
names needing quotes for each reason, multibyte names, literals with quotes, backslashes and
newlines, NULL comments) is parsed, and each statement's direct text must equal pglast's
`RawStream()` text character for character. Shapes the module leaves to pglast must answer
None, and `deparse` must still print them as pglast does.
"""

from __future__ import annotations

import itertools
from typing import Any

import pglast
import pytest
from pglast.stream import RawStream

from migration_rollback.sql.names import deparse
from migration_rollback.sql.printing import direct_text

# Names as a migration may spell them: plain, upper case, a reserved word, a type/function-name
# keyword, a column-name keyword (pglast leaves it bare; PostgreSQL's quote_ident would not),
# an unreserved keyword, a digit first, a quote inside, a space, multibyte, `$`.
NAMES = ['t', '"T"', '"select"', '"left"', "time", "comment", '"1a"', '"a""b"', '"a b"',
         '"café"', '"表"', '"a$"', "a$b"]  # fmt: skip
QUALIFIERS = ["", "public.", '"My Schema".', '"user".']
ROLES = ["anon", '"Admin"', '"user"', "time", "public", "current_user", "session_user",
         "current_role", '"x""y"']  # fmt: skip
PRIVILEGES = ["select", "select, insert", "all", "all privileges", "usage", "update (a, \"B\")",
              "references, trigger, truncate, delete"]  # fmt: skip


def _relations() -> list[str]:
    return [q + n for q, n in itertools.product(QUALIFIERS, NAMES)]


def _grants() -> list[str]:
    out = []
    for target in ("table {}", "{}", "sequence {}", "function {}", "function {}()",
                   "procedure {}()", "schema {}"):  # fmt: skip
        for name in _relations() if "schema" not in target else NAMES:
            out.append(f"grant select on {target.format(name)} to anon")
    for privilege, role in itertools.product(PRIVILEGES, ROLES):
        out.append(f"grant {privilege} on table t, s.u to {role}, authenticated")
        out.append(f"revoke {privilege} on t from {role} cascade")
    for kind in ("tables", "sequences", "functions", "procedures"):
        out.append(f'grant select on all {kind} in schema public, "S" to anon with grant option')
        out.append(f"revoke grant option for select on all {kind} in schema s from anon")
    out.append("grant usage on schema s to anon granted by current_user")
    out.append('grant usage on schema s to anon with grant option granted by "Boss"')
    return out


def _comment_values() -> list[str]:
    return ["null", "'x'", "''", "'it''s'", "E'back\\\\slash'", "E'line\\nbreak'", "'café 表'",
            "$$dollar 'q'$$", "E'tab\\there'"]  # fmt: skip


def _comments() -> list[str]:
    out = []
    for kind in ("table", "view", "materialized view", "foreign table", "sequence", "index"):
        for name, value in zip(_relations(), itertools.cycle(_comment_values())):
            out.append(f"comment on {kind} {name} is {value}")
    for name, value in itertools.product(NAMES, _comment_values()):
        out.append(f"comment on column s.{name}.{name} is {value}")
        out.append(f"comment on schema {name} is {value}")
    for kind in ("extension", "publication", "role", "server", "foreign data wrapper",
                 "event trigger"):  # fmt: skip
        out += [f"comment on {kind} {name} is 'x'" for name in NAMES]
    for kind in ("constraint", "policy", "rule", "trigger"):
        pairs = itertools.product(NAMES[:6], _relations()[::5])
        out += [f"comment on {kind} {name} on {table} is null" for name, table in pairs]
    for routine in ("function", "procedure"):
        out += [f"comment on {routine} {r} is 'x'" for r in _relations()]
        out += [f"comment on {routine} {r}() is null" for r in _relations()]
    return out


def _statement(sql: str) -> Any:
    return pglast.parse_sql(sql)[0].stmt


def _parsing(statements: list[str]) -> list[str]:
    """The statements PostgreSQL's grammar takes (`time()` is no function name it takes)."""
    kept = []
    for sql in statements:
        try:
            pglast.parse_sql(sql)
        except pglast.parser.ParseError:
            continue
        kept.append(sql)
    return kept


MATRIX = _parsing(_grants() + _comments())


def test_the_matrix_holds_most_shapes() -> None:
    assert len(MATRIX) > 0.95 * len(_grants() + _comments())


@pytest.mark.parametrize("sql", MATRIX)
def test_direct_text_is_pglasts_text(sql: str) -> None:
    node = _statement(sql)
    direct = direct_text(node)
    assert direct is not None, f"a shape written directly was left to pglast: {sql}"
    assert direct == RawStream()(node)


# Shapes left to pglast: routine arguments are types, a type or domain is a TypeName, other
# privileges and targets, a name ending in a newline (pglast's rule differs there).
LEFT_TO_PGLAST = [
    "grant execute on function f(int, text) to anon",
    "grant usage on type public.mood to anon",
    "grant usage on foreign server s to anon",
    "grant all on all routines in schema s to anon",
    "grant maintain on t to anon",
    "grant admin to anon",
    "alter default privileges grant select on tables to anon",
    "comment on function f(int) is 'x'",
    "comment on type public.mood is 'x'",
    "comment on aggregate a(*) is 'x'",
    "comment on operator class c using btree is 'x'",
    "comment on domain d is 'x'",
    "comment on constraint c on domain d is 'x'",
    "comment on table \"t\n\" is 'x'",
    "comment on table \"T\" is 'x'; grant select on t to anon",
]


@pytest.mark.parametrize("sql", LEFT_TO_PGLAST)
def test_other_shapes_are_left_to_pglast(sql: str) -> None:
    node = _statement(sql) if ";" not in sql else pglast.parse_sql(sql)
    assert direct_text(node) is None
    assert deparse(node) == RawStream()(node)


def test_a_relation_without_its_descendants_is_left_to_pglast() -> None:
    """GRANT has no ONLY in its grammar, yet a tree may say so: pglast writes it."""
    node = _statement("grant select on t to anon")
    relation = node.objects[0]
    node.objects = (pglast.ast.RangeVar(relname=relation.relname, inh=False),)
    assert direct_text(node) is None
    assert deparse(node) == RawStream()(node) == "GRANT SELECT ON TABLE ONLY t TO anon"
