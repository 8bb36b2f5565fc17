"""Every kind the model holds, and the version-aware set of them a given server can read."""

from __future__ import annotations

import dataclasses

from migration_rollback.runner.naming import ARCHIVE_SCHEMA
from migration_rollback.verify.snapshot.query import (
    Acl,
    Comment,
    Kind,
    not_member,
    rel_ident,
    role,
    sorted_array,
    user_ns,
)
from migration_rollback.verify.snapshot.relation_kinds import (
    COLUMNS,
    CONSTRAINTS,
    INDEXES,
    INDEXES_BEFORE_15,
    NULLS_NOT_DISTINCT_SINCE,
    POLICIES,
    RELATIONS,
    RULES,
    TRIGGERS,
)


def _routine(oid: str) -> str:
    return (
        "(SELECT pg_catalog.quote_ident(fn.nspname) || '.' || pg_catalog.quote_ident(f.proname) "
        "FROM pg_catalog.pg_proc f JOIN pg_catalog.pg_namespace fn ON fn.oid = f.pronamespace "
        f"WHERE f.oid = {oid})"
    )


def _if_set(oid: str, keyword: str) -> str:
    return f"CASE WHEN {oid} <> 0 THEN '{keyword} = ' || {_routine(oid)} END"


_MODIFY = "CASE {} WHEN 'r' THEN 'READ_ONLY' WHEN 's' THEN 'SHAREABLE' ELSE 'READ_WRITE' END"

# pg_get_functiondef refuses aggregates: their CREATE AGGREGATE, from pg_aggregate (every
# option; a NULL one is left out of the list).
AGGREGATE_DDL = (
    "(SELECT 'CREATE OR REPLACE AGGREGATE ' || pg_catalog.quote_ident(n.nspname) || '.' "
    "|| pg_catalog.quote_ident(p.proname) || '(' || pg_catalog.pg_get_function_arguments(p.oid) "
    "|| ') (' || pg_catalog.concat_ws(', ', "
    f"'SFUNC = ' || {_routine('ag.aggtransfn')}, "
    "'STYPE = ' || pg_catalog.format_type(ag.aggtranstype, NULL), "
    "CASE WHEN ag.aggtransspace <> 0 THEN 'SSPACE = ' || ag.aggtransspace END, "
    f"{_if_set('ag.aggfinalfn', 'FINALFUNC')}, "
    "CASE WHEN ag.aggfinalextra THEN 'FINALFUNC_EXTRA' END, "
    "CASE WHEN ag.aggfinalfn <> 0 THEN 'FINALFUNC_MODIFY = ' || "
    + _MODIFY.format("ag.aggfinalmodify")
    + " END, "
    f"{_if_set('ag.aggcombinefn', 'COMBINEFUNC')}, "
    f"{_if_set('ag.aggserialfn', 'SERIALFUNC')}, "
    f"{_if_set('ag.aggdeserialfn', 'DESERIALFUNC')}, "
    "'INITCOND = ' || pg_catalog.quote_literal(ag.agginitval), "
    f"{_if_set('ag.aggmtransfn', 'MSFUNC')}, "
    f"{_if_set('ag.aggminvtransfn', 'MINVFUNC')}, "
    "CASE WHEN ag.aggmtranstype <> 0 THEN 'MSTYPE = ' "
    "|| pg_catalog.format_type(ag.aggmtranstype, NULL) END, "
    "CASE WHEN ag.aggmtransspace <> 0 THEN 'MSSPACE = ' || ag.aggmtransspace END, "
    f"{_if_set('ag.aggmfinalfn', 'MFINALFUNC')}, "
    "CASE WHEN ag.aggmfinalextra THEN 'MFINALFUNC_EXTRA' END, "
    "CASE WHEN ag.aggmfinalfn <> 0 THEN 'MFINALFUNC_MODIFY = ' || "
    + _MODIFY.format("ag.aggmfinalmodify")
    + " END, "
    "'MINITCOND = ' || pg_catalog.quote_literal(ag.aggminitval), "
    "CASE WHEN ag.aggsortop <> 0 THEN (SELECT 'SORTOP = OPERATOR(' "
    "|| pg_catalog.quote_ident(opn.nspname) || '.' || o.oprname || ')' "
    "FROM pg_catalog.pg_operator o JOIN pg_catalog.pg_namespace opn ON opn.oid = o.oprnamespace "
    "WHERE o.oid = ag.aggsortop) END, "
    "CASE p.proparallel WHEN 's' THEN 'PARALLEL = SAFE' WHEN 'r' THEN 'PARALLEL = RESTRICTED' "
    "END, "
    "CASE WHEN ag.aggkind = 'h' THEN 'HYPOTHETICAL' END) || ')' "
    "FROM pg_catalog.pg_aggregate ag WHERE ag.aggfnoid = p.oid)"
)

