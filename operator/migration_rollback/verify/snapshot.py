"""A normalized, comparable model of a database schema, read from the catalogs in a few queries.

Every object is keyed by a stable identity (`ObjectId(kind, name)`, never an OID): names are
written the way PostgreSQL's `quote_ident` writes them, schema-qualified, so an identity is also
valid SQL (`public.users`, `public.users.email`, `public.f(integer,text)`). The attributes of an
object (`SnapshotObject.attrs`) are what comparisons look at; `SnapshotObject.extra` holds what
state-aware generation needs but a comparison must not (raw names, `pg_get_functiondef` text).

What is covered: schemas, tables (kind, persistence, partitioning, inheritance, RLS flags, replica
identity, options), views and materialized views (definition), sequences (parameters, ownership),
columns (type, default, nullability, identity, generated expression, collation, position),
constraints (table and domain), indexes, functions/procedures/aggregates, triggers, rules,
policies, types (enum labels in order, composite attributes, domains, ranges), extensions,
publications (and their tables and schemas), default privileges, event triggers; on each object
its owner, its privileges (ACLs expanded with `aclexplode`, NULL normalized to `acldefault`) and
its comment. pg_catalog, information_schema, pg_toast and temporary schemas are left out, and so
are objects that belong to an extension (the extension and its version stand for them).

Two ways to read the same model:
- `take_snapshot(conn)`: the objects themselves (for diffs and state-aware generation);
- `fingerprint(conn)`: one md5 per kind, computed by the server over exactly the same rows, in
  one round trip. Equal fingerprints mean equal snapshots, so a round trip only pays for the full
  snapshot when something differs.

Both work inside an open transaction (they see its uncommitted changes) and leave the session's
search_path as they found it.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from pglast import keywords

from migration_rollback.verify import catalog

# A value of one attribute: JSON-ready, hashable, comparable.
Value = str | int | bool | None | tuple[str, ...]


@dataclass(frozen=True, slots=True, order=True)
class ObjectId:
    """The stable identity of one schema object: its kind and its (quoted, qualified) name."""

    kind: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"


@dataclass(frozen=True, slots=True)
class SnapshotObject:
    """One object: the attributes compared, its parent (a table for a column...), extras."""

    id: ObjectId
    attrs: Mapping[str, Value]
    parent: ObjectId | None = None
    extra: Mapping[str, Value] = field(default_factory=dict)
    ref: str = ""  # "catalog:oid" of its own catalog row (not compared: OIDs are not identity)
    family: str = ""  # what it is re-read with: "rel:<oid>", "func:<oid>", "type:<oid>", a kind

    def get(self, attr: str) -> Value:
        return self.attrs.get(attr)

    def text(self, attr: str) -> str | None:
        value = self.attrs.get(attr)
        return value if isinstance(value, str) else None

    def strings(self, attr: str) -> tuple[str, ...]:
        value = self.attrs.get(attr)
        return value if isinstance(value, tuple) else ()

    def extra_text(self, key: str) -> str | None:
        value = self.extra.get(key)
        return value if isinstance(value, str) else None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.id.kind,
            "name": self.id.name,
            "attributes": {k: _jsonable(v) for k, v in self.attrs.items()},
        }
        if self.parent is not None:
            out["parent"] = str(self.parent)
        return out


@dataclass(frozen=True)
class Snapshot:
    """The whole schema of one database at one moment."""

    objects: Mapping[ObjectId, SnapshotObject]
    elapsed_ms: float = 0.0

    def __len__(self) -> int:
        return len(self.objects)

    def __iter__(self) -> Iterator[SnapshotObject]:
        return iter(self.objects[k] for k in sorted(self.objects))

    def __contains__(self, key: object) -> bool:
        return key in self.objects

    def get(self, kind: str, name: str) -> SnapshotObject | None:
        return self.objects.get(ObjectId(kind, name))

    def of_kind(self, *kinds: str) -> list[SnapshotObject]:
        return [o for o in self if o.id.kind in kinds]

    def children(self, parent: ObjectId, *kinds: str) -> list[SnapshotObject]:
        return [o for o in self if o.parent == parent and (not kinds or o.id.kind in kinds)]

    def relation(self, name: str) -> SnapshotObject | None:
        """A table, view, materialized view, sequence or foreign table by qualified name."""
        for kind in RELATION_KINDS:
            found = self.objects.get(ObjectId(kind, name))
            if found is not None:
                return found
        return None

    def to_json(self) -> list[dict[str, Any]]:
        return [o.to_json() for o in self]


RELATION_KINDS = ("table", "view", "materialized view", "sequence", "foreign table")


def _jsonable(value: Value) -> Any:
    return list(value) if isinstance(value, tuple) else value


# --- identifiers -----------------------------------------------------------------------------

_NEEDS_NO_QUOTES = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")
_QUOTED_KEYWORDS = frozenset(
    keywords.RESERVED_KEYWORDS | keywords.COL_NAME_KEYWORDS | keywords.TYPE_FUNC_NAME_KEYWORDS
)


def quote_ident(name: str) -> str:
    """PostgreSQL's `quote_ident`: quotes only names that need it (so identities match SQL's)."""
    if (
        name
        and (name[0].islower() or name[0] == "_")
        and name[0].isascii()
        and all(ch in _NEEDS_NO_QUOTES for ch in name)
        and name not in _QUOTED_KEYWORDS
    ):
        return name
    return '"' + name.replace('"', '""') + '"'


def qualified(schema: str, name: str) -> str:
    return f"{quote_ident(schema)}.{quote_ident(name)}"


# --- the catalog queries ---------------------------------------------------------------------


# The verifier's own helpers (change capture) live in this schema; it is never part of a model.
HELPER_SCHEMA = "_migration_rollback_verify"


def _user_ns(alias: str) -> str:
    return (
        f"{alias}.nspname NOT IN ('pg_catalog', 'information_schema', '{HELPER_SCHEMA}') "
        f"AND {alias}.nspname !~ '^pg_(toast|temp_|toast_temp_)'"
    )


def _not_member(catalog: str, oid: str) -> str:
    return (
        "NOT EXISTS (SELECT FROM pg_catalog.pg_depend xd WHERE xd.classid = "
        f"'pg_catalog.{catalog}'::pg_catalog.regclass AND xd.objid = {oid} AND xd.deptype = 'e')"
    )


def _role(expr: str) -> str:
    return f"pg_catalog.quote_ident(pg_catalog.pg_get_userbyid({expr}))"


def _rel_ident(nsp: str, rel: str) -> str:
    return f"pg_catalog.quote_ident({nsp}.nspname) || '.' || pg_catalog.quote_ident({rel}.relname)"


def _rel_kind(rel: str) -> str:
    return (
        f"CASE {rel}.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'table' WHEN 'v' THEN 'view' "
        "WHEN 'm' THEN 'materialized view' WHEN 'S' THEN 'sequence' "
        "WHEN 'f' THEN 'foreign table' WHEN 'c' THEN 'type' ELSE 'relation' END"
    )


def _policy_role(oid: str) -> str:
    return f"CASE WHEN {oid} = 0 THEN 'public' ELSE {_role(oid)} END"


def _sorted_array(expr: str) -> str:
    return f"coalesce(ARRAY(SELECT u FROM pg_catalog.unnest({expr}) u ORDER BY u), '{{}}')"


@dataclass(frozen=True)
class _Acl:
    """Where an object's ACL is: normalized in Python (see `normalize_acl`)."""

    acl: str
    owner: str
    objtype: str | None  # acldefault's object type; None: a NULL ACL means no privileges


