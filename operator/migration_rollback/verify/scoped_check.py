"""The scoped check as one call of a server-side function: fill the scope, read what is in it.

A check was six statements in the round trip's batch: the catalog reads' settings and the
planner's (index scans only), the fill of the scope table from the change capture, the scoped
read, and the settings put back, each parsed and planned by the server and written and loaded
by the client, twice a migration. `scoped_check()` (PL/pgSQL, made with the change capture in
the verifier's helper schema) does the same in one: its SET clauses hold the settings while it
runs (and put the caller's back when it returns), it fills the scope (and the GRANT/REVOKE
targets its arguments name, when there are some), then returns the scope's rows and the
objects of the kinds with a row in scope (snapshot/scoped.py). Its rows: (category, oid, name)
of the scope, then (kind's index, the object as JSON), each with the other columns NULL.

The fill's statements keep the plans made at the first check: planned with sequential scans
off, they find what the capture names, and the families in scope, by OID and ref through the
catalogs' indexes whatever the catalogs held then (test_verify_bookkeeping_plans.py).
"""

from __future__ import annotations

from migration_rollback.verify.snapshot import HELPER_SCHEMA, SCOPE_TABLE, scoped
from migration_rollback.verify.snapshot.query import user_ns

CAPTURE_TABLE = "pg_temp._mr_capture"
REFS_TABLE = "pg_temp._mr_refs"
FUNCTION = f"{HELPER_SCHEMA}.scoped_check"

# A relation of the scope in a schema no model holds (the archive a rollback's DROP TABLE moves
# it to, the verifier's own, a temporary one): no kind's query reads it (they keep to
# `user_ns`), so it is in the scope under this category, which none of them starts from. A
# migration whose rollback archives its tables then costs its comparison no kind's query
# (with the code that ran read once a round trip, roundtrip.py: the checks of bench_verify.py's
# 300 migrations took a tenth less of the server's time by pg_stat_statements, three runs each
# on PostgreSQL 15 and 17). Asked per row by a scalar subquery: as EXISTS, the planner hashed
# it, reading every relation of pg_catalog at every check (0.4 ms).
OUTSIDE = "rel outside"

_PUBLICATION_GROUPS = ("publication", "publication table", "publication schema")
# Matched with to_regclass: pg_publication_namespace only exists from PostgreSQL 15 on.
_DROPPED_GROUPS = "VALUES ('pg_namespace', 'schema'), ('pg_extension', 'extension'), " + ", ".join(
    f"('{catalog_name}', '{group}')"
    for catalog_name in ("pg_publication", "pg_publication_rel", "pg_publication_namespace")
    for group in _PUBLICATION_GROUPS
)

