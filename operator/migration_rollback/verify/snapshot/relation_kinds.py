"""The kinds read per relation: relations themselves, their columns, constraints (domains' too),
indexes, triggers, policies and rules. A scoped read selects them by relation OID."""

from __future__ import annotations

import dataclasses

from migration_rollback.verify.snapshot.query import (
    EXTENSION_MEMBERSHIP,
    Acl,
    Comment,
    Kind,
    not_member,
    policy_role,
    rel_ident,
    rel_kind,
    role,
    sorted_array,
    user_ns,
    user_relations,
)

# An extra of a partition: its parent's OID, which capture.py's refs keep (see scoped_check.py).
PARTITION_PARENT = "partition parent"

RELATIONS = Kind(
    label="relation",
    ref="'pg_class:' || c.oid::text",
    family="'rel:' || c.oid::text",
    scope=(("rel", ("c.oid",)),),
    kind=rel_kind("c"),
    ident=rel_ident("n", "c"),
    tables=(
        "pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
        "LEFT JOIN pg_catalog.pg_sequence s ON s.seqrelid = c.oid "
        # The owning column, as pg_identify_object writes a column: its table's schema and name
        # and its own name, each as quote_ident quotes it (the table is in the sequence's schema:
        # OWNED BY insists on it, so never a temporary one). Through the system caches: joining
        # pg_class, pg_namespace and pg_attribute cost the server twice as much per sequence.
        "LEFT JOIN LATERAL (SELECT (pg_catalog.pg_identify_object(sd.refclassid, sd.refobjid, "
        "sd.refobjsubid)).identity AS owned_by, sd.deptype = 'i' AS ident "
        "FROM pg_catalog.pg_depend sd "
        "WHERE c.relkind = 'S' AND sd.classid = 'pg_catalog.pg_class'::pg_catalog.regclass "
        "AND sd.objid = c.oid AND sd.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass "
        "AND sd.deptype IN ('a', 'i') AND sd.refobjsubid > 0 LIMIT 1) own ON true "
        "LEFT JOIN (SELECT ih.inhrelid, pg_catalog.array_agg("
        + rel_ident("pn", "pc")
        + " ORDER BY ih.inhseqno) AS parents FROM pg_catalog.pg_inherits ih "
        "JOIN pg_catalog.pg_class pc ON pc.oid = ih.inhparent "
        "JOIN pg_catalog.pg_namespace pn ON pn.oid = pc.relnamespace "
        "GROUP BY ih.inhrelid) inh ON inh.inhrelid = c.oid"
    ),
    where=(
        f"c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND {user_ns('n')} "
        f"AND {not_member('pg_class', 'c.oid')}"
    ),
    attrs=(
        ("owner", role("c.relowner")),
        (
            "persistence",
            "CASE c.relpersistence WHEN 'u' THEN 'unlogged' WHEN 't' THEN 'temporary' END",
        ),
        (
            "partitioned by",
            "CASE WHEN c.relkind = 'p' THEN pg_catalog.pg_get_partkeydef(c.oid) END",
        ),
        (
            "partition of",
            "CASE WHEN c.relispartition THEN (SELECT "
            + rel_ident("pn", "pc")
            + " || ' ' || pg_catalog.pg_get_expr(c.relpartbound, c.oid) "
            "FROM pg_catalog.pg_inherits ih JOIN pg_catalog.pg_class pc ON pc.oid = ih.inhparent "
            "JOIN pg_catalog.pg_namespace pn ON pn.oid = pc.relnamespace "
            "WHERE ih.inhrelid = c.oid) END",
        ),
        ("inherits", "CASE WHEN NOT c.relispartition THEN inh.parents END"),
        ("row security", "CASE WHEN c.relkind IN ('r', 'p') THEN c.relrowsecurity END"),
        # A foreign key (or a deferrable unique key) is enforced by internal triggers on its
        # tables, which the trigger kind leaves out: ALTER TABLE ... DISABLE TRIGGER ALL turns
        # them off, and the key, still in the catalog, is no longer checked. Named here when
        # they are not in their normal state, on the table they fire on.
        (
            "constraint triggers",
            "CASE WHEN c.relkind IN ('r', 'p') THEN (SELECT pg_catalog.array_agg(DISTINCT "
            "co.conname::text || CASE tg.tgenabled WHEN 'D' THEN ' disabled' WHEN 'R' THEN "
            "' replica only' WHEN 'A' THEN ' always' END) FROM pg_catalog.pg_trigger tg "
            "JOIN pg_catalog.pg_constraint co ON co.oid = tg.tgconstraint "
            "WHERE tg.tgrelid = c.oid AND tg.tgisinternal AND tg.tgenabled <> 'O') END",
        ),
        ("force row security", "CASE WHEN c.relkind IN ('r', 'p') THEN c.relforcerowsecurity END"),
        (
            "replica identity",
            "CASE WHEN c.relkind IN ('r', 'p') THEN CASE c.relreplident WHEN 'd' THEN 'default' "
            "WHEN 'n' THEN 'nothing' WHEN 'f' THEN 'full' WHEN 'i' THEN 'index' END END",
        ),
        ("options", f"CASE WHEN c.reloptions IS NOT NULL THEN {sorted_array('c.reloptions')} END"),
        (
            "definition",
            "CASE WHEN c.relkind IN ('v', 'm') THEN pg_catalog.pg_get_viewdef(c.oid) END",
        ),
        ("populated", "CASE WHEN c.relkind = 'm' THEN c.relispopulated END"),
        ("data type", "pg_catalog.format_type(s.seqtypid, NULL)"),
        ("start", "s.seqstart"),
        ("increment", "s.seqincrement"),
        ("minimum", "s.seqmin"),
        ("maximum", "s.seqmax"),
        ("cache", "s.seqcache"),
        ("cycle", "s.seqcycle"),
        ("owned by", "own.owned_by"),
    ),
    acl=Acl("c.relacl", "c.relowner", "CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::\"char\""),
    comment=Comment("pg_class", "c.oid"),
    extras=(
        ("schema", "n.nspname"),
        ("name", "c.relname"),
        ("identity", "own.ident"),
        (
            PARTITION_PARENT,
            "CASE WHEN c.relispartition THEN (SELECT ih.inhparent::text "
            "FROM pg_catalog.pg_inherits ih WHERE ih.inhrelid = c.oid) END",
        ),
        # what a foreign table is recreated with (`CREATE FOREIGN TABLE … SERVER … OPTIONS`)
        (
            "server",
            "CASE WHEN c.relkind = 'f' THEN (SELECT pg_catalog.quote_ident(fs.srvname) "
            "FROM pg_catalog.pg_foreign_table ft JOIN pg_catalog.pg_foreign_server fs "
            "ON fs.oid = ft.ftserver WHERE ft.ftrelid = c.oid) END",
        ),
        (
            "foreign options",
            "CASE WHEN c.relkind = 'f' THEN (SELECT ft.ftoptions FROM pg_catalog.pg_foreign_table "
            "ft WHERE ft.ftrelid = c.oid) END",
        ),
    ),
)

