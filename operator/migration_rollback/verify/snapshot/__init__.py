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

Two ways to read the same model (`read.py`):
- `take_snapshot(conn)`: every object of the database;
- the scoped read: the objects of the families a migration touched (change capture names
  them), to compare with the kept model; the server runs it as one function (`scoped.py`)
  that reads only the kinds with a row in scope, and `scoped_snapshot` turns its rows into
  objects.

Both work inside an open transaction (they see its uncommitted changes) and leave the session's
search_path as they found it. The parts: `objects.py` (the model's types), `query.py` (how one kind
is read), `kinds.py` and `relation_kinds.py` (every kind), `privileges.py` (ACLs), `read.py`,
`scoped.py`.
"""

from migration_rollback.sql.compose import quote_ident  # re-exported: its one home is compose
from migration_rollback.verify.snapshot.kinds import KINDS, PUBLICATION_DETAILS_SINCE, kinds_for
from migration_rollback.verify.snapshot.objects import (
    RELATION_KINDS,
    ObjectId,
    Snapshot,
    SnapshotObject,
    Value,
    qualified,
    snapshot_to_json,
)
from migration_rollback.verify.snapshot.privileges import Grant, normalize_acl, parse_aclitem
from migration_rollback.verify.snapshot.query import HELPER_SCHEMA, SCOPE_TABLE
from migration_rollback.verify.snapshot.read import Scope, scoped_snapshot, take_snapshot

__all__ = [
    "HELPER_SCHEMA",
    "KINDS",
    "PUBLICATION_DETAILS_SINCE",
    "RELATION_KINDS",
    "SCOPE_TABLE",
    "Grant",
    "ObjectId",
    "Scope",
    "Snapshot",
    "SnapshotObject",
    "Value",
    "kinds_for",
    "normalize_acl",
    "parse_aclitem",
    "qualified",
    "quote_ident",
    "scoped_snapshot",
    "snapshot_to_json",
    "take_snapshot",
]