# Fills the scope table from the capture table. A table's inheritance children and partitions
# come with it (`scoped`): an ALTER TABLE without ONLY recurses into them, yet the event
# triggers report the table named alone; so do the partitions it had in the model (a relation's
# ref row names its partition parent, capture.py): ALTER TABLE ... DETACH PARTITION is reported
# as the parent, after which the partition is no longer its child. ALTER TYPE on a composite's
# attributes is reported as its pg_class row (relkind 'c'), which no relation kind reads: its
# attributes are the type kind's, so the row stands for its type (reltype). ALTER EXTENSION is
# reported as the extension alone, though ADD/DROP changes a member (and UPDATE may change
# any): 'whole' asks for the full comparison. A relation's sequences (identity, serial, OWNED BY)
# come with it: ALTER TABLE ... OWNER TO and SET LOGGED/UNLOGGED change them too, reported as the
# table alone. A column dropped from a relation that stays (a composite type's attribute, by DROP
# TYPE ... CASCADE) is its relation's change, as a default dropped so is its table's (capture.py).
_FILL_SCOPE = f"""
WITH RECURSIVE emptied AS (DELETE FROM {SCOPE_TABLE}),
cap AS (SELECT DISTINCT classid, objid, objsubid, tag, dropped FROM {CAPTURE_TABLE}),
live AS (SELECT classid, objid FROM cap WHERE objid IS NOT NULL
  AND (NOT dropped OR (objsubid <> 0 AND classid = 'pg_catalog.pg_class'::pg_catalog.regclass))),
found(category, oid, name) AS (
SELECT CASE WHEN c.relkind = 'c' THEN 'type' ELSE 'rel' END, CASE WHEN c.relkind IN ('i', 'I')
    THEN (SELECT i.indrelid FROM pg_catalog.pg_index i WHERE i.indexrelid = c.oid)
    WHEN c.relkind = 'c' THEN c.reltype ELSE c.oid END, NULL
  FROM live JOIN pg_catalog.pg_class c ON c.oid = live.objid
  WHERE live.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND c.relkind <> 't'
UNION
SELECT CASE WHEN t.typrelid <> 0 AND tc.relkind <> 'c' THEN 'rel' ELSE 'type' END,
    CASE WHEN t.typrelid <> 0 AND tc.relkind <> 'c' THEN t.typrelid ELSE t.oid END, NULL
  FROM live JOIN pg_catalog.pg_type t ON t.oid = live.objid
  LEFT JOIN pg_catalog.pg_class tc ON tc.oid = t.typrelid
  WHERE live.classid = 'pg_catalog.pg_type'::pg_catalog.regclass
UNION
SELECT 'func', live.objid, NULL FROM live
  WHERE live.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
UNION
SELECT CASE WHEN co.conrelid <> 0 THEN 'rel' ELSE 'type' END,
    CASE WHEN co.conrelid <> 0 THEN co.conrelid ELSE co.contypid END, NULL
  FROM live JOIN pg_catalog.pg_constraint co ON co.oid = live.objid
  WHERE live.classid = 'pg_catalog.pg_constraint'::pg_catalog.regclass
UNION
SELECT 'rel', tg.tgrelid, NULL FROM live JOIN pg_catalog.pg_trigger tg ON tg.oid = live.objid
  WHERE live.classid = 'pg_catalog.pg_trigger'::pg_catalog.regclass
UNION
SELECT 'rel', pol.polrelid, NULL FROM live
  JOIN pg_catalog.pg_policy pol ON pol.oid = live.objid
  WHERE live.classid = 'pg_catalog.pg_policy'::pg_catalog.regclass
UNION
SELECT 'rel', r.ev_class, NULL FROM live JOIN pg_catalog.pg_rewrite r ON r.oid = live.objid
  WHERE live.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass
UNION
SELECT 'rel', ad.adrelid, NULL FROM live JOIN pg_catalog.pg_attrdef ad ON ad.oid = live.objid
  WHERE live.classid = 'pg_catalog.pg_attrdef'::pg_catalog.regclass
UNION
SELECT 'group', NULL, g.name FROM cap
  JOIN ({_DROPPED_GROUPS}) g(catalog_name, name)
    ON cap.classid = pg_catalog.to_regclass('pg_catalog.' || g.catalog_name)
  WHERE cap.objid IS NOT NULL
UNION
SELECT r.category, r.oid, CASE WHEN r.category = 'group' THEN r.name END
  FROM cap JOIN {REFS_TABLE} r ON r.ref = CASE
    WHEN cap.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND cap.objsubid <> 0
    THEN 'pg_attribute:' || cap.objid::text || '.' || cap.objsubid::text
    ELSE cap.classid::pg_catalog.regclass::text || ':' || cap.objid::text END
  WHERE cap.dropped
UNION
SELECT 'group', NULL, 'default privileges' FROM cap
  WHERE cap.objid IS NULL AND cap.tag = 'ALTER DEFAULT PRIVILEGES'
UNION
SELECT 'group', NULL, 'event trigger' WHERE $14 OR EXISTS (SELECT FROM pg_catalog.pg_event_trigger e
  WHERE e.evtname !~ '^_migration_rollback_')
UNION
SELECT 'whole', NULL, cap.tag::text FROM cap WHERE cap.tag = 'ALTER EXTENSION'
UNION
SELECT 'unexplained', NULL, cap.tag::text FROM cap WHERE cap.objid IS NULL AND NOT cap.dropped
  AND cap.tag NOT IN ('GRANT', 'REVOKE', 'ALTER DEFAULT PRIVILEGES')
UNION
SELECT 'grants', NULL, pg_catalog.count(*)::text FROM {CAPTURE_TABLE}
  WHERE objid IS NULL AND tag IN ('GRANT', 'REVOKE')
),
scoped(category, oid, name) AS (
SELECT category, oid, name FROM found
UNION
SELECT 'rel'::text, k.child, NULL::text FROM scoped s CROSS JOIN LATERAL (
  SELECT i.inhrelid FROM pg_catalog.pg_inherits i WHERE i.inhparent = s.oid
  UNION ALL
  SELECT r.oid FROM {REFS_TABLE} r WHERE r.category = 'rel' AND r.name = s.oid::text
  UNION ALL
  SELECT d.objid FROM pg_catalog.pg_depend d
    JOIN pg_catalog.pg_class sq ON sq.oid = d.objid AND sq.relkind = 'S'
    WHERE d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refobjid = s.oid
      AND d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.deptype IN ('a', 'i')
  ) k(child)
  WHERE s.category = 'rel'
)
INSERT INTO {SCOPE_TABLE} SELECT CASE WHEN s.category = 'rel' AND (
    SELECT NOT ({user_ns("n")}) FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = s.oid)
  THEN '{OUTSIDE}' ELSE s.category END, s.oid, s.name FROM scoped s
"""