COLUMNS = Kind(
    label="column",
    ref="'pg_attribute:' || a.attrelid::text || '.' || a.attnum::text",
    family="'rel:' || a.attrelid::text",
    scope=(("rel", ("a.attrelid", "c.oid")),),
    kind="'column'",
    ident="c.ident || '.' || pg_catalog.quote_ident(a.attname)",
    parent_kind="c.kind",
    parent="c.ident",
    tables=(
        user_relations("'r', 'p', 'v', 'm', 'f'")
        + " JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid "
        "LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum"
    ),
    where="a.attnum > 0 AND NOT a.attisdropped",
    attrs=(
        ("position", "a.attnum"),  # ranked by the reader: dropped columns leave gaps
        ("type", "pg_catalog.format_type(a.atttypid, a.atttypmod)"),
        ("not null", "a.attnotnull"),
        (
            "default",
            "CASE WHEN a.attgenerated = '' THEN pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) END",
        ),
        (
            "generated",
            "CASE WHEN a.attgenerated = 's' THEN pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) END",
        ),
        (
            "identity",
            "CASE a.attidentity WHEN 'a' THEN 'always' WHEN 'd' THEN 'by default' END",
        ),
        (
            # Looked up only when not the type's own (rarely): a join hashed all of pg_collation
            # (hundreds of ICU collations) at every read.
            "collation",
            "CASE WHEN a.attcollation <> 0 AND a.attcollation <> 100 AND a.attcollation <> "
            "(SELECT ty.typcollation FROM pg_catalog.pg_type ty WHERE ty.oid = a.atttypid) "
            "THEN (SELECT pg_catalog.quote_ident(con.nspname) || '.' || "
            "pg_catalog.quote_ident(co.collname) FROM pg_catalog.pg_collation co "
            "JOIN pg_catalog.pg_namespace con ON con.oid = co.collnamespace "
            "WHERE co.oid = a.attcollation) END",
        ),
    ),
    acl=Acl("a.attacl", "c.relowner", None),
    comment=Comment("pg_class", "c.oid", "a.attnum"),
    extras=(
        ("schema", "c.nspname"),
        ("table", "c.relname"),
        ("column", "a.attname"),
        ("attnum", "a.attnum::text"),
        ("foreign options", "CASE WHEN c.relkind = 'f' THEN a.attfdwoptions END"),
    ),
    ranked="position",
)