SCHEMAS = Kind(
    label="schema",
    ref="'pg_namespace:' || n.oid::text",
    family="'schema'",
    kind="'schema'",
    ident="pg_catalog.quote_ident(n.nspname)",
    tables="pg_catalog.pg_namespace n",
    where=f"{user_ns('n')} AND {not_member('pg_namespace', 'n.oid')}",
    attrs=(("owner", role("n.nspowner")),),
    acl=Acl("n.nspacl", "n.nspowner", "'n'"),
    comment=Comment("pg_namespace", "n.oid"),
    extras=(("schema", "n.nspname"),),
)

FUNCTIONS = Kind(
    label="function",
    ref="'pg_proc:' || p.oid::text",
    family="'func:' || p.oid::text",
    scope=(("func", ("p.oid",)),),
    kind=("CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' ELSE 'function' END"),
    ident="p.oid::pg_catalog.regprocedure::text",
    tables=(
        "pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace "
        "JOIN pg_catalog.pg_language l ON l.oid = p.prolang"
    ),
    where=f"{user_ns('n')} AND {not_member('pg_proc', 'p.oid')}",
    attrs=(
        ("arguments", "pg_catalog.pg_get_function_arguments(p.oid)"),
        ("returns", "pg_catalog.pg_get_function_result(p.oid)"),
        ("language", "l.lanname::text"),
        (
            "volatility",
            "CASE p.provolatile WHEN 'i' THEN 'immutable' WHEN 's' THEN 'stable' "
            "ELSE 'volatile' END",
        ),
        ("strict", "p.proisstrict"),
        ("security definer", "p.prosecdef"),
        ("leakproof", "p.proleakproof"),
        (
            "parallel",
            "CASE p.proparallel WHEN 's' THEN 'safe' WHEN 'r' THEN 'restricted' ELSE 'unsafe' END",
        ),
        ("cost", "p.procost::text"),
        ("rows", "p.prorows::text"),
        ("config", f"CASE WHEN p.proconfig IS NOT NULL THEN {sorted_array('p.proconfig')} END"),
        (
            "body",
            "CASE WHEN p.prosqlbody IS NOT NULL THEN pg_catalog.pg_get_function_sqlbody(p.oid) "
            "ELSE p.prosrc END",
        ),
        ("owner", role("p.proowner")),
    ),
    acl=Acl("p.proacl", "p.proowner", "'f'"),
    comment=Comment("pg_proc", "p.oid"),
    extras=(
        ("schema", "n.nspname"),
        ("name", "p.proname"),
        ("identity arguments", "pg_catalog.pg_get_function_identity_arguments(p.oid)"),
        (
            "ddl",
            "CASE WHEN p.prokind <> 'a' THEN pg_catalog.pg_get_functiondef(p.oid) ELSE "
            + AGGREGATE_DDL
            + " END",
        ),
    ),
)

TYPES = Kind(
    label="type",
    ref="'pg_type:' || t.oid::text",
    family="'type:' || t.oid::text",
    scope=(("type", ("t.oid",)),),
    kind="'type'",
    ident="pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(t.typname)",
    tables=(
        "pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace "
        "LEFT JOIN pg_catalog.pg_class tc ON tc.oid = t.typrelid "
        "LEFT JOIN pg_catalog.pg_range rg ON rg.rngtypid = t.oid"
    ),
    where=(
        f"{user_ns('n')} AND {not_member('pg_type', 't.oid')} "
        "AND (t.typtype IN ('e', 'd', 'r') OR (t.typtype = 'c' AND tc.relkind = 'c') "
        "OR (t.typtype = 'b' AND t.typelem = 0 AND t.typarray <> 0))"
    ),
    attrs=(
        (
            "variety",
            "CASE t.typtype WHEN 'e' THEN 'enum' WHEN 'c' THEN 'composite' WHEN 'd' THEN 'domain' "
            "WHEN 'r' THEN 'range' ELSE 'base' END",
        ),
        (
            "labels",
            "CASE WHEN t.typtype = 'e' THEN ARRAY(SELECT e.enumlabel::text FROM "
            "pg_catalog.pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder) END",
        ),
        (
            "attributes",
            "CASE WHEN t.typtype = 'c' THEN ARRAY(SELECT pg_catalog.quote_ident(a.attname) || ' ' "
            "|| pg_catalog.format_type(a.atttypid, a.atttypmod) FROM pg_catalog.pg_attribute a "
            "WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped "
            "ORDER BY a.attnum) END",
        ),
        (
            "base type",
            "CASE WHEN t.typtype = 'd' THEN pg_catalog.format_type(t.typbasetype, t.typtypmod) END",
        ),
        ("not null", "CASE WHEN t.typtype = 'd' THEN t.typnotnull END"),
        ("default", "t.typdefault"),
        (
            "collation",
            "CASE WHEN t.typtype = 'd' AND t.typcollation <> 0 AND t.typcollation <> (SELECT "
            "b.typcollation FROM pg_catalog.pg_type b WHERE b.oid = t.typbasetype) THEN (SELECT "
            "pg_catalog.quote_ident(cn.nspname) || '.' || pg_catalog.quote_ident(cl.collname) "
            "FROM pg_catalog.pg_collation cl JOIN pg_catalog.pg_namespace cn "
            "ON cn.oid = cl.collnamespace WHERE cl.oid = t.typcollation) END",
        ),
        ("subtype", "pg_catalog.format_type(rg.rngsubtype, NULL)"),
        ("owner", role("t.typowner")),
    ),
    acl=Acl("t.typacl", "t.typowner", "'T'"),
    comment=Comment("pg_type", "t.oid"),
    extras=(("schema", "n.nspname"), ("name", "t.typname")),
)