# Adds the targets of GRANT/REVOKE statements, read from their parse trees ($1-$8: schema and
# name lists; $9: whether a schema was granted on: the function's arguments), those not in the
# scope already (the scoped reads take each row of it once: query.py `scope_rows`). Run only
# when there were some.
_FILL_GRANTS = f"""
INSERT INTO {SCOPE_TABLE} (category, oid, name)
SELECT g.category, g.oid, g.name FROM (
SELECT 'rel' AS category, c.oid, NULL AS name FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  JOIN ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2)) w(s, r)
    ON c.relname = w.r AND (w.s IS NULL OR n.nspname = w.s)
UNION
SELECT 'rel', c.oid, NULL FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = ANY($3) AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
UNION
SELECT 'func', p.oid, NULL FROM pg_catalog.pg_proc p
  JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
  JOIN ROWS FROM (pg_catalog.unnest($4), pg_catalog.unnest($5)) w(s, f)
    ON p.proname = w.f AND (w.s IS NULL OR n.nspname = w.s)
UNION
SELECT 'func', p.oid, NULL FROM pg_catalog.pg_proc p
  JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
  WHERE n.nspname = ANY($6)
UNION
SELECT 'type', t.oid, NULL FROM pg_catalog.pg_type t
  JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
  JOIN ROWS FROM (pg_catalog.unnest($7), pg_catalog.unnest($8)) w(s, t)
    ON t.typname = w.t AND (w.s IS NULL OR n.nspname = w.s)
UNION
SELECT 'group', NULL, 'schema' WHERE $9
) g WHERE NOT EXISTS (SELECT FROM {SCOPE_TABLE} s WHERE s.category = g.category
  AND s.oid IS NOT DISTINCT FROM g.oid AND s.name IS NOT DISTINCT FROM g.name)
"""

# GRANT/REVOKE targets ($1-$9, as _FILL_GRANTS reads them), and how many there were ($10).
# The read of the code that ran (ran_code.py), returned with the check's rows when $13 asks
# for it: its arguments are $11 and $12 (whether the statements may write rows; the kept
# catalog views).
RAN_FUNCTION = f"{HELPER_SCHEMA}.ran_code"
RAN = "ran:"  # the category of its rows: "ran:" and its own
_ARGUMENTS = ", ".join(
    ["pg_catalog.text[]"] * 8 + ["boolean", "integer", "boolean", "oid[]", "boolean", "boolean"]
)
_COLUMNS = "mr_category, mr_oid, mr_name, mr_kind, mr_row"
# Event triggers ($14): commands on them fire none, so they are read whole at a check when the
# kept model holds one ($14) or the database does now; when neither does they are the same
# (none), and their read is left out (it was one query at every check, finding nothing).
# What a check sends, with no GRANT/REVOKE among the statements and no kept view over a
# catalog, by whether they may write rows, whether it reads the code that ran and whether the
# model holds an event trigger; with some, `WITH_GRANTS` (every argument).
CHECK_SQL = {
    (writes, ran, events): f"SELECT {_COLUMNS} FROM {FUNCTION}("
    + ", ".join(
        ["'{}'"] * 8
        + ["false", "0", str(writes).lower(), "'{}'", str(ran).lower(), str(events).lower()]
    )
    + ")"
    for writes in (False, True)
    for ran in (False, True)
    for events in (False, True)
}
WITH_GRANTS = f"SELECT {_COLUMNS} FROM {FUNCTION}(" + ", ".join(f"${n}" for n in range(1, 15)) + ")"
_QUOTE = "$mr_check$"

# While it runs: names come out schema-qualified (search_path), its plans are made once and
# reach catalogs through indexes (plan_cache_mode, enable_seqscan), and no catalog read is
# compiled (jit: see catalog.py).
_SETTINGS = (
    ("search_path", "pg_catalog"),
    ("plan_cache_mode", "force_generic_plan"),
    ("enable_seqscan", "off"),
    ("jit", "off"),
    ("quote_all_identifiers", "off"),  # a rollback may turn it on: names deparse as always
)


def function_sql() -> str:
    """CREATE OR REPLACE the function (after snapshot/scoped.py's, which it calls)."""
    body = (
        f"BEGIN\n{_FILL_SCOPE};\nIF $10 > 0 THEN\n{_FILL_GRANTS};\nEND IF;\n"
        f"RETURN QUERY SELECT s.category::text, s.oid, s.name::text, NULL::integer, NULL::text "
        f"FROM {SCOPE_TABLE} s;\n"
        f"RETURN QUERY SELECT NULL::text, NULL::oid, NULL::text, r.mr_kind, r.mr_row "
        f"FROM {scoped.FUNCTION}() r;\n"
        f"IF $13 THEN\nRETURN QUERY SELECT '{RAN}' || r.mr_what, r.mr_oid, r.mr_name, "
        f"NULL::integer, r.mr_code FROM {RAN_FUNCTION}($11, $12) r;\nEND IF;\nEND"
    )
    if _QUOTE in body:
        raise ValueError(f"the check's statements hold {_QUOTE}, the function body's quote")
    settings = " ".join(f"SET {name} = {value}" for name, value in _SETTINGS)
    return (
        f"CREATE OR REPLACE FUNCTION {FUNCTION}({_ARGUMENTS}) RETURNS TABLE (mr_category text, "
        f"mr_oid oid, mr_name text, mr_kind integer, mr_row text) LANGUAGE plpgsql {settings} "
        f"AS {_QUOTE}\n#variable_conflict use_column\n{body}\n{_QUOTE}"
    )