@dataclass(frozen=True)
class _Comment:
    catalog: str
    oid: str
    subid: str = "0"


# A scoped read takes its scope from this session-local table (see capture.py): rows
# (category, oid, name) with category "rel", "func" or "type" and an OID, or "group" and the
# label of a kind read whole.
SCOPE_TABLE = "pg_temp._mr_scope"


def _scope_oids(category: str) -> str:
    return f"ARRAY(SELECT s.oid FROM {SCOPE_TABLE} s WHERE s.category = '{category}')"


@dataclass(frozen=True)
class _Kind:
    """One catalog query: the identity, parent, compared attributes and extras of its rows."""

    label: str
    kind: str  # SQL expression giving ObjectId.kind
    ident: str  # SQL expression giving ObjectId.name
    tables: str  # FROM ... JOIN ...
    where: str
    attrs: tuple[tuple[str, str], ...]
    ref: str  # SQL: "catalog:oid" of the object's own row (how change capture names it)
    family: str  # SQL: the family it is re-read with ("rel:<oid>", "func:<oid>", "schema"...)
    # How a scoped read selects rows: (scope category, SQL oid expressions) pairs; a row is
    # read when, for one pair, every expression is among the category's OIDs (the repetition
    # lets the planner use the OID index of each joined catalog). Empty: the kind is small and
    # is read whole when its label is a "group" of the scope.
    scope: tuple[tuple[str, tuple[str, ...]], ...] = ()
    parent_kind: str | None = None
    parent: str | None = None
    acl: _Acl | None = None
    comment: _Comment | None = None
    extras: tuple[tuple[str, str], ...] = ()

    def select(self, scoped: bool = False) -> str:
        """The query; scoped: only rows of the families in the session's scope table."""
        cols = [
            f"{self.kind} AS k",
            f"{self.ident} AS i",
            f"{self.ref} AS r",
            f"{self.family} AS f",
        ]
        cols.append(f"{self.parent_kind or 'NULL::text'} AS pk")
        cols.append(f"{self.parent or 'NULL::text'} AS p")
        cols.extend(f"{expr} AS a_{n}" for n, (_, expr) in enumerate(self.attrs))
        if self.acl is not None:
            source = (
                f"coalesce({self.acl.acl}, pg_catalog.acldefault({self.acl.objtype}, "
                f"{self.acl.owner}))"
                if self.acl.objtype
                else self.acl.acl
            )
            cols.append(f"{source}::text[] AS acl")
            cols.append(f"pg_catalog.pg_get_userbyid({self.acl.owner})::text AS acl_owner")
        if self.comment is not None and scoped:
            c = self.comment
            cols.append(
                "(SELECT dsc.description FROM pg_catalog.pg_description dsc "
                f"WHERE dsc.objoid = {c.oid} AND dsc.classoid = "
                f"'pg_catalog.{c.catalog}'::pg_catalog.regclass "
                f"AND dsc.objsubid = {c.subid}) AS cmt"
            )
        cols.extend(f"{expr} AS x_{n}" for n, (_, expr) in enumerate(self.extras))
        conditions = [self.where] if self.where else []
        if scoped and self.scope:
            alternatives = [
                " AND ".join(f"{e} = ANY({_scope_oids(category)})" for e in exprs)
                for category, exprs in self.scope
            ]
            conditions.append("((" + ") OR (".join(alternatives) + "))")
        elif scoped:
            conditions.append(
                f"EXISTS (SELECT FROM {SCOPE_TABLE} s WHERE s.category = 'group' "
                f"AND s.name = '{self.label}')"
            )
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        return f"SELECT {', '.join(cols)} FROM {self.tables}{where}"


