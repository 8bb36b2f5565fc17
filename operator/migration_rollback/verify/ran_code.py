"""Code that ran where the migration's text does not show it: read from the server, not guessed.

A scoped check is sound only if every statement that ran is one an event trigger reports or one
hidden_commands.py has read. Reading the migration's text finds its own statements, its DO
blocks and the functions it names; it cannot find the code PostgreSQL runs on its behalf: a
trigger fired by an INSERT, a rule, a user's event trigger, a function behind a DEFAULT, a
CHECK, an index expression, an operator, a cast, a view, a policy. Listing those ways is a
list that is never complete, so the server is asked instead: with `track_functions = all`
(set on the shadow database by `install`), `pg_stat_get_xact_function_calls` names every
function of the schema called in the transaction (calls in a rolled-back savepoint count too),
and their code is read as the migration's own is (with their SET clauses: one setting
track_functions hides the calls it makes). What stays unseen makes the check full:

- a function that ran and was replaced or altered since (a rollback's CREATE OR REPLACE): the
  code read now is not the code that ran, so the kept model's and the statements' versions are
  read too;
- a function that ran and was dropped since (its code is gone from the catalog): read from the
  kept model, or when the migration created it, from its CREATE statement; otherwise unknown;
  a rule dropped since is read from the kept model (one the migration created, from its
  statement: hidden_commands.py), and so is a view dropped since, when anything may have
  written (a view over a catalog the migration created: hidden_commands.py);
- a language this reads nothing of (not plpgsql or SQL), but for C, the code of extensions
  installed by a superuser, trusted except the few functions that run SQL (dblink's);
- function calls not tracked (the setting is not `all`: the database lost it, or the
  migration changed it: hidden_commands.py says so too);
- code that runs with no function call: a rule whose action writes a system catalog (every
  rule on INSERT/UPDATE/DELETE is read: whether it fired is not known), and a write through
  a view over one (auto-updatable), when anything may have written. The views looked at are
  those the kept model says read a catalog (model.py) and those this transaction created or
  altered: a cost that follows what the migration touched, not the schema. A view's
  dependency on a catalog is not in pg_depend (system objects are pinned): its query tree
  names it, by OID.

An inlined SQL function is not counted; its body is a single SELECT, whose calls are.
The counts are flushed after a check that found some, or the next transaction would see them
again (pending statistics are flushed only when the session is idle, at most once a second).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from migration_rollback.verify import catalog, hidden_commands
from migration_rollback.verify.batch import Fetched, Target
from migration_rollback.verify.scoped_check import CAPTURE_TABLE, RAN_FUNCTION

FUNCTION = RAN_FUNCTION  # called by the check's function (scoped_check.py), in its statement
# An object's code in the kept model by its ref (see `reasons`).
CodeOf = Callable[[str], tuple[str, str] | None]
_QUOTE = "$mr_ran$"
_HELPER = RAN_FUNCTION.partition(".")[0]  # the verifier's own functions: not the migration's
_FIRST_USER_OID = 16384  # FirstNormalObjectId: below it, the system's own

# Functions of languages read here; C is the code of extensions, trusted but for these.
_READ = frozenset({"plpgsql", "sql"})
_TRUSTED = frozenset({"c", "internal"})
_RUN_SQL = frozenset({"dblink", "dblink_exec", "dblink_open", "dblink_send_query"})


def function_sql(server_version: int) -> str:
    """CREATE OR REPLACE the read (one statement a check sends with its scope's)."""
    body = (
        "pg_catalog.pg_get_function_sqlbody(p.oid), p.prosrc"
        if server_version >= 140000
        else "p.prosrc"
    )
    flush = (
        "UNION ALL SELECT 'flushed', NULL, f.x, NULL FROM (SELECT "
        "pg_catalog.pg_stat_force_next_flush()::text AS x WHERE EXISTS (SELECT FROM ran)) f "
        "WHERE f.x IS NULL"
        if server_version >= 150000
        else ""
    )
    query = f"""
WITH ran AS MATERIALIZED (
  SELECT p.oid, l.lanname::text AS language, p.proname::text AS name,
         coalesce({body}, '') || coalesce(' ' || pg_catalog.array_to_string(p.proconfig, ' '), '')
           AS code
  FROM pg_catalog.pg_proc p
  JOIN pg_catalog.pg_language l ON l.oid = p.prolang
  JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
  WHERE p.oid >= {_FIRST_USER_OID} AND n.nspname <> '{_HELPER}'
    AND pg_catalog.pg_stat_get_xact_function_calls(p.oid) IS NOT NULL
)
SELECT 'ran', oid, language || ' ' || name, code FROM ran
UNION ALL
SELECT 'dropped', c.objid, NULL, NULL FROM {CAPTURE_TABLE} c
WHERE c.dropped AND c.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
  AND pg_catalog.pg_stat_get_xact_function_calls(c.objid) IS NOT NULL
UNION ALL
SELECT DISTINCT 'replaced', c.objid, NULL::text, NULL::text FROM {CAPTURE_TABLE} c
WHERE NOT c.dropped AND c.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
  AND pg_catalog.pg_stat_get_xact_function_calls(c.objid) IS NOT NULL
UNION ALL
SELECT 'dropped rule', c.objid, NULL, NULL FROM {CAPTURE_TABLE} c
WHERE c.dropped AND c.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass
UNION ALL
SELECT 'dropped relation', c.objid, NULL, NULL FROM {CAPTURE_TABLE} c
WHERE ($1 OR EXISTS (SELECT FROM ran)) AND c.dropped AND c.objsubid = 0
  AND c.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
UNION ALL
SELECT 'untracked', NULL, pg_catalog.current_setting('track_functions'), NULL
WHERE pg_catalog.current_setting('track_functions') <> 'all'
UNION ALL
SELECT 'rule', r.oid, r.rulename::text, pg_catalog.pg_get_ruledef(r.oid)
FROM pg_catalog.pg_rewrite r WHERE r.oid >= {_FIRST_USER_OID} AND r.ev_type <> '1'
UNION ALL
SELECT 'view', v.oid, v.relname::text, NULL FROM pg_catalog.pg_class v
WHERE ($1 OR EXISTS (SELECT FROM ran)) AND v.relkind = 'v'
  AND (v.oid = ANY ($2) OR v.oid IN (SELECT c.objid FROM {CAPTURE_TABLE} c
    WHERE c.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND NOT c.dropped))
  AND CASE WHEN EXISTS (SELECT FROM pg_catalog.pg_rewrite r,
      pg_catalog.regexp_matches(r.ev_action::text, ':relid (\\d+)', 'g') m
      WHERE r.ev_class = v.oid AND m[1]::pg_catalog.oid < {_FIRST_USER_OID})
    THEN pg_catalog.pg_relation_is_updatable(v.oid, false) > 0 ELSE false END
{flush}
"""
    if _QUOTE in query:
        raise ValueError(f"the read holds {_QUOTE}, its body's quote")
    # PL/pgSQL: its plan is made once a session (a SQL function's, at each call: 0.3 ms).
    return (
        f"CREATE OR REPLACE FUNCTION {FUNCTION}(boolean, oid[]) RETURNS TABLE (mr_what text, "
        "mr_oid oid, mr_name text, mr_code text) LANGUAGE plpgsql VOLATILE "
        "SET search_path = pg_catalog, pg_temp SET plan_cache_mode = force_generic_plan "
        f"AS {_QUOTE}\n#variable_conflict use_column\nBEGIN\nRETURN QUERY {query};\nEND\n{_QUOTE}"
    )


_ALONE = f"SELECT r.mr_what, r.mr_oid, r.mr_name, r.mr_code FROM {FUNCTION}($1, $2) r"


@dataclass
class PendingRead:
    """The read on its own (not with a check's), queued in a batch: `reasons` once it ran."""

    call: Fetched
    nodes: list[Any]
    code_of: CodeOf

    def reasons(self) -> list[str]:
        return reasons(self.call.fetchall(), self.nodes, self.code_of)


def queue_read(
    conn: Target, nodes: Sequence[Any], code_of: CodeOf, catalog_views: Iterable[int]
) -> PendingRead:
    """The read a check makes of the code that ran, as one statement of its own."""
    args = [(may_write(nodes), "boolean"), (list(catalog_views), "oid[]")]
    return PendingRead(catalog.execute(conn, _ALONE, args), list(nodes), code_of)


def may_write(nodes: Iterable[Any]) -> bool:
    """Whether the statements may write rows themselves (a view over a catalog would pass the
    write on): DML anywhere in them, or a DO block."""
    return hidden_commands.writes_rows(nodes)


def reasons(
    rows: Iterable[tuple[Any, ...]],
    nodes: Sequence[Any],
    code_of: CodeOf,
) -> list[str]:
    """Why the code the server says ran may have changed what no event trigger reports.
    `code_of`: a function's (language, code) or a rule's ("rule", definition) in the kept
    model, by its ref ("pg_proc:<oid>", "pg_rewrite:<oid>"; None: not there)."""
    out: list[str] = []
    for what, oid, name, code in rows:
        found = _reason(str(what), oid, name, code, nodes, code_of)
        if found is not None:
            out.append(found)
    return list(dict.fromkeys(out))


def _reason(
    what: str,
    oid: Any,
    name: str | None,
    code: str | None,
    nodes: Sequence[Any],
    code_of: CodeOf,
) -> str | None:
    if what == "ran":
        language, _, proname = str(name).partition(" ")
        return _code_reason(language, proname, code or "")
    if what == "dropped":
        return _dropped_reason(int(oid), nodes, code_of)
    if what == "replaced":
        return _replaced_reason(int(oid), nodes, code_of)
    if what == "untracked":
        return f"function calls were not tracked (track_functions = {name})"
    if what == "rule":  # a rule on INSERT/UPDATE/DELETE (few): its actions, read as code
        return _rule_reason(str(name), str(code))
    if what == "dropped relation":  # a kept view over a catalog, written through, then gone
        kept = code_of(f"pg_class:{oid}")
        if kept is None or kept[0] != "view" or not hidden_commands.reads_catalog(kept[1]):
            return None
        return f"a write may have gone through view {oid} (dropped) to a system catalog"
    if what == "dropped rule":  # as the model kept it; a view's, or one created since: None
        kept = code_of(f"pg_rewrite:{oid}")
        return None if kept is None else _rule_reason(f"{oid} (dropped)", kept[1])
    if what == "view":
        return f"a write may have gone through view {name} to a system catalog"
    return None


def _rule_reason(name: str, definition: str) -> str | None:
    found = hidden_commands.code_reason(definition, hidden_commands.no_functions)
    return None if found is None else f"rule {name} running {found}"


def _code_reason(language: str, name: str, code: str) -> str | None:
    if language in _TRUSTED:
        return f"{name}() running SQL (dblink)" if name in _RUN_SQL else None
    if language not in _READ:
        return f"{name}() in language {language}, whose code is not read"
    found = hidden_commands.code_reason(code, hidden_commands.no_functions)
    return None if found is None else f"{name}() running {found}"


def _replaced_reason(oid: int, nodes: Sequence[Any], code_of: CodeOf) -> str | None:
    """A function that ran and was created, replaced or altered in the transaction: the code
    read now is its last version, not necessarily the one that ran (a rollback puts the old
    body back before the check). What ran was one of the kept model's version and those the
    statements created."""
    kept = code_of(f"pg_proc:{oid}")
    versions = [*([kept] if kept is not None else []), *hidden_commands.created_code(nodes)]
    for language, code in versions:
        found = _code_reason(language, f"replaced function {oid}", code)
        if found is not None:
            return found
    return None


def _dropped_reason(oid: int, nodes: Sequence[Any], code_of: CodeOf) -> str | None:
    """A function that ran and is gone: its code as the model kept it, or as the migration
    created it (any of the functions it created: which one is not known by OID)."""
    kept = code_of(f"pg_proc:{oid}")
    if kept is not None:
        return _code_reason(kept[0], f"dropped function {oid}", kept[1])
    created = hidden_commands.created_code(nodes)
    if not created:
        return f"function {oid} ran and was dropped; its code is not known"
    for language, code in created:
        found = _code_reason(language, f"dropped function {oid}", code)
        if found is not None:
            return found
    return None
