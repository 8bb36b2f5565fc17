"""Privileges and owners: GRANT/REVOKE that make an object's ACL exactly the before-state's,
and what CREATE would grant by itself (default privileges), so nothing is restated needlessly.

Part of the state-aware rollbacks (see the package's docstring); pure, no database.
"""

from __future__ import annotations

from typing import Any

from migration_rollback.sql.kinds import KINDS
from migration_rollback.verify.snapshot import Grant, Snapshot, SnapshotObject, quote_ident
from migration_rollback.verify.stateful.lookups import Unknown

_RELATION_KEYWORD = {
    "table": "TABLE",
    "view": "VIEW",
    "materialized view": "MATERIALIZED VIEW",
    "sequence": "SEQUENCE",
    "foreign table": "FOREIGN TABLE",
}
_GRANT_KEYWORD = {k.name: k.grant_keyword for k in KINDS.values() if k.grant_keyword}

_TABLE_PRIVILEGES = "DELETE,INSERT,REFERENCES,SELECT,TRIGGER,TRUNCATE,UPDATE"
_BASE_PRIVILEGES: dict[str, Any] = {
    "table": lambda owner: (f"{owner}={_TABLE_PRIVILEGES}",),
    "view": lambda owner: (f"{owner}={_TABLE_PRIVILEGES}",),
    "materialized view": lambda owner: (f"{owner}={_TABLE_PRIVILEGES}",),
    "foreign table": lambda owner: (f"{owner}={_TABLE_PRIVILEGES}",),
    "sequence": lambda owner: (f"{owner}=SELECT,UPDATE,USAGE",),
    "function": lambda owner: ("PUBLIC=EXECUTE", f"{owner}=EXECUTE"),
    "procedure": lambda owner: ("PUBLIC=EXECUTE", f"{owner}=EXECUTE"),
    "aggregate": lambda owner: ("PUBLIC=EXECUTE", f"{owner}=EXECUTE"),
    "type": lambda owner: ("PUBLIC=USAGE", f"{owner}=USAGE"),
    "schema": lambda owner: (f"{owner}=CREATE,USAGE",),
}
_DEFAULT_ACL_TYPE = {k.name: k.default_acl for k in KINDS.values() if k.default_acl}


class Privileges:
    """The ACL arithmetic of the DDL writer (mixed into `ddl.Writer`)."""

    before: Snapshot
    creator: str | None  # the role the rollback runs as (owners equal to it are not restated)
    notes: list[str]

    def grant_target(self, obj: SnapshotObject) -> str:
        kind = obj.id.kind
        keyword = _GRANT_KEYWORD.get(kind)
        if keyword is None:
            raise Unknown(f"privileges on {kind} are not restored")
        if kind == "type" and obj.get("variety") == "domain":
            keyword = "DOMAIN"
        return f"{keyword} {obj.id.name}"

    def privileges(
        self, obj: SnapshotObject, current: SnapshotObject | None = None, column: str | None = None
    ) -> list[str]:
        """GRANT/REVOKE so that the object's privileges are exactly the before-state's."""
        wanted = obj.strings("privileges")
        if current is not None and current.strings("privileges") == wanted:
            return []
        target = (
            self.grant_target(self._privilege_holder(obj)) if column else self.grant_target(obj)
        )
        cols = f" ({column})" if column else ""
        grantees = {Grant.parse(g).grantee for g in wanted}
        if current is not None:
            grantees |= {Grant.parse(g).grantee for g in current.strings("privileges")}
        else:
            grantees |= self._default_grantees(obj)
        grantees.add("PUBLIC")
        out = [f"REVOKE ALL{cols} ON {target} FROM {', '.join(sorted(grantees))}"]
        for text in wanted:
            grant = Grant.parse(text)
            if grant.grantor is not None:
                self.notes.append(
                    f"{obj.id}: privileges granted by {grant.grantor} are re-granted by the "
                    "role running the rollback"
                )
            plain = [p for p in grant.privileges if not p.endswith("*")]
            option = [p.rstrip("*") for p in grant.privileges if p.endswith("*")]
            for privs, suffix in ((plain, ""), (option, " WITH GRANT OPTION")):
                if privs:
                    listed = ", ".join(f"{p}{cols}" for p in privs)
                    out.append(f"GRANT {listed} ON {target} TO {grant.grantee}{suffix}")
        return out

    def _privilege_holder(self, column: SnapshotObject) -> SnapshotObject:
        if column.parent is None:
            raise Unknown(f"{column.id} has no table")
        holder = self.before.objects.get(column.parent)
        if holder is None:
            raise Unknown(f"{column.parent} is not in the schema before the migration")
        return holder

    def _default_grantees(self, obj: SnapshotObject) -> set[str]:
        """Roles default privileges may grant to on a newly created object."""
        out: set[str] = set()
        for entry in self.before.of_kind("default privileges"):
            out |= {Grant.parse(g).grantee for g in entry.strings("privileges")}
        return out

    def owner(self, obj: SnapshotObject, current: SnapshotObject | None = None) -> list[str]:
        owner = obj.text("owner")
        if owner is None:
            return []
        if current is not None:
            if current.text("owner") == owner:
                return []
        elif owner == self.creator:
            return []
        return self.owner_sql(obj)

    def owner_sql(self, obj: SnapshotObject) -> list[str]:
        """ALTER ... OWNER TO the owner the object has in this state."""
        owner = obj.text("owner")
        keyword = _RELATION_KEYWORD.get(obj.id.kind) or _GRANT_KEYWORD.get(obj.id.kind)
        if obj.id.kind == "publication":
            keyword = "PUBLICATION"
        if keyword is None or owner is None:
            return []
        if obj.id.kind == "type" and obj.get("variety") == "domain":
            keyword = "DOMAIN"
        return [f"ALTER {keyword} {obj.id.name} OWNER TO {owner}"]

    def expected_new_privileges(self, obj: SnapshotObject) -> tuple[str, ...] | None:
        """The privileges CREATE would give this object (run by the creator), if known."""
        kind = obj.id.kind
        owner = obj.text("owner")
        if owner is None or owner != (quote_ident(self.creator) if self.creator else None):
            return None
        base = _BASE_PRIVILEGES.get(kind)
        objtype = _DEFAULT_ACL_TYPE.get(kind)
        if base is None or objtype is None:
            return None
        schema = obj.extra_text("schema") if kind != "schema" else None
        merged: dict[str, set[str]] = {}
        entries = [
            e
            for e in self.before.of_kind("default privileges")
            if e.extra_text("role") == self.creator and e.extra_text("object type") == objtype
        ]
        global_entry = [e for e in entries if e.extra_text("schema") is None]
        start = global_entry[0].strings("privileges") if global_entry else base(owner)
        local = [e for e in entries if schema is not None and e.extra_text("schema") == schema]
        for text in [*start, *(g for e in local for g in e.strings("privileges"))]:
            grant = Grant.parse(text)
            if grant.grantor is not None:
                return None
            merged.setdefault(grant.grantee, set()).update(grant.privileges)
        return tuple(sorted(Grant(g, tuple(sorted(p))).render() for g, p in merged.items() if p))