_SCHEMAS = _Kind(
    label="schema",
    ref="'pg_namespace:' || n.oid::text",
    family="'schema'",
    kind="'schema'",
    ident="pg_catalog.quote_ident(n.nspname)",
    tables="pg_catalog.pg_namespace n",
    where=f"{_user_ns('n')} AND {_not_member('pg_namespace', 'n.oid')}",
    attrs=(("owner", _role("n.nspowner")),),
    acl=_Acl("n.nspacl", "n.nspowner", "'n'"),
    comment=_Comment("pg_namespace", "n.oid"),
    extras=(("schema", "n.nspname"),),
)

_RELATIONS = _Kind(
    label="relation",
    ref="'pg_class:' || c.oid::text",
    family="'rel:' || c.oid::text",
    scope=(("rel", ("c.oid",)),),
    kind=_rel_kind("c"),
    ident=_rel_ident("n", "c"),
    tables=(
        "pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
        "LEFT JOIN pg_catalog.pg_sequence s ON s.seqrelid = c.oid "
        "LEFT JOIN LATERAL (SELECT "
        + _rel_ident("stn", "st")
        + " || '.' || pg_catalog.quote_ident(sa.attname) AS owned_by, sd.deptype = 'i' AS ident "
        "FROM pg_catalog.pg_depend sd JOIN pg_catalog.pg_class st ON st.oid = sd.refobjid "
        "JOIN pg_catalog.pg_namespace stn ON stn.oid = st.relnamespace "
        "JOIN pg_catalog.pg_attribute sa ON sa.attrelid = sd.refobjid "
        "AND sa.attnum = sd.refobjsubid "
        "WHERE c.relkind = 'S' AND sd.classid = 'pg_catalog.pg_class'::pg_catalog.regclass "
        "AND sd.objid = c.oid AND sd.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass "
        "AND sd.deptype IN ('a', 'i') AND sd.refobjsubid > 0 LIMIT 1) own ON true "
        "LEFT JOIN (SELECT ih.inhrelid, pg_catalog.array_agg("
        + _rel_ident("pn", "pc")
        + " ORDER BY ih.inhseqno) AS parents FROM pg_catalog.pg_inherits ih "
        "JOIN pg_catalog.pg_class pc ON pc.oid = ih.inhparent "
        "JOIN pg_catalog.pg_namespace pn ON pn.oid = pc.relnamespace "
        "GROUP BY ih.inhrelid) inh ON inh.inhrelid = c.oid"
    ),
    where=(
        f"c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND {_user_ns('n')} "
        f"AND {_not_member('pg_class', 'c.oid')}"
    ),
    attrs=(
        ("owner", _role("c.relowner")),
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
            + _rel_ident("pn", "pc")
            + " || ' ' || pg_catalog.pg_get_expr(c.relpartbound, c.oid) "
            "FROM pg_catalog.pg_inherits ih JOIN pg_catalog.pg_class pc ON pc.oid = ih.inhparent "
            "JOIN pg_catalog.pg_namespace pn ON pn.oid = pc.relnamespace "
            "WHERE ih.inhrelid = c.oid) END",
        ),
        ("inherits", "CASE WHEN NOT c.relispartition THEN inh.parents END"),
        ("row security", "CASE WHEN c.relkind IN ('r', 'p') THEN c.relrowsecurity END"),
        ("force row security", "CASE WHEN c.relkind IN ('r', 'p') THEN c.relforcerowsecurity END"),
        (
            "replica identity",
            "CASE WHEN c.relkind IN ('r', 'p') THEN CASE c.relreplident WHEN 'd' THEN 'default' "
            "WHEN 'n' THEN 'nothing' WHEN 'f' THEN 'full' WHEN 'i' THEN 'index' END END",
        ),
        ("options", f"CASE WHEN c.reloptions IS NOT NULL THEN {_sorted_array('c.reloptions')} END"),
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
    acl=_Acl("c.relacl", "c.relowner", "CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::\"char\""),
    comment=_Comment("pg_class", "c.oid"),
    extras=(("schema", "n.nspname"), ("name", "c.relname"), ("identity", "own.ident")),
)

