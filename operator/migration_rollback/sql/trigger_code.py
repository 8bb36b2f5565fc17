"""Whether a trigger function only changes the row being written (`NEW.updated_at := now()`).

A restore from a capture writes whole rows back. A trigger that fires on that write and only
assigns fields of NEW changes nothing the capture does not hold, so the restore covers it, as
long as the trigger does not fire on the restore itself (it would stamp `updated_at` again).
So does one that reads to decide (a guard's `SELECT role INTO _role FROM members ...; IF ...
THEN RAISE`, a check that a referenced row has the right type): SELECT ... INTO, PERFORM and
loops are read-only as long as their SQL is SELECTs whose every call writes nothing. Any other
trigger (one that runs INSERT/UPDATE/DELETE or DDL, dynamic SQL, calls a function that may
write, or assigns OLD) may change rows no capture keeps. The functions it calls are read by
sql/function_code.py. Read with PostgreSQL's PL/pgSQL parser (through pglast); what cannot be
read is "not only the row".
Pure: no database (the caller's `Lookup` finds the called functions' code).
"""

from __future__ import annotations

from typing import Any

from migration_rollback.sql.function_code import (
    READ_ONLY_STATEMENTS,
    Lookup,
    expressions,
    no_functions,
    plpgsql_tree,
    query_problem,
    statements,
)

# Trigger functions in C known to change only the row they fire for, by library (pg_proc's
# probin; None: built into the server) and symbol (prosrc): moddatetime (the extension
# Supabase's dashboard offers for `updated_at`) sets the column its argument names to now(),
# insert_username one to the current user, tsvector_update_trigger(_column) fills a tsvector
# column from others of the row, suppress_redundant_updates_trigger skips an UPDATE that changes
# nothing. A C function is made by a superuser, so the name is the extension's or the server's.
_ROW_ONLY_NATIVE = frozenset(
    {
        ("$libdir/moddatetime", "moddatetime"),
        ("$libdir/insert_username", "insert_username"),
        (None, "tsvector_update_trigger_byid"),
        (None, "tsvector_update_trigger_bycolumn"),
        (None, "suppress_redundant_updates_trigger"),
    }
)
_NATIVE = ("c", "internal")


def only_row_changes(
    body: str, language: str = "plpgsql", lookup: Lookup = no_functions, library: str | None = None
) -> str | None:
    """None when the trigger function only assigns fields of NEW or of local variables and
    reads with SELECTs that write nothing, or is a C one known to (`body`: prosrc, `library`:
    probin); else why not."""
    if language.lower() in _NATIVE and (library or None, body.strip()) in _ROW_ONLY_NATIVE:
        return None
    if language.lower() != "plpgsql":
        return f"it is written in {language}, which is not read"
    tree = plpgsql_tree(body, "trigger")
    if tree is None:
        return "its code does not parse"
    datums = tree.get("datums", [])
    for kind, node in statements(tree["action"]):
        if kind not in READ_ONLY_STATEMENTS:
            return f"it runs {kind.removeprefix('PLpgSQL_stmt_')} statements"
        if any(_is_old(datums, target) for target in _targets(kind, node)):
            return "it assigns OLD"
    for query in expressions(tree["action"]):
        why = query_problem(query, lookup)
        if why:
            return why
    return None


# What a statement assigns: a datum's number, or the record an INTO names whole.
Target = int | dict[str, Any]


def _targets(kind: str, node: dict[str, Any]) -> list[Target]:
    """The datums `x := ...` or `SELECT ... INTO x, y` assigns (0 is left out of the JSON:
    NEW, the first datum)."""
    if kind == "PLpgSQL_stmt_assign":
        return [int(node.get("varno", 0))]
    if kind != "PLpgSQL_stmt_execsql" or not node.get("into"):
        return []
    target = node.get("target", {})
    if "PLpgSQL_row" in target:
        return [int(f.get("varno", 0)) for f in target["PLpgSQL_row"].get("fields", [])]
    return [target]


def _is_old(datums: list[dict[str, Any]], target: Target) -> bool:
    datum = target if isinstance(target, dict) else datums[target] if target < len(datums) else {}
    field = datum.get("PLpgSQL_recfield")
    if field is None:  # a record (`OLD := ...`, `SELECT * INTO OLD`) or a local variable
        return bool(datum.get("PLpgSQL_rec", {}).get("refname") == "old")
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
        for target in _targets(kind, node):
            if isinstance(target, dict):
                return None  # `SELECT * INTO NEW`: every field
            field = datums[target].get("PLpgSQL_recfield") if target < len(datums) else None
            if field is not None:  # `NEW.email := ...`, `SELECT ... INTO NEW.email`
                out.add(str(field.get("fieldname", "")).lower())
            elif target < len(datums) and "PLpgSQL_rec" in datums[target]:
                return None  # `NEW := ...`: every field
    return frozenset(out)
