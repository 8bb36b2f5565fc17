"""The scoped read as one server-side function that runs only the kinds with a row in scope.

Sent as statements (a UNION ALL per way into the scope), a scoped read cost the server the
executor's start-up of every kind's query at every check, whatever the scope held (server CPU
on a 100-migration schema: 0.75 ms for a scope whose one table was gone, 0.93 ms for a view's
family, 1.17 ms for a table's), twice a migration. `scoped_read()` (PL/pgSQL, made with the
change capture in the verifier's helper schema) asks first, per kind, whether the catalog the
kind's query starts from holds a row for an OID in scope (every kind's probe in one statement),
and runs the query only then: 0.10, 0.38 and 0.75 ms. The probe is implied by the query itself
(each of its rows comes from that catalog row, joined on that column), so a kind skipped had
nothing to read. A kind read whole ("group" scope) runs when its label is in scope, as its
query's own condition says.

Its queries' plans are cached by PL/pgSQL for the session, made (and remade after an
invalidation) under the settings of its caller, the check (verify/scoped_check.py).
"""

from __future__ import annotations

import functools
import re

from migration_rollback.verify.snapshot.query import HELPER_SCHEMA, SCOPE_TABLE, Kind, scope_rows

FUNCTION = f"{HELPER_SCHEMA}.scoped_read"
# What a check sends: the rows of every kind in scope, (kind's index, the row as JSON).
READ_SQL = f"SELECT mr_kind, mr_row FROM {FUNCTION}()"
_QUOTE = "$mr_scoped$"


def kind_query(index: int, kind: Kind) -> str:
    """One kind's scoped read: its index in `kinds` and each row as JSON (the kinds' columns
    differ, one text column holds any of them)."""
    return f"SELECT {index}, pg_catalog.row_to_json(q)::text FROM ({kind.select(scoped=True)}) q"


def probe(kind: Kind) -> str:
    """A cheap condition that holds whenever the kind's scoped query returns a row."""
    if not kind.scope:
        return (
            f"EXISTS (SELECT FROM {SCOPE_TABLE} s WHERE s.category = 'group' "
            f"AND s.name = '{kind.label}')"
        )
    return " OR ".join(_probe_way(kind, category, exprs) for category, exprs in kind.scope)


def _probe_way(kind: Kind, category: str, exprs: tuple[str, ...]) -> str:
    """Some row of a catalog the query's rows come from has an OID of the category in scope,
    in the column one of `exprs` (each equal to the scope's OID in the query) reads."""
    for expr in exprs:
        alias, _, column = expr.partition(".")
        catalog = _source_catalog(kind.tables, alias, column)
        if catalog is not None:
            # Started from the scope's OIDs, as the kinds' queries are: each probed by index.
            return (
                f"EXISTS (SELECT FROM {scope_rows(category)} CROSS JOIN LATERAL (SELECT FROM "
                f"pg_catalog.{catalog} x WHERE x.{column} = sc.oid OFFSET 0) q)"
            )
    raise ValueError(
        f"kind {kind.label!r}: its scope {exprs!r} names no column of the catalog its query "
        f"starts from ({kind.tables[:60]!r}...)"
    )


def _source_catalog(tables: str, alias: str, column: str) -> str | None:
    """The catalog every row of `tables` comes from under `alias`, read as is in `column`:
    the leading catalog, one joined (inner, outside parentheses), or the leading catalog of
    a leading subquery that selects `alias.column` unchanged (query.py `user_relations`)."""
    a = re.escape(alias)
    if not column or re.search(r"\b(RIGHT|FULL)\b", tables):
        return None
    for found in re.finditer(rf"(?:^|\b(\w+) JOIN )pg_catalog\.(pg_\w+) {a}\b", tables):
        outside = tables[: found.start()].count("(") == tables[: found.start()].count(")")
        if outside and (found.group(1) or "").upper() not in ("LEFT", "OUTER"):
            return found.group(2)
    sub = re.match(rf"\(SELECT (.*?) FROM pg_catalog\.(pg_\w+) {a}\b.*?\) {a}\b", tables, re.S)
    if sub is None or f"{alias}.{column}" not in (c.strip() for c in sub.group(1).split(",")):
        return None
    return sub.group(2)


@functools.cache
def function_sql(kinds: tuple[Kind, ...]) -> str:
    """CREATE OR REPLACE the function for these kinds (a server version's)."""
    # The probes are one statement, their answers kept in an array the steps read: one
    # executor start and one statement's bookkeeping, not one a kind (server CPU of a check on
    # bench_verify.py's migrations: about a tenth less).
    probes = ",\n".join(probe(kind) for kind in kinds)
    steps = f"mr_probed := ARRAY[{probes}];\n" + "\n".join(
        f"IF mr_probed[{n + 1}] THEN\nRETURN QUERY {kind_query(n, kind)};\nEND IF;"
        for n, kind in enumerate(kinds)
    )
    if _QUOTE in steps:
        raise ValueError(f"a kind's query holds {_QUOTE}, the function body's quote")
    # Its column names are PL/pgSQL variables too: names no query uses, and columns win.
    return (
        f"CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS TABLE (mr_kind integer, mr_row text) "
        f"LANGUAGE plpgsql AS {_QUOTE}\n#variable_conflict use_column\n"
        f"DECLARE mr_probed boolean[];\nBEGIN\n{steps}\nEND\n{_QUOTE}"
    )