_COLUMNS = _Kind(
    label="column",
    ref="'pg_attribute:' || a.attrelid::text || '.' || a.attnum::text",
    family="'rel:' || a.attrelid::text",
    scope=(("rel", ("a.attrelid", "c.oid")),),
    kind="'column'",
    ident=_rel_ident("n", "c") + " || '.' || pg_catalog.quote_ident(a.attname)",
    parent_kind=_rel_kind("c"),
    parent=_rel_ident("n", "c"),
    tables=(
        "pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
        "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
        "LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum "
        "LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation "
        "AND a.attcollation <> 100 AND a.attcollation <> (SELECT ty.typcollation "
        "FROM pg_catalog.pg_type ty WHERE ty.oid = a.atttypid) "
        "LEFT JOIN pg_catalog.pg_namespace con ON con.oid = co.collnamespace"
    ),
    where=(
        "a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f') "
        f"AND {_user_ns('n')} AND {_not_member('pg_class', 'c.oid')}"
    ),
    attrs=(
        (
            "position",
            "pg_catalog.row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum)",
        ),
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
            "collation",
            "pg_catalog.quote_ident(con.nspname) || '.' || pg_catalog.quote_ident(co.collname)",
        ),
    ),
    acl=_Acl("a.attacl", "c.relowner", None),
    comment=_Comment("pg_class", "c.oid", "a.attnum"),
    extras=(
        ("schema", "n.nspname"),
        ("table", "c.relname"),
        ("column", "a.attname"),
        ("attnum", "a.attnum::text"),
    ),
)

_CONSTRAINTS = _Kind(
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
        + _rel_ident("n", "c")
        + " ELSE pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(ty.typname) "
        "END || '.' || pg_catalog.quote_ident(co.conname)"
    ),
    parent_kind=f"CASE WHEN co.conrelid <> 0 THEN {_rel_kind('c')} ELSE 'type' END",
    parent=(
        "CASE WHEN co.conrelid <> 0 THEN "
        + _rel_ident("n", "c")
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
        f"co.contype <> 't' AND {_user_ns('n')} AND NOT EXISTS ("
        "SELECT FROM pg_catalog.pg_depend xd WHERE xd.deptype = 'e' AND xd.objid = "
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
    comment=_Comment("pg_constraint", "co.oid"),
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

_INDEXES = _Kind(
    label="index",
    ref="'pg_class:' || i.indexrelid::text",
    family="'rel:' || i.indrelid::text",
    scope=(("rel", ("i.indrelid", "c.oid")),),
    kind="'index'",
    ident=_rel_ident("n", "ic"),
    parent_kind=_rel_kind("c"),
    parent=_rel_ident("tn", "c"),
    tables=(
        "pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid "
        "JOIN pg_catalog.pg_namespace n ON n.oid = ic.relnamespace "
        "JOIN pg_catalog.pg_class c ON c.oid = i.indrelid "
        "JOIN pg_catalog.pg_namespace tn ON tn.oid = c.relnamespace "
        "LEFT JOIN pg_catalog.pg_constraint k ON k.conindid = i.indexrelid "
        "AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u', 'x')"
    ),
    where=f"{_user_ns('n')} AND {_not_member('pg_class', 'c.oid')}",
    attrs=(
        ("table", _rel_ident("tn", "c")),
        ("definition", "pg_catalog.pg_get_indexdef(i.indexrelid)"),
        ("constraint", "pg_catalog.quote_ident(k.conname)"),
        ("valid", "i.indisvalid"),
        ("clustered", "i.indisclustered"),
        ("replica identity", "i.indisreplident"),
    ),
    comment=_Comment("pg_class", "ic.oid"),
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

_FUNCTIONS = _Kind(
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
    where=f"{_user_ns('n')} AND {_not_member('pg_proc', 'p.oid')}",
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
        ("config", f"CASE WHEN p.proconfig IS NOT NULL THEN {_sorted_array('p.proconfig')} END"),
        (
            "body",
            "CASE WHEN p.prosqlbody IS NOT NULL THEN pg_catalog.pg_get_function_sqlbody(p.oid) "
            "ELSE p.prosrc END",
        ),
        ("owner", _role("p.proowner")),
    ),
    acl=_Acl("p.proacl", "p.proowner", "'f'"),
    comment=_Comment("pg_proc", "p.oid"),
    extras=(
        ("schema", "n.nspname"),
        ("name", "p.proname"),
        ("identity arguments", "pg_catalog.pg_get_function_identity_arguments(p.oid)"),
        ("ddl", "CASE WHEN p.prokind <> 'a' THEN pg_catalog.pg_get_functiondef(p.oid) END"),
    ),
)

_TRIGGERS = _Kind(
    label="trigger",
    ref="'pg_trigger:' || tg.oid::text",
    family="'rel:' || tg.tgrelid::text",
    scope=(("rel", ("tg.tgrelid", "c.oid")),),
    kind="'trigger'",
    ident=_rel_ident("n", "c") + " || '.' || pg_catalog.quote_ident(tg.tgname)",
    parent_kind=_rel_kind("c"),
    parent=_rel_ident("n", "c"),
    tables=(
        "pg_catalog.pg_trigger tg JOIN pg_catalog.pg_class c ON c.oid = tg.tgrelid "
        "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
    ),
    where=f"NOT tg.tgisinternal AND {_user_ns('n')} AND {_not_member('pg_class', 'c.oid')}",
    attrs=(
        ("definition", "pg_catalog.pg_get_triggerdef(tg.oid)"),
        (
            "enabled",
            "CASE tg.tgenabled WHEN 'O' THEN 'origin' WHEN 'D' THEN 'disabled' "
            "WHEN 'R' THEN 'replica' WHEN 'A' THEN 'always' END",
        ),
    ),
    comment=_Comment("pg_trigger", "tg.oid"),
    extras=(("schema", "n.nspname"), ("table", "c.relname"), ("name", "tg.tgname")),
)

_POLICIES = _Kind(
    label="policy",
    ref="'pg_policy:' || pol.oid::text",
    family="'rel:' || pol.polrelid::text",
    scope=(("rel", ("pol.polrelid", "c.oid")),),
    kind="'policy'",
    ident=_rel_ident("n", "c") + " || '.' || pg_catalog.quote_ident(pol.polname)",
    parent_kind=_rel_kind("c"),
    parent=_rel_ident("n", "c"),
    tables=(
        "pg_catalog.pg_policy pol JOIN pg_catalog.pg_class c ON c.oid = pol.polrelid "
        "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
    ),
    where=f"{_user_ns('n')} AND {_not_member('pg_class', 'c.oid')}",
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
            + _policy_role("pol.polroles[1]")
            + "] ELSE ARRAY(SELECT "
            + _policy_role("r")
            + " FROM pg_catalog.unnest(pol.polroles) r ORDER BY 1) END",
        ),
        ("using", "pg_catalog.pg_get_expr(pol.polqual, pol.polrelid)"),
        ("with check", "pg_catalog.pg_get_expr(pol.polwithcheck, pol.polrelid)"),
    ),
    comment=_Comment("pg_policy", "pol.oid"),
    extras=(("schema", "n.nspname"), ("table", "c.relname"), ("name", "pol.polname")),
)

