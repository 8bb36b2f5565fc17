"""Whether a trigger function only changes the row being written (`NEW.updated_at := now()`).

A restore from a capture writes whole rows back. A trigger that fires on that write and only
assigns fields of NEW changes nothing the capture does not hold, so the restore covers it, as
long as the trigger does not fire on the restore itself (it would stamp `updated_at` again).
Any other trigger (one that runs SQL, calls a function that may write, or assigns OLD) may
change rows no capture keeps. The functions it calls are read by sql/function_code.py. Read
with PostgreSQL's PL/pgSQL parser (through pglast); what cannot be read is "not only the row".
Pure: no database (the caller's `Lookup` finds the called functions' code).
"""

from __future__ import annotations

from typing import Any

from migration_rollback.sql.function_code import (
    Lookup,
    call_problem,
    expressions,
    no_functions,
    plpgsql_tree,
    statements,
)

# PL/pgSQL statements that cannot write anything themselves (their expressions are checked).
_QUIET = {
    "PLpgSQL_stmt_block", "PLpgSQL_stmt_assign", "PLpgSQL_stmt_if", "PLpgSQL_stmt_return",
    "PLpgSQL_stmt_raise", "PLpgSQL_if_elsif", "PLpgSQL_stmt_case", "PLpgSQL_case_when",
}  # fmt: skip


def only_row_changes(
    body: str, language: str = "plpgsql", lookup: Lookup = no_functions
) -> str | None:
    """None when the trigger function only assigns fields of NEW or of local variables; else
    why not."""
    if language.lower() != "plpgsql":
        return f"it is written in {language}, which is not read"
    tree = plpgsql_tree(body, "trigger")
    if tree is None:
        return "its code does not parse"
    datums = tree.get("datums", [])
    for kind, node in statements(tree["action"]):
        if kind not in _QUIET:
            return f"it runs {kind.removeprefix('PLpgSQL_stmt_')} statements"
        if kind == "PLpgSQL_stmt_assign" and _assigns_old(datums, node.get("varno", 0)):
            return "it assigns OLD"
    for query in expressions(tree["action"]):
        why = call_problem(query, lookup)
        if why:
            return why
    return None


def _assigns_old(datums: list[dict[str, Any]], varno: int) -> bool:
    field = datums[varno].get("PLpgSQL_recfield") if varno < len(datums) else None
    if field is None:
        return False  # a local variable
    parent = datums[field.get("recparentno", 0)].get("PLpgSQL_rec", {})
    # A field of NEW or of a local record (`_new := NEW; _new.updated_at := now(); RETURN
    # _new`, Hasura's stamp trigger) changes only the row the trigger returns.
    return bool(parent.get("refname") == "old")


def assigned_fields(body: str, language: str = "plpgsql") -> frozenset[str] | None:
    """The fields of NEW the trigger function assigns; None when its code is not read."""
    tree = plpgsql_tree(body, "trigger") if language.lower() == "plpgsql" else None
    if tree is None:
        return None
    datums = tree.get("datums", [])
    out = set()
    for kind, node in statements(tree["action"]):
        # 0 is left out of the JSON: NEW, the first datum
        varno = node.get("varno", 0) if kind == "PLpgSQL_stmt_assign" else -1
        field = datums[varno].get("PLpgSQL_recfield") if 0 <= varno < len(datums) else None
        if field is not None:
            out.add(str(field.get("fieldname", "")).lower())
        elif varno >= 0 and "PLpgSQL_rec" in datums[varno]:
            return None  # `NEW := ...`: every field
    return frozenset(out)
