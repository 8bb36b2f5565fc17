"""Whether a routine's recorded definition is one PostgreSQL accepted.

CREATE FUNCTION checks a PL/pgSQL body when it runs (check_function_bodies is on by default):
a body that does not compile fails the statement, and the migration with it. The history still
records the text (it cannot know how the project got past it), but an undo that recreates the
routine from it fails the same way ("unexpected end of function definition"). Such a text is
no earlier definition: the undo is left to a human. PostgreSQL's own PL/pgSQL parser (through
pglast) decides, on its grammar errors only.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from pglast.parser import ParseError, parse_plpgsql_json

from migration_rollback.sql._ast import ast


def compiles(tree: Any, text: str) -> bool:
    """False for a CREATE FUNCTION/PROCEDURE in PL/pgSQL whose body PostgreSQL refuses."""
    if not isinstance(tree, ast.CreateFunctionStmt) or _language(tree) != "plpgsql":
        return True
    return _plpgsql_compiles(text)


def _language(tree: Any) -> str:
    for option in tree.options or ():
        if option.defname == "language":
            return str(getattr(option.arg, "sval", "")).lower()
    return "sql"


# The parser's errors that the server raises too: its grammar. Its others come from what it
# stubs (types it cannot look up: "cannot accept type _record", a record's fields "not a known
# variable"), which the server, knowing the types, accepts.
_GRAMMAR_ERRORS = ("syntax error", "unexpected end of function definition", "unterminated")


@lru_cache(maxsize=512)
def _plpgsql_compiles(text: str) -> bool:
    try:
        parse_plpgsql_json(text)
    except ParseError as error:
        return not str(error).startswith(_GRAMMAR_ERRORS)
    return True