EXTENSIONS = Kind(
    label="extension",
    ref="'pg_extension:' || x.oid::text",
    family="'extension'",
    kind="'extension'",
    ident="pg_catalog.quote_ident(x.extname)",
    tables="pg_catalog.pg_extension x JOIN pg_catalog.pg_namespace n ON n.oid = x.extnamespace",
    where="",
    attrs=(
        ("version", "x.extversion"),
        ("schema", "pg_catalog.quote_ident(n.nspname)"),
    ),
    extras=(("name", "x.extname"),),
)

PUBLICATIONS = Kind(
    label="publication",
    ref="'pg_publication:' || p.oid::text",
    family="'publication'",
    kind="'publication'",
    ident="pg_catalog.quote_ident(p.pubname)",
    tables="pg_catalog.pg_publication p",
    where="",
    attrs=(
        ("owner", role("p.pubowner")),
        ("all tables", "p.puballtables"),
        (
            "publish",
            "ARRAY(SELECT a FROM (VALUES (1, CASE WHEN p.pubinsert THEN 'insert' END), "
            "(2, CASE WHEN p.pubupdate THEN 'update' END), "
            "(3, CASE WHEN p.pubdelete THEN 'delete' END), "
            "(4, CASE WHEN p.pubtruncate THEN 'truncate' END)) v(o, a) "
            "WHERE a IS NOT NULL ORDER BY o)",
        ),
        ("via root", "p.pubviaroot"),
    ),
    comment=Comment("pg_publication", "p.oid"),
)

PUBLICATION_TABLES = Kind(
    label="publication table",
    ref="'pg_publication_rel:' || pr.oid::text",
    family="'publication table'",
    kind="'publication table'",
    ident="pg_catalog.quote_ident(p.pubname) || ':' || " + rel_ident("n", "c"),
    parent_kind="'publication'",
    parent="pg_catalog.quote_ident(p.pubname)",
    tables=(
        "pg_catalog.pg_publication_rel pr "
        "JOIN pg_catalog.pg_publication p ON p.oid = pr.prpubid "
        "JOIN pg_catalog.pg_class c ON c.oid = pr.prrelid "
        "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
    ),
    where=f"n.nspname <> '{ARCHIVE_SCHEMA}'",  # bookkeeping (query.py `user_ns`)
    attrs=(
        (
            "columns",
            "CASE WHEN pr.prattrs IS NOT NULL THEN ARRAY(SELECT pg_catalog.quote_ident(a.attname) "
            "FROM pg_catalog.unnest(pr.prattrs::pg_catalog.int2[]) k JOIN pg_catalog.pg_attribute "
            "a ON a.attrelid = pr.prrelid AND a.attnum = k ORDER BY a.attnum) END",
        ),
        ("row filter", "pg_catalog.pg_get_expr(pr.prqual, pr.prrelid)"),
    ),
    extras=(("publication", "p.pubname"), ("table", rel_ident("n", "c"))),
)

PUBLICATION_SCHEMAS = Kind(
    label="publication schema",
    ref="'pg_publication_namespace:' || pn.oid::text",
    family="'publication schema'",
    kind="'publication schema'",
    ident="pg_catalog.quote_ident(p.pubname) || ':' || pg_catalog.quote_ident(n.nspname)",
    parent_kind="'publication'",
    parent="pg_catalog.quote_ident(p.pubname)",
    tables=(
        "pg_catalog.pg_publication_namespace pn "
        "JOIN pg_catalog.pg_publication p ON p.oid = pn.pnpubid "
        "JOIN pg_catalog.pg_namespace n ON n.oid = pn.pnnspid"
    ),
    where="",
    attrs=(),
    extras=(("publication", "p.pubname"), ("schema", "n.nspname")),
)

