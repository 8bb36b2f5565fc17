"""How one kind of catalog object is read: a `Kind` is the query's parts, and the SQL helpers the
kind definitions (`kinds.py`, `relation_kinds.py`) share.

A row of `Kind.select()` is: kind, identity, catalog ref, family, parent kind, parent, then the
compared attributes, the ACL and its owner, the comment (scoped reads only), the extras.
"""

from __future__ import annotations

from dataclasses import dataclass

from migration_rollback.runner.naming import ARCHIVE_SCHEMA

# The verifier's own helpers (change capture) live in this schema; it is never part of a model.
HELPER_SCHEMA = "_migration_rollback_verify"
# What `apply` keeps for restoring (runner/capture.py), taken on the shadow too: bookkeeping.
APPLY_CAPTURES = "migration_rollback_capture"
# Where `execute` moves what a rollback drops (runner/archive.py), on the shadow too
# (verify/as_runner.py): bookkeeping as well, which the comparison leaves out.


def user_ns(alias: str) -> str:
    return (
        f"{alias}.nspname NOT IN ('pg_catalog', 'information_schema', '{HELPER_SCHEMA}', "
        f"'{APPLY_CAPTURES}', '{ARCHIVE_SCHEMA}') "
        f"AND {alias}.nspname !~ '^pg_(toast|temp_|toast_temp_)'"
    )


# A member of an extension depends on it with deptype 'e', and only on an extension: naming the
# referenced catalog lets the server read the few such rows by index, not all of pg_depend.
EXTENSION_MEMBERSHIP = (
    "xd.deptype = 'e' AND xd.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass"
)


def not_member(catalog: str, oid: str) -> str:
    return (
        "NOT EXISTS (SELECT FROM pg_catalog.pg_depend xd WHERE xd.classid = "
        f"'pg_catalog.{catalog}'::pg_catalog.regclass AND xd.objid = {oid} "
        f"AND {EXTENSION_MEMBERSHIP})"
    )


def role(expr: str) -> str:
    return f"pg_catalog.quote_ident(pg_catalog.pg_get_userbyid({expr}))"


def rel_ident(nsp: str, rel: str) -> str:
    return f"pg_catalog.quote_ident({nsp}.nspname) || '.' || pg_catalog.quote_ident({rel}.relname)"


def rel_kind(rel: str) -> str:
    return (
        f"CASE {rel}.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'table' WHEN 'v' THEN 'view' "
        "WHEN 'm' THEN 'materialized view' WHEN 'S' THEN 'sequence' "
        "WHEN 'f' THEN 'foreign table' WHEN 'c' THEN 'type' ELSE 'relation' END"
    )


# Where a full read fences the relations a kind reads per relation (see `user_relations`).
FULL_READ_FENCE = "/* fenced in a full read */"


def user_relations(relkinds: str) -> str:
    """The user's relations of `relkinds` with their identity (`ident`) and kind as the model
    writes them: the kinds read per relation join this (as `c`) instead of pg_class and
    pg_namespace, so that a full read quotes each relation's name once, not again on every
    row of its columns, indexes or policies (at 200 tables that was a fifth of the server's
    CPU for columns). A full read fences the subquery (OFFSET 0), which the planner would
    otherwise flatten, computing the identity per row again; a scoped read does not, so that
    its scope's OIDs still reach pg_class through its index."""
    return (
        "(SELECT c.oid, c.relkind, c.relowner, c.relname, n.nspname, "
        f"{rel_ident('n', 'c')} AS ident, {rel_kind('c')} AS kind "
        "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
        f"WHERE c.relkind IN ({relkinds}) AND {user_ns('n')} "
        f"AND {not_member('pg_class', 'c.oid')}{FULL_READ_FENCE}) c"
    )


def policy_role(oid: str) -> str:
    return f"CASE WHEN {oid} = 0 THEN 'public' ELSE {role(oid)} END"


def sorted_array(expr: str) -> str:
    return f"coalesce(ARRAY(SELECT u FROM pg_catalog.unnest({expr}) u ORDER BY u), '{{}}')"


@dataclass(frozen=True)
class Acl:
    """Where an object's ACL is: normalized in Python (see `normalize_acl`)."""

    acl: str
    owner: str
    objtype: str | None  # acldefault's object type; None: a NULL ACL means no privileges


@dataclass(frozen=True)
class Comment:
    catalog: str
    oid: str
    subid: str = "0"


# A scoped read takes its scope from this session-local table (see capture.py): rows
# (category, oid, name) with category "rel", "func" or "type" and an OID, or "group" and the
# label of a kind read whole.
SCOPE_TABLE = "pg_temp._mr_scope"


def scope_rows(category: str) -> str:
    """The scope's OIDs of one category, as the relation a scoped read starts from. Each kind's
    query then runs once per OID, given it as a parameter (OFFSET 0 keeps the planner from
    merging the two), so the cached generic plan reaches each catalog row by its OID index
    whatever the catalogs held when it was made: a filter `oid = ANY(...)` had let it scan
    whole catalogs, at a cost that grew with the schema. The table holds each (category, OID)
    once (scoped_check.py fills it so): no DISTINCT, whose sort was a tenth of a check's cost."""
    return f"(SELECT s.oid FROM {SCOPE_TABLE} s WHERE s.category = '{category}') sc"


@dataclass(frozen=True)
class Kind:
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
    acl: Acl | None = None
    comment: Comment | None = None
    extras: tuple[tuple[str, str], ...] = ()
    # An attribute whose SQL gives a sort key the reader replaces by the object's rank among
    # its parent's objects of this kind, from 1 (a window function cost the server a sort of
    # every row: see `read._rank`).
    ranked: str | None = None

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
            owner = f"pg_catalog.pg_get_userbyid({self.acl.owner})::text"
            if not self.acl.objtype:  # no ACL, no owner to read it with (most columns)
                owner = f"CASE WHEN {self.acl.acl} IS NOT NULL THEN {owner} END"
            cols.append(f"{source}::text[] AS acl")
            cols.append(f"{owner} AS acl_owner")
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
        tables = self.tables.replace(FULL_READ_FENCE, "" if scoped else " OFFSET 0")
        if scoped and self.scope:
            # One branch per way into the scope; a row in two would be read twice, and the
            # reader keys objects by identity, so twice is once.
            return "\nUNION ALL\n".join(
                f"SELECT q.* FROM {scope_rows(category)} CROSS JOIN LATERAL "
                f"({_query(cols, tables, conditions, exprs)} OFFSET 0) q"
                for category, exprs in self.scope
            )
        if scoped:
            conditions.append(
                f"EXISTS (SELECT FROM {SCOPE_TABLE} s WHERE s.category = 'group' "
                f"AND s.name = '{self.label}')"
            )
        return _query(cols, tables, conditions)


def _query(
    cols: list[str], tables: str, conditions: list[str], scoped_by: tuple[str, ...] = ()
) -> str:
    """SELECT cols FROM tables WHERE the conditions hold and each of `scoped_by` is `sc.oid`."""
    everything = [*conditions, *(f"{expr} = sc.oid" for expr in scoped_by)]
    where = f" WHERE {' AND '.join(everything)}" if everything else ""
    return f"SELECT {', '.join(cols)} FROM {tables}{where}"
