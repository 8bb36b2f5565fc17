"""The objects a migration created so far, found by key and by name.

The context (context.py) holds one per migration; it lives apart because it answers one
question for many rules, cheaply: was an object of this name created here?
"""

from __future__ import annotations

from migration_rollback.sql import kinds
from migration_rollback.sql.model import ObjectRef


class CreatedObjects:
    """The objects this migration created, also indexed by namespace, schema and name.

    COMMENT and OWNER TO ask "was an object of this name created here?" without the arguments
    or the exact kind a statement may leave out (`COMMENT ON FUNCTION f`, `ALTER TABLE v OWNER`
    of a view); scanning every object for each made a large migration quadratic. A column is
    not its table: adding one leaves the table as old as it was.
    """

    def __init__(self) -> None:
        self._keys: set[str] = set()
        self._names: set[tuple[str, str, str]] = set()

    def add(self, ref: ObjectRef) -> None:
        self._keys.add(ref.key)
        self._names.add(_named(ref))

    def __contains__(self, ref: object) -> bool:
        return isinstance(ref, ObjectRef) and ref.key in self._keys

    def has_name(self, ref: ObjectRef) -> bool:
        """Whether an object of `ref`'s namespace, schema and name was created here."""
        return _named(ref) in self._names


def _named(ref: ObjectRef) -> tuple[str, str, str]:
    """What PostgreSQL keeps unique: relations share one namespace, types and domains
    another, routines a third (their arguments apart); a member, its table's name too."""
    kind = kinds.KINDS.get(ref.kind)
    relation = kind is not None and kind.relation
    space = "relation" if relation else _NAMESPACE.get(ref.kind, ref.kind)
    name = ref.name if ref.column is None else f"{ref.name}.{ref.column}"
    return space, ref.schema or "", name if ref.table is None else f"{ref.table}.{name}"


_NAMESPACE = {"domain": "type", "procedure": "function", "aggregate": "function"}