# Column lists and row filters (`pg_publication_rel.prattrs`, `prqual`) and schema publications
# (`pg_publication_namespace`) exist from PostgreSQL 15 on; before it a publication has none,
# so the same kinds read as "absent" there (same attributes, no rows) and snapshots compare.
PUBLICATION_DETAILS_SINCE = 150000
_PUBLICATION_TABLES_BEFORE_15 = dataclasses.replace(
    PUBLICATION_TABLES, attrs=(("columns", "NULL::text[]"), ("row filter", "NULL::text"))
)
_PUBLICATION_SCHEMAS_BEFORE_15 = dataclasses.replace(
    PUBLICATION_SCHEMAS,
    ref="NULL::text",
    ident="NULL::text",
    parent="NULL::text",
    tables="pg_catalog.pg_publication p JOIN pg_catalog.pg_namespace n ON false",
)


def _publication_kinds(server_version_num: int) -> tuple[Kind, Kind]:
    if server_version_num >= PUBLICATION_DETAILS_SINCE:
        return PUBLICATION_TABLES, PUBLICATION_SCHEMAS
    return _PUBLICATION_TABLES_BEFORE_15, _PUBLICATION_SCHEMAS_BEFORE_15


DEFAULT_PRIVILEGES = Kind(
    label="default privileges",
    ref="'pg_default_acl:' || d.oid::text",
    family="'default privileges'",
    kind="'default privileges'",
    ident=(
        "'for role ' || "
        + role("d.defaclrole")
        + " || coalesce(' in schema ' || pg_catalog.quote_ident(n.nspname), '') || ' on ' || "
        "CASE d.defaclobjtype WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences' "
        "WHEN 'f' THEN 'functions' WHEN 'T' THEN 'types' WHEN 'n' THEN 'schemas' END"
    ),
    tables=(
        "pg_catalog.pg_default_acl d "
        "LEFT JOIN pg_catalog.pg_namespace n ON n.oid = d.defaclnamespace"
    ),
    where="",
    attrs=(),
    acl=Acl("d.defaclacl", "d.defaclrole", None),
    extras=(
        ("role", "pg_catalog.pg_get_userbyid(d.defaclrole)::text"),
        ("schema", "n.nspname"),
        ("object type", "d.defaclobjtype::text"),
    ),
)

EVENT_TRIGGERS = Kind(
    label="event trigger",
    ref="'pg_event_trigger:' || e.oid::text",
    family="'event trigger'",
    kind="'event trigger'",
    ident="pg_catalog.quote_ident(e.evtname)",
    tables="pg_catalog.pg_event_trigger e",
    where=(f"{not_member('pg_event_trigger', 'e.oid')} AND e.evtname !~ '^_migration_rollback_'"),
    attrs=(
        ("event", "e.evtevent::text"),
        ("tags", f"CASE WHEN e.evttags IS NOT NULL THEN {sorted_array('e.evttags')} END"),
        ("function", "e.evtfoid::pg_catalog.regprocedure::text"),
        ("enabled", "e.evtenabled::text"),
        ("owner", role("e.evtowner")),
    ),
    comment=Comment("pg_event_trigger", "e.oid"),
)


def kinds_for(server_version_num: int) -> tuple[Kind, ...]:
    """The catalog queries a server of this version can run (KINDS from PostgreSQL 15 on)."""
    tables, schemas = _publication_kinds(server_version_num)
    nulls_not_distinct = server_version_num >= NULLS_NOT_DISTINCT_SINCE
    by_version = {
        PUBLICATION_TABLES.label: tables,
        PUBLICATION_SCHEMAS.label: schemas,
        INDEXES.label: INDEXES if nulls_not_distinct else INDEXES_BEFORE_15,
    }
    return tuple(by_version.get(k.label, k) for k in KINDS)


KINDS: tuple[Kind, ...] = (
    SCHEMAS,
    RELATIONS,
    COLUMNS,
    CONSTRAINTS,
    INDEXES,
    FUNCTIONS,
    TRIGGERS,
    POLICIES,
    RULES,
    TYPES,
    EXTENSIONS,
    PUBLICATIONS,
    PUBLICATION_TABLES,
    PUBLICATION_SCHEMAS,
    DEFAULT_PRIVILEGES,
    EVENT_TRIGGERS,
)