CONSTRAINTS = Kind(
    label="constraint",
    ref="'pg_constraint:' || co.oid::text",
    family=(
        "CASE WHEN co.conrelid <> 0 THEN 'rel:' || co.conrelid::text "
        "ELSE 'type:' || co.contypid::text END"
    ),
    scope=(("rel", ("co.conrelid",)), ("type", ("co.contypid",))),
    kind="'constraint'",
    ident=(
        "CASE WHEN co.conrelid <> 0 THEN "
        + rel_ident("n", "c")
        + " ELSE pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(ty.typname) "
        "END || '.' || pg_catalog.quote_ident(co.conname)"
    ),
    parent_kind=f"CASE WHEN co.conrelid <> 0 THEN {rel_kind('c')} ELSE 'type' END",
    parent=(
        "CASE WHEN co.conrelid <> 0 THEN "
        + rel_ident("n", "c")
        + " ELSE pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(ty.typname) "
        "END"
    ),
    tables=(
        "pg_catalog.pg_constraint co "
        "JOIN pg_catalog.pg_namespace n ON n.oid = co.connamespace "
        "LEFT JOIN pg_catalog.pg_class c ON c.oid = co.conrelid "
        "LEFT JOIN pg_catalog.pg_type ty ON ty.oid = co.contypid"
    ),
    where=(
        f"co.contype <> 't' AND {user_ns('n')} AND NOT EXISTS ("
        f"SELECT FROM pg_catalog.pg_depend xd WHERE {EXTENSION_MEMBERSHIP} AND xd.objid = "
        "(CASE WHEN co.conrelid <> 0 THEN co.conrelid ELSE co.contypid END) AND xd.classid = "
        "(CASE WHEN co.conrelid <> 0 THEN 'pg_catalog.pg_class' ELSE 'pg_catalog.pg_type' END)"
        "::pg_catalog.regclass)"
    ),
    attrs=(
        (
            "type",
            "CASE co.contype WHEN 'p' THEN 'primary key' WHEN 'u' THEN 'unique' "
            "WHEN 'f' THEN 'foreign key' WHEN 'c' THEN 'check' WHEN 'x' THEN 'exclusion' "
            "ELSE co.contype::text END",
        ),
        ("definition", "pg_catalog.pg_get_constraintdef(co.oid)"),
    ),
    comment=Comment("pg_constraint", "co.oid"),
    extras=(
        ("schema", "n.nspname"),
        ("table", "c.relname"),
        ("type name", "ty.typname"),
        ("name", "co.conname"),
        (
            "column numbers",
            "co.conkey::pg_catalog.text[]",
        ),
    ),
)


# pg_get_indexdef costs the server most of an index's read (it looks for the default operator
# class of every key column); pg_get_constraintdef a fifth of that. A plain index behind a primary
# key or unique constraint (ADD CONSTRAINT insists on default operator classes, collations and
# ordering, no expressions, no predicate) is its constraint's column list after
# `CREATE UNIQUE INDEX name ON table USING btree`, the very text pg_get_indexdef gives, as long as
# nothing else shows in either: no storage options, tablespace, deferrability, NULLS NOT
# DISTINCT (from PostgreSQL 15; `_index_definition(False)` before it), or partitioned index.
def _index_definition(nulls_not_distinct: bool) -> str:
    plain = (
        "k.contype IN ('p', 'u') AND ic.relkind = 'i' AND ic.reloptions IS NULL "
        "AND ic.reltablespace = 0 AND NOT k.condeferrable"
        + (" AND NOT i.indnullsnotdistinct" if nulls_not_distinct else "")
    )
    return (
        f"CASE WHEN {plain} THEN 'CREATE UNIQUE INDEX ' || pg_catalog.quote_ident(ic.relname) "
        "|| ' ON ' || c.ident || ' USING btree ' || pg_catalog.regexp_replace("
        "pg_catalog.pg_get_constraintdef(k.oid), '^[^(]*', '') "
        "ELSE pg_catalog.pg_get_indexdef(i.indexrelid) END"
    )


INDEXES = Kind(
    label="index",
    ref="'pg_class:' || i.indexrelid::text",
    family="'rel:' || i.indrelid::text",
    scope=(("rel", ("i.indrelid", "c.oid")),),
    kind="'index'",
    ident=rel_ident("n", "ic"),
    parent_kind="c.kind",
    parent="c.ident",
    # (only tables, partitioned tables and materialized views have indexes)
    tables=(
        user_relations("'r', 'p', 'm'") + " JOIN pg_catalog.pg_index i ON i.indrelid = c.oid "
        "JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid "
        "JOIN pg_catalog.pg_namespace n ON n.oid = ic.relnamespace "
        "LEFT JOIN pg_catalog.pg_constraint k ON k.conindid = i.indexrelid "
        "AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u', 'x')"
    ),
    where=user_ns("n"),
    attrs=(
        ("table", "c.ident"),
        ("definition", _index_definition(nulls_not_distinct=True)),
        ("constraint", "pg_catalog.quote_ident(k.conname)"),
        ("valid", "i.indisvalid"),
        ("clustered", "i.indisclustered"),
        ("replica identity", "i.indisreplident"),
    ),
    comment=Comment("pg_class", "ic.oid"),
    extras=(
        ("schema", "n.nspname"),
        ("name", "ic.relname"),
        (
            # Key columns (0: an expression, whose columns show in the definition).
            "column numbers",
            "i.indkey::pg_catalog.int2[]::pg_catalog.text[]",
        ),
    ),
)

