"""State-aware rollbacks: fill the MANUAL steps that need the schema as it was before.

The static generator (`migration_rollback.sql`) cannot know a column's previous type, a
function's previous body or the definition of an index a migration dropped: it marks those
steps MANUAL. The shadow replay knows them: the model of the schema before the migration. This
module writes the missing SQL from that model (pure: no database; the round trip then proves
it):

- PRIOR_COLUMN_TYPE / _DEFAULT / PRIOR_NOT_NULL: the column's previous type (`ALTER COLUMN ...
  TYPE <old> USING col::<old>`), default, nullability; nothing when the column is new;
- PRIOR_DEFINITION: the previous function (pg_get_functiondef), view (pg_get_viewdef), trigger,
  policy, comment or publication table list; a DROP when the object did not exist before;
- RECREATE_DROPPED: the dropped index, constraint, policy, trigger, function, view, rule, type,
  sequence, schema, extension or publication, recreated from its definition; a dropped table or
  column is recreated structurally (columns, types, defaults, identity, constraints, indexes,
  RLS, policies, triggers, grants, comments) but its rows are gone: flagged as data loss;
- ENUM_VALUE: the enum recreated without the added value (rename, create, convert every column
  through text, drop; CHECK constraints, index expressions, policies, trigger conditions and
  views that use those columns dropped before and recreated after): flagged, it rewrites those
  tables;
- PRIOR_PRIVILEGES: the object's ACL as it was; of a GRANT or REVOKE ON ALL <kind> IN SCHEMA
  or ON SCHEMA, per object the schema held before, what each grantee named held
  (`schema_grants`);
- PRIOR_OWNER: the owner before the migration; PRIOR_REPLICA_IDENTITY: the table's replica
  identity; PRIOR_ROW_SECURITY: its row level security switches (enabled, forced); DYNAMIC: a
  query whose calls the shadow's pg_proc says are stable or immutable needs nothing, a DO
  block is undone from the shadow's delta (`dynamic`);
- a static step that recreates an object from an earlier migration's text is written from the
  shadow's definition instead (it follows later renames), and every object is recreated once
  (by identity: no "already exists", no "multiple primary keys").

`repair` writes SQL for the differences a round trip found (objects a CASCADE took with it,
objects a DO block created...), so `generate --verify` can converge on a verified rollback.
Every statement emitted re-parses with pglast (the generator's safety bel

The package, one idea a module: `lookups` (find what an ObjectRef names in a snapshot), `acl`
(privileges and owners), `schema_grants` (ON ALL ... IN SCHEMA undone object by
object), `ddl` (the writer that recreates or drops objects), `renamed` (an
object under the name a rename gave it), `fill` (the MANUAL fillers), `steps` (how each static
step is taken over), `body` (`stateful_rollback`), `dynamic` (DO blocks from the delta),
`renames` (renames in a diff, and recreations that wait for a rename back), `repair` (SQL from a
round trip's differences).
"""

from migration_rollback.sql.compose import quote_literal as literal
from migration_rollback.verify.stateful.body import (
    Filled,
    StatefulResult,
    StillManual,
    stateful_rollback,
)
from migration_rollback.verify.stateful.lookups import normalize_args
from migration_rollback.verify.stateful.repair import repair

__all__ = [
    "Filled",
    "StatefulResult",
    "StillManual",
    "literal",
    "normalize_args",
    "repair",
    "stateful_rollback",
]