_RULES = _Kind(
    label="rule",
    ref="'pg_rewrite:' || r.oid::text",
    family="'rel:' || r.ev_class::text",
    scope=(("rel", ("r.ev_class", "c.oid")),),
    kind="'rule'",
    ident=_rel_ident("n", "c") + " || '.' || pg_catalog.quote_ident(r.rulename)",
    parent_kind=_rel_kind("c"),
    parent=_rel_ident("n", "c"),
    tables=(
        "pg_catalog.pg_rewrite r JOIN pg_catalog.pg_class c ON c.oid = r.ev_class "
        "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
    ),
    where=(f"r.rulename <> '_RETURN' AND {_user_ns('n')} AND {_not_member('pg_class', 'c.oid')}"),
    attrs=(
        ("definition", "pg_catalog.pg_get_ruledef(r.oid)"),
        ("enabled", "r.ev_enabled::text"),
    ),
    comment=_Comment("pg_rewrite", "r.oid"),
)

_TYPES = _Kind(
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
        f"{_user_ns('n')} AND {_not_member('pg_type', 't.oid')} "
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
        ("owner", _role("t.typowner")),
    ),
    acl=_Acl("t.typacl", "t.typowner", "'T'"),
    comment=_Comment("pg_type", "t.oid"),
    extras=(("schema", "n.nspname"), ("name", "t.typname")),
)