TRIGGERS = Kind(
    label="trigger",
    ref="'pg_trigger:' || tg.oid::text",
    family="'rel:' || tg.tgrelid::text",
    scope=(("rel", ("tg.tgrelid", "c.oid")),),
    kind="'trigger'",
    ident=rel_ident("n", "c") + " || '.' || pg_catalog.quote_ident(tg.tgname)",
    parent_kind=rel_kind("c"),
    parent=rel_ident("n", "c"),
    tables=(
        "pg_catalog.pg_trigger tg JOIN pg_catalog.pg_class c ON c.oid = tg.tgrelid "
        "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
    ),
    where=f"NOT tg.tgisinternal AND {user_ns('n')} AND {not_member('pg_class', 'c.oid')}",
    attrs=(
        ("definition", "pg_catalog.pg_get_triggerdef(tg.oid)"),
        (
            "enabled",
            "CASE tg.tgenabled WHEN 'O' THEN 'origin' WHEN 'D' THEN 'disabled' "
            "WHEN 'R' THEN 'replica' WHEN 'A' THEN 'always' END",
        ),
    ),
    comment=Comment("pg_trigger", "tg.oid"),
    extras=(("schema", "n.nspname"), ("table", "c.relname"), ("name", "tg.tgname")),
)

POLICIES = Kind(
    label="policy",
    ref="'pg_policy:' || pol.oid::text",
    family="'rel:' || pol.polrelid::text",
    scope=(("rel", ("pol.polrelid", "c.oid")),),
    kind="'policy'",
    ident="c.ident || '.' || pg_catalog.quote_ident(pol.polname)",
    parent_kind="c.kind",
    parent="c.ident",
    # (only tables have policies: CREATE POLICY refuses any other relation)
    tables=(user_relations("'r', 'p'") + " JOIN pg_catalog.pg_policy pol ON pol.polrelid = c.oid"),
    where="",
    attrs=(
        (
            "command",
            "CASE pol.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE' "
            "WHEN 'd' THEN 'DELETE' ELSE 'ALL' END",
        ),
        ("permissive", "pol.polpermissive"),
        (
            # Most policies name one role: no sorted subquery for them.
            "roles",
            "CASE WHEN pg_catalog.cardinality(pol.polroles) = 1 THEN ARRAY["
            + policy_role("pol.polroles[1]")
            + "] ELSE ARRAY(SELECT "
            + policy_role("r")
            + " FROM pg_catalog.unnest(pol.polroles) r ORDER BY 1) END",
        ),
        ("using", "pg_catalog.pg_get_expr(pol.polqual, pol.polrelid)"),
        ("with check", "pg_catalog.pg_get_expr(pol.polwithcheck, pol.polrelid)"),
    ),
    comment=Comment("pg_policy", "pol.oid"),
    extras=(("schema", "c.nspname"), ("table", "c.relname"), ("name", "pol.polname")),
)

RULES = Kind(
    label="rule",
    ref="'pg_rewrite:' || r.oid::text",
    family="'rel:' || r.ev_class::text",
    scope=(("rel", ("r.ev_class", "c.oid")),),
    kind="'rule'",
    ident=rel_ident("n", "c") + " || '.' || pg_catalog.quote_ident(r.rulename)",
    parent_kind=rel_kind("c"),
    parent=rel_ident("n", "c"),
    tables=(
        "pg_catalog.pg_rewrite r JOIN pg_catalog.pg_class c ON c.oid = r.ev_class "
        "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
    ),
    where=(f"r.rulename <> '_RETURN' AND {user_ns('n')} AND {not_member('pg_class', 'c.oid')}"),
    attrs=(
        ("definition", "pg_catalog.pg_get_ruledef(r.oid)"),
        ("enabled", "r.ev_enabled::text"),
    ),
    comment=Comment("pg_rewrite", "r.oid"),
)

# Before PostgreSQL 15 no index has NULLS NOT DISTINCT (nor pg_index.indnullsnotdistinct).
NULLS_NOT_DISTINCT_SINCE = 150000
INDEXES_BEFORE_15 = dataclasses.replace(
    INDEXES,
    attrs=tuple(
        (name, _index_definition(nulls_not_distinct=False) if name == "definition" else expr)
        for name, expr in INDEXES.attrs
    ),
)