_EXTENSIONS = _Kind(
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

_PUBLICATIONS = _Kind(
    label="publication",
    ref="'pg_publication:' || p.oid::text",
    family="'publication'",
    kind="'publication'",
    ident="pg_catalog.quote_ident(p.pubname)",
    tables="pg_catalog.pg_publication p",
    where="",
    attrs=(
        ("owner", _role("p.pubowner")),
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
    comment=_Comment("pg_publication", "p.oid"),
)

_PUBLICATION_TABLES = _Kind(
    label="publication table",
    ref="'pg_publication_rel:' || pr.oid::text",
    family="'publication table'",
    kind="'publication table'",
    ident="pg_catalog.quote_ident(p.pubname) || ':' || " + _rel_ident("n", "c"),
    parent_kind="'publication'",
    parent="pg_catalog.quote_ident(p.pubname)",
    tables=(
        "pg_catalog.pg_publication_rel pr "
        "JOIN pg_catalog.pg_publication p ON p.oid = pr.prpubid "
        "JOIN pg_catalog.pg_class c ON c.oid = pr.prrelid "
        "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
    ),
    where="",
    attrs=(
        (
            "columns",
            "CASE WHEN pr.prattrs IS NOT NULL THEN ARRAY(SELECT pg_catalog.quote_ident(a.attname) "
            "FROM pg_catalog.unnest(pr.prattrs::pg_catalog.int2[]) k JOIN pg_catalog.pg_attribute "
            "a ON a.attrelid = pr.prrelid AND a.attnum = k ORDER BY a.attnum) END",
        ),
        ("row filter", "pg_catalog.pg_get_expr(pr.prqual, pr.prrelid)"),
    ),
    extras=(("publication", "p.pubname"), ("table", _rel_ident("n", "c"))),
)

_PUBLICATION_SCHEMAS = _Kind(
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
    _PUBLICATION_TABLES, attrs=(("columns", "NULL::text[]"), ("row filter", "NULL::text"))
)
_PUBLICATION_SCHEMAS_BEFORE_15 = dataclasses.replace(
    _PUBLICATION_SCHEMAS,
    ref="NULL::text",
    ident="NULL::text",
    parent="NULL::text",
    tables="pg_catalog.pg_publication p JOIN pg_catalog.pg_namespace n ON false",
)


def _publication_kinds(server_version_num: int) -> tuple[_Kind, _Kind]:
    if server_version_num >= PUBLICATION_DETAILS_SINCE:
        return _PUBLICATION_TABLES, _PUBLICATION_SCHEMAS
    return _PUBLICATION_TABLES_BEFORE_15, _PUBLICATION_SCHEMAS_BEFORE_15


_DEFAULT_PRIVILEGES = _Kind(
    label="default privileges",
    ref="'pg_default_acl:' || d.oid::text",
    family="'default privileges'",
    kind="'default privileges'",
    ident=(
        "'for role ' || "
        + _role("d.defaclrole")
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
    acl=_Acl("d.defaclacl", "d.defaclrole", None),
    extras=(
        ("role", "pg_catalog.pg_get_userbyid(d.defaclrole)::text"),
        ("schema", "n.nspname"),
        ("object type", "d.defaclobjtype::text"),
    ),
)

_EVENT_TRIGGERS = _Kind(
    label="event trigger",
    ref="'pg_event_trigger:' || e.oid::text",
    family="'event trigger'",
    kind="'event trigger'",
    ident="pg_catalog.quote_ident(e.evtname)",
    tables="pg_catalog.pg_event_trigger e",
    where=(f"{_not_member('pg_event_trigger', 'e.oid')} AND e.evtname !~ '^_migration_rollback_'"),
    attrs=(
        ("event", "e.evtevent::text"),
        ("tags", f"CASE WHEN e.evttags IS NOT NULL THEN {_sorted_array('e.evttags')} END"),
        ("function", "e.evtfoid::pg_catalog.regprocedure::text"),
        ("enabled", "e.evtenabled::text"),
        ("owner", _role("e.evtowner")),
    ),
    comment=_Comment("pg_event_trigger", "e.oid"),
)


def kinds_for(server_version_num: int) -> tuple[_Kind, ...]:
    """The catalog queries a server of this version can run (KINDS from PostgreSQL 15 on)."""
    tables, schemas = _publication_kinds(server_version_num)
    return tuple(
        tables if k is _PUBLICATION_TABLES else schemas if k is _PUBLICATION_SCHEMAS else k
        for k in KINDS
    )


KINDS: tuple[_Kind, ...] = (
    _SCHEMAS,
    _RELATIONS,
    _COLUMNS,
    _CONSTRAINTS,
    _INDEXES,
    _FUNCTIONS,
    _TRIGGERS,
    _POLICIES,
    _RULES,
    _TYPES,
    _EXTENSIONS,
    _PUBLICATIONS,
    _PUBLICATION_TABLES,
    _PUBLICATION_SCHEMAS,
    _DEFAULT_PRIVILEGES,
    _EVENT_TRIGGERS,
)

# --- privileges ------------------------------------------------------------------------------

_PRIVILEGES = {
    "r": "SELECT",
    "w": "UPDATE",
    "a": "INSERT",
    "d": "DELETE",
    "D": "TRUNCATE",
    "x": "REFERENCES",
    "t": "TRIGGER",
    "X": "EXECUTE",
    "U": "USAGE",
    "C": "CREATE",
    "c": "CONNECT",
    "T": "TEMPORARY",
    "s": "SET",
    "A": "ALTER SYSTEM",
    "m": "MAINTAIN",
}


@dataclass(frozen=True, slots=True)
class Grant:
    """One grantee's privileges from one grantor (an `aclitem`, decoded)."""

    grantee: str  # a role name as written by quote_ident, or PUBLIC
    privileges: tuple[str, ...]  # e.g. ("INSERT", "SELECT*"): `*` marks WITH GRANT OPTION
    grantor: str | None = None  # only when it is not the owner

    def render(self) -> str:
        by = f" by {self.grantor}" if self.grantor else ""
        return f"{self.grantee}={','.join(self.privileges)}{by}"

    @classmethod
    def parse(cls, text: str) -> Grant:
        """The inverse of `render`."""
        grantee, _, rest = text.partition("=")
        privileges, _, grantor = rest.partition(" by ")
        return cls(grantee, tuple(privileges.split(",")) if privileges else (), grantor or None)


def _read_name(text: str, pos: int, stop: str) -> tuple[str, int]:
    """A role name as aclitem writes it (double-quoted when it has to be), up to `stop`."""
    if pos < len(text) and text[pos] == '"':
        out: list[str] = []
        pos += 1
        while pos < len(text):
            ch = text[pos]
            if ch == '"':
                if pos + 1 < len(text) and text[pos + 1] == '"':
                    out.append('"')
                    pos += 2
                    continue
                return "".join(out), pos + 1
            out.append(ch)
            pos += 1
        return "".join(out), pos
    end = text.find(stop, pos)
    end = len(text) if end < 0 else end
    return text[pos:end], end


def parse_aclitem(item: str) -> tuple[str, str, str]:
    """`grantee=privs/grantor` → (grantee or "" for PUBLIC, privilege letters, grantor)."""
    grantee, pos = _read_name(item, 0, "=")
    pos += 1  # "="
    slash = item.find("/", pos)
    letters = item[pos:slash] if slash >= 0 else item[pos:]
    grantor = _read_name(item, slash + 1, "\0")[0] if slash >= 0 else ""
    return grantee, letters, grantor


def normalize_acl(items: Iterable[str], owner: str) -> tuple[str, ...]:
    """Sorted `grantee=PRIV,PRIV*[ by grantor]` strings (PRIV* = with grant option)."""
    out: list[str] = []
    for item in items:
        grantee, letters, grantor = parse_aclitem(item)
        privileges: list[str] = []
        for n, ch in enumerate(letters):
            if ch == "*":
                continue
            name = _PRIVILEGES.get(ch, ch)
            grantable = n + 1 < len(letters) and letters[n + 1] == "*"
            privileges.append(name + ("*" if grantable else ""))
        grant = Grant(
            quote_ident(grantee) if grantee else "PUBLIC",
            tuple(sorted(privileges)),
            quote_ident(grantor) if grantor and grantor != owner else None,
        )
        out.append(grant.render())
    return tuple(sorted(out))


@functools.lru_cache(maxsize=4096)
def _normalize_acl_cached(items: tuple[str, ...], owner: str) -> tuple[str, ...]:
    return normalize_acl(items, owner)


@dataclass(frozen=True)
class Scope:
    """Which part of the schema a scoped read covers (OIDs of families, whole small kinds)."""

    rels: frozenset[int] = frozenset()
    funcs: frozenset[int] = frozenset()
    types: frozenset[int] = frozenset()
    groups: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.rels or self.funcs or self.types or self.groups)

    def covers(self, family: str) -> bool:
        kind, _, oid = family.partition(":")
        if not oid:
            return kind in self.groups
        number = int(oid)
        if kind == "rel":
            return number in self.rels
        if kind == "func":
            return number in self.funcs
        if kind == "type":
            return number in self.types
        return False

    def union(self, other: Scope) -> Scope:
        return Scope(
            self.rels | other.rels,
            self.funcs | other.funcs,
            self.types | other.types,
            self.groups | other.groups,
        )

    def describe(self) -> str:
        parts = [f"{len(self.rels)} relations", f"{len(self.funcs)} functions"]
        parts += [f"{len(self.types)} types", *sorted(self.groups)]
        return ", ".join(parts)


# The full read runs in stages: the client turns one stage's rows into objects while the server
# runs the next stage's queries. psycopg hands over no result of a pipeline before it has fetched
# every result queued, so queuing every kind at once cost the server's time plus the client's.
# Cheap kinds first (nothing overlaps the wait for the first stage), then one costly kind per
# stage, and few rows last (nothing overlaps their conversion). A kind missing here is read last.
_STAGES: tuple[frozenset[str], ...] = (
    frozenset(("schema", "function", "trigger", "rule", "type", "extension", "event trigger")),
    frozenset(("relation", "publication", "publication table", "publication schema")),
    frozenset(("index", "default privileges")),
    frozenset(("column",)),
    frozenset(("constraint",)),
    frozenset(("policy",)),
)


def _stages(kinds: tuple[_Kind, ...]) -> list[list[_Kind]]:
    stages: list[list[_Kind]] = [[] for _ in _STAGES]
    for kind in kinds:
        at = next((n for n, labels in enumerate(_STAGES) if kind.label in labels), -1)
        stages[at].append(kind)
    return stages


_Queued = list[tuple[_Kind, psycopg.Cursor[Any]]]
_Read = dict[str, tuple[dict[ObjectId, SnapshotObject], list[SnapshotObject]]]


def _convert(fetched: list[tuple[_Kind, list[Any]]], read: _Read) -> None:
    for kind, rows in fetched:
        objects: dict[ObjectId, SnapshotObject] = {}
        read[kind.label] = objects, _add_rows(objects, kind, rows, inline_comments=False)


def _assemble(
    kinds: tuple[_Kind, ...], read: _Read, comments: dict[str, str]
) -> dict[ObjectId, SnapshotObject]:
    """The objects in the order of `kinds` (as if read one kind after the other), commented."""
    objects: dict[ObjectId, SnapshotObject] = {}
    for kind in kinds:
        objects.update(read[kind.label][0])
    for kind in kinds if comments else ():
        if kind.comment is None:
            continue
        for obj in read[kind.label][1]:
            text = comments.get(obj.ref)
            if text is not None:
                objects[obj.id] = dataclasses.replace(obj, attrs={**obj.attrs, "comment": text})
    return objects


# Comments of user objects, read in bulk for a full snapshot and matched by catalog ref.
_COMMENTS_SQL = (
    "SELECT CASE WHEN d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass "
    "AND d.objsubid <> 0 THEN 'pg_attribute:' || d.objoid::text || '.' || d.objsubid::text "
    "ELSE d.classoid::pg_catalog.regclass::text || ':' || d.objoid::text END, d.description "
    "FROM pg_catalog.pg_description d WHERE d.objoid >= 16384 OR d.objoid = 2200"
)


class PendingScopedSnapshot:
    """The scoped read: rows as JSON (a scope holds few objects)."""

    def __init__(self, kinds: tuple[_Kind, ...], cursors: Sequence[psycopg.Cursor[Any]]) -> None:
        self._kinds = kinds
        self._cursors = cursors
        self._started = time.perf_counter()

    def collect(self) -> Snapshot:
        objects: dict[ObjectId, SnapshotObject] = {}
        by_kind: dict[int, list[tuple[Any, ...]]] = {}
        for cursor in self._cursors:
            for index, text in cursor.fetchall():
                values = json.loads(text)
                by_kind.setdefault(int(index), []).append(tuple(values.values()))
        for index, rows in by_kind.items():
            _add_rows(objects, self._kinds[index], rows)
        return Snapshot(objects, (time.perf_counter() - self._started) * 1000.0)


def queue_scoped_snapshot(
    conn: psycopg.Connection[Any], scope: Scope | None = None
) -> PendingScopedSnapshot:
    """Send the scoped read (the scope table filled first, in the same pipeline).

    Given the scope it reads, only the kinds that can have rows in it are asked for, each by
    its own statement. A migration that creates or drops a schema (the runner's archive schema
    too) makes the server drop every cached plan, and planning the read of all kinds at once
    took longer than running it.
    """
    kinds = kinds_for(conn.info.server_version)
    statements = _scoped_sql(kinds)
    if scope is None:
        return PendingScopedSnapshot(kinds, [catalog.execute(conn, _scoped_union(kinds))])
    wanted = [n for n, kind in enumerate(kinds) if _may_hold(kind, scope)]
    return PendingScopedSnapshot(kinds, [catalog.execute(conn, statements[n]) for n in wanted])


def _may_hold(kind: _Kind, scope: Scope) -> bool:
    """Whether `kind.select(scoped=True)` can return a row for this scope."""
    if not kind.scope:
        return kind.label in scope.groups
    oids = {"rel": scope.rels, "func": scope.funcs, "type": scope.types}
    return any(oids[category] for category, _ in kind.scope)


@functools.cache
def _full_sql(kinds: tuple[_Kind, ...]) -> dict[str, str]:
    return {kind.label: kind.select() for kind in kinds}


@functools.cache
def _scoped_sql(kinds: tuple[_Kind, ...]) -> tuple[str, ...]:
    return tuple(
        f"SELECT {n}, pg_catalog.row_to_json(q)::text FROM ({kind.select(scoped=True)}) q"
        for n, kind in enumerate(kinds)
    )


@functools.cache
def _scoped_union(kinds: tuple[_Kind, ...]) -> str:
    return "\nUNION ALL\n".join(_scoped_sql(kinds))


def take_snapshot(conn: psycopg.Connection[Any]) -> Snapshot:
    """Read the whole schema model of the connected database."""
    started = time.perf_counter()
    kinds = kinds_for(conn.info.server_version)
    statements = _full_sql(kinds)
    read: _Read = {}
    with catalog.reading(conn):
        queued: _Queued = []
        for stage in _stages(kinds):
            fetched = [(kind, cursor.fetchall()) for kind, cursor in queued]
            queued = [(kind, catalog.execute(conn, statements[kind.label])) for kind in stage]
            _convert(fetched, read)  # while the server runs this stage
        comments = catalog.execute(conn, _COMMENTS_SQL)
        _convert([(kind, cursor.fetchall()) for kind, cursor in queued], read)
        texts = dict(comments.fetchall())
    return Snapshot(_assemble(kinds, read, texts), (time.perf_counter() - started) * 1000.0)


def _add_rows(
    objects: dict[ObjectId, SnapshotObject],
    kind: _Kind,
    rows: Sequence[tuple[Any, ...]],
    *,
    inline_comments: bool = True,
) -> list[SnapshotObject]:
    attr_at, acl_at, comment_at, extra_at = _layout(kind, inline_comments)
    parents: dict[tuple[str, str], ObjectId] = {}  # one ObjectId per parent (columns share)
    added: list[SnapshotObject] = []
    for row in rows:
        oid = ObjectId(row[0], row[1])
        parent = None
        if row[5] is not None:
            key = (row[4], row[5])
            parent = parents.get(key)
            if parent is None:
                parent = parents[key] = ObjectId(row[4], row[5])
        # psycopg gives str, int, bool, None and list (for arrays) here: only lists need work.
        attrs: dict[str, Value] = {
            name: (tuple(value) if type(value) is list else value)
            for name, at in attr_at
            if (value := row[at]) is not None
        }
        if acl_at is not None and row[acl_at] is not None:
            attrs["privileges"] = _normalize_acl_cached(tuple(row[acl_at]), row[acl_at + 1])
        if comment_at is not None and row[comment_at] is not None:
            attrs["comment"] = row[comment_at]
        extra: dict[str, Value] = {
            name: (tuple(value) if type(value) is list else value)
            for name, at in extra_at
            if (value := row[at]) is not None
        }
        obj = SnapshotObject(oid, attrs, parent, extra, row[2], row[3])
        objects[oid] = obj
        added.append(obj)
    return added


_Layout = tuple[tuple[tuple[str, int], ...], int | None, int | None, tuple[tuple[str, int], ...]]


@functools.cache
def _layout(kind: _Kind, inline_comments: bool) -> _Layout:
    """Where a row of `kind.select()` holds what: (attribute, column) pairs, the ACL and its
    owner, the comment (None: not in the row), (extra, column) pairs."""
    at = 6
    attr_at = tuple((name, at + n) for n, (name, _) in enumerate(kind.attrs))
    at += len(kind.attrs)
    acl_at = None
    if kind.acl is not None:
        acl_at, at = at, at + 2
    comment_at = None
    if kind.comment is not None and inline_comments:
        comment_at, at = at, at + 1
    extra_at = tuple((name, at + n) for n, (name, _) in enumerate(kind.extras))
    return attr_at, acl_at, comment_at, extra_at


def snapshot_to_json(snapshot: Snapshot) -> str:
    return json.dumps(snapshot.to_json(), indent=2, sort_keys=True)
