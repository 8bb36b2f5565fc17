"""What the Supabase platform grants itself, and which privileges a migration's GRANT only says
again.

`supabase db dump` writes the platform's own grants into a project's baseline migration (`GRANT
USAGE ON SCHEMA public TO anon, authenticated, service_role`, `ALTER DEFAULT PRIVILEGES FOR ROLE
postgres IN SCHEMA public GRANT ALL ON TABLES TO anon, ...`). Such a GRANT changed nothing, yet
the undo every GRANT gets, its REVOKE, takes from the Data API's roles what the platform gave
them, and every request of the app fails: found in the generated rollbacks of 4 of 32 real
projects. The platform's grants are read from its SQL (platform/supabase.sql, what the shadow
database loads), once a process; which of them earlier migrations revoked is the history's
(`History.revoked_platform`, kept by `observe`).

A privilege is a (place, grantee, privilege) triple: the place names the object or the default
privileges it is on ("schema public", "tables storage.buckets", "default tables of postgres in
public"), ALL stands for every privilege of its kind (MAINTAIN, PostgreSQL 17's, left out: a
REVOKE naming it fails on older servers).

What each grantee held before a GRANT or REVOKE, the platform's part of it read here, is
privilege_states.py's (a GRANT ... WITH GRANT OPTION of a platform privilege is undone by
REVOKE GRANT OPTION FOR). Known limits: a revocation made by code the history cannot read
leaves nothing assumed on what that code names (history_unread.py); a routine made outside the
migrations is taken not to revoke (--verify compares what it did).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from pglast import parse_sql
from pglast.enums.parsenodes import GrantTargetType, ObjectType, RoleSpecType

from migration_rollback.platform import supabase_sql
from migration_rollback.sql._ast import ast
from migration_rollback.sql.model import ObjectRef
from migration_rollback.sql.names import object_with_args, relation, strings
from migration_rollback.sql.settings import role_named
from migration_rollback.sql.tree_memo import per_tree

if TYPE_CHECKING:
    from migration_rollback.sql.history import History

Privilege = tuple[str, str, str]  # (place, grantee, privilege), all lower case

# What ALL is, per kind of object (lower case, as the grammar gives privilege names).
_ALL: dict[Any, tuple[str, ...]] = {
    ObjectType.OBJECT_SCHEMA: ("usage", "create"),
    ObjectType.OBJECT_TABLE: (
        "select", "insert", "update", "delete", "truncate", "references", "trigger",
    ),
    ObjectType.OBJECT_SEQUENCE: ("usage", "select", "update"),
    ObjectType.OBJECT_FUNCTION: ("execute",),
    ObjectType.OBJECT_ROUTINE: ("execute",),
    ObjectType.OBJECT_PROCEDURE: ("execute",),
    ObjectType.OBJECT_TYPE: ("usage",),
}  # fmt: skip
# The kinds of object whose privileges are read (privilege_states.py follows them too).
FOLLOWED_KINDS = tuple(_ALL)
_KIND = {
    ObjectType.OBJECT_SCHEMA: "schema",
    ObjectType.OBJECT_TABLE: "tables",
    ObjectType.OBJECT_SEQUENCE: "sequences",
    ObjectType.OBJECT_FUNCTION: "functions",
    ObjectType.OBJECT_ROUTINE: "functions",
    ObjectType.OBJECT_PROCEDURE: "functions",
    ObjectType.OBJECT_TYPE: "types",
}
# Supabase runs migrations as postgres: default privileges without FOR ROLE are its own.
_MIGRATION_ROLE = "postgres"

# Only the platform's grants are parsed, each a statement at the start of a line (those inside
# its DO blocks are indented role grants): the whole file took 26 ms a process, these 3.
_GRANTS = re.compile(r"^(?:GRANT|ALTER DEFAULT PRIVILEGES)\b[^;]*;", re.MULTILINE)


@functools.cache
def platform_privileges() -> frozenset[Privilege]:
    """Every privilege the platform's SQL grants."""
    found: set[Privilege] = set()
    for raw in parse_sql("\n".join(_GRANTS.findall(supabase_sql()))):
        found.update(privileges_of(raw.stmt, "public"))
    return frozenset(found)


@per_tree
def privileges_of(node: Any, default_schema: str) -> tuple[Privilege, ...]:
    """What a GRANT or REVOKE (or ALTER DEFAULT PRIVILEGES) names, ALL spelled out; nothing for
    what is not read here (column privileges, roles, other kinds of object). Kept with the
    tree: the generator asks it of a statement, then the history learning from it."""
    return tuple(_named_privileges(node, default_schema))


def _named_privileges(node: Any, default_schema: str) -> Iterator[Privilege]:
    grant = grant_of(node)[0]
    if grant is None or grant.objtype not in _ALL:
        return
    names = privilege_names(grant)
    for place, _part in places_of(node, default_schema):
        for spec in grant.grantees or ():
            yield from ((place, grantee(spec), name) for name in names)


def grant_of(node: Any) -> tuple[Any, Any]:
    """The GrantStmt, and the options of the ALTER DEFAULT PRIVILEGES holding it (or None)."""
    if isinstance(node, ast.AlterDefaultPrivilegesStmt):
        return node.action, node.options or ()
    return (node, None) if isinstance(node, ast.GrantStmt) else (None, None)


def privilege_names(grant: Any) -> tuple[str, ...]:
    if grant.privileges is None:
        return _ALL[grant.objtype]
    if any(p.cols for p in grant.privileges):
        return ()  # column privileges: not the platform's
    return tuple(str(p.priv_name).lower() for p in grant.privileges)


@per_tree
def places_of(node: Any, default_schema: str) -> tuple[tuple[str, Any], ...]:
    """`places` of a GRANT or REVOKE (or the ALTER DEFAULT PRIVILEGES holding one), kept with
    the tree: its undo asks them of the statement some five times."""
    grant, defaults = grant_of(node)
    return tuple(places(grant, defaults, default_schema))


def places(grant: Any, defaults: Any, default_schema: str) -> list[tuple[str, Any]]:
    """Each place the statement names, with the part of it that names it: an object of its
    list, or the (role, schema) pair of the default privileges ("*": no schema)."""
    kind = _KIND[grant.objtype]
    if defaults is not None:
        roles = _option(defaults, "roles") or [_MIGRATION_ROLE]
        schemas = _option(defaults, "schemas") or ["*"]
        return [(f"default {kind} of {r} in {s}", (r, s)) for r in roles for s in schemas]
    objects = grant.objects or ()
    if grant.targtype == GrantTargetType.ACL_TARGET_ALL_IN_SCHEMA:
        return [(f"all {kind} in {strings([o])[0].lower()}", o) for o in objects]
    if grant.objtype == ObjectType.OBJECT_SCHEMA:
        return [(f"schema {strings([o])[0].lower()}", o) for o in objects]
    return [(f"{kind} {_object_name(o, default_schema)}", o) for o in objects]


def _object_name(obj: Any, default_schema: str) -> str:
    """schema.name of a relation or routine (a routine's arguments left out: the platform's
    functions have one signature each)."""
    if isinstance(obj, ast.RangeVar):
        rel = relation(obj, default_schema)
        return f"{rel.schema}.{rel.name}".lower()
    names = strings(getattr(obj, "objname", None) or obj)
    return ".".join([default_schema, *names][-2:]).lower()


def _option(options: Sequence[Any], name: str) -> list[str]:
    for option in options:
        if option.defname == name:
            return [named(a) for a in option.arg]
    return []


def named(arg: Any) -> str:
    """A role's or a schema's name in an option of ALTER DEFAULT PRIVILEGES."""
    return grantee(arg) if isinstance(arg, ast.RoleSpec) else str(arg.sval).lower()


def grantee(spec: Any) -> str:
    if spec.roletype == RoleSpecType.ROLESPEC_PUBLIC:
        return "public"
    # as PostgreSQL names it: the parser folded an unquoted name, a quoted one keeps its case
    name = role_named(spec)
    return name if name is not None else f"<{spec.roletype.name.lower()}>"  # CURRENT_USER


def gave(
    node: Any, default_schema: str, history: History | None
) -> tuple[set[Privilege], set[Privilege]]:
    """(given, gives) of the privileges the statement names, the only ones asked of them.
    given: what the platform gave (itself, or by its default privileges on what earlier
    migrations made) and no earlier migration revoked; gives: what it gave, whatever they
    revoked since. Each is asked of the statement's own privileges, not of a union: that
    would copy every platform privilege at each statement."""
    platform = platform_privileges()
    implied = _implied(node, default_schema, history)
    gives = {p for p in privileges_of(node, default_schema) if p in platform or p in implied}
    revoked = history.revoked_platform if history is not None else frozenset()
    return {p for p in gives if p not in revoked}, gives


def made_earlier(node: Any, place: str, default_schema: str, history: History) -> bool:
    """Whether the object of the statement at `place` was made by an earlier migration."""
    grant, defaults = grant_of(node)
    if defaults is not None or grant.objtype not in _MADE_AS:
        return False
    return any(
        at == place and _made_earlier(grant.objtype, obj, default_schema, history) is not None
        for at, obj in places_of(node, default_schema)
    )


def revoked_from_platform(node: Any) -> set[Privilege]:
    """What a REVOKE takes of the platform's own grants (earlier migrations not asked; REVOKE
    GRANT OPTION FOR takes only an option the platform never gave)."""
    grant = grant_of(node)[0]
    if grant is None or grant.is_grant or grant.grant_option or grant.objtype not in _ALL:
        return set()
    if not any(place in _by_place() for place, _part in places_of(node, "public")):
        return set()  # on no place the platform grants anything: spelled out for nothing
    return set(privileges_of(node, "public")) & platform_privileges()


def observe(history: History, node: Any) -> None:
    """Keep `history.revoked_platform`: a REVOKE adds what it names, a GRANT takes it out
    again (what the platform never gave stays out of every answer: `given` asks it only of
    what the platform gave)."""
    grant = grant_of(node)[0]
    if grant is None:
        return
    asked = set(privileges_of(node, history.default_schema))
    if grant.is_grant:
        history.revoked_platform -= asked
    else:
        history.revoked_platform |= asked


def _implied(node: Any, default_schema: str, history: History | None) -> set[Privilege]:
    """Of what the GRANT names, what the platform's default privileges gave on the objects
    earlier migrations made (as postgres, the role Supabase runs them as)."""
    grant, defaults = grant_of(node)
    if history is None or defaults is not None:
        return set()
    if grant.targtype != GrantTargetType.ACL_TARGET_OBJECT or grant.objtype not in _MADE_AS:
        return set()
    kind, names = _KIND[grant.objtype], privilege_names(grant)
    out: set[Privilege] = set()
    who = [grantee(spec) for spec in grant.grantees or ()]
    for place, obj in places_of(node, default_schema):
        schema = _made_earlier(grant.objtype, obj, default_schema, history)
        if schema is None:
            continue
        default = f"default {kind} of {_MIGRATION_ROLE} in {schema}"
        given = _by_place().get(default, frozenset())
        out.update(
            (place, role, name)
            for role in who
            for name in names
            if (role, name) in given and (default, role, name) not in history.revoked_platform
        )
    return out


# The kinds of object a GRANT names -> the history's kinds for them.
_MADE_AS: dict[Any, tuple[str, ...]] = {
    ObjectType.OBJECT_TABLE: ("table", "view", "materialized view", "foreign table"),
    ObjectType.OBJECT_SEQUENCE: ("sequence",),
    ObjectType.OBJECT_FUNCTION: ("function",),
    ObjectType.OBJECT_PROCEDURE: ("procedure",),
    ObjectType.OBJECT_ROUTINE: ("function", "procedure"),
}


def _made_earlier(objtype: Any, obj: Any, default_schema: str, history: History) -> str | None:
    """The schema of `obj` when earlier migrations made it (None: they did not). Kept while
    the history learns nothing: the undo of a GRANT asks it of each place several times."""
    key = (id(obj), objtype, default_schema)
    hit = _MADE.get(key)
    if hit is not None and hit[0] is obj and hit[1] is history and hit[2] == history.learned:
        return hit[3]
    found = _made_earlier_now(objtype, obj, default_schema, history)
    if len(_MADE) > 4096:
        _MADE.clear()
    _MADE[key] = (obj, history, history.learned, found)
    return found


_MADE: dict[tuple[int, Any, str], tuple[Any, History, int, str | None]] = {}


def _made_earlier_now(objtype: Any, obj: Any, default_schema: str, history: History) -> str | None:
    if isinstance(obj, ast.RangeVar):
        rel = relation(obj, default_schema)
        refs = [ObjectRef(kind, rel.name, rel.schema) for kind in _MADE_AS[objtype]]
    elif isinstance(obj, ast.ObjectWithArgs):
        refs = [object_with_args(obj, default_schema, kind) for kind in _MADE_AS[objtype]]
    else:
        return None
    if refs[0].name.lower() in history.platform_unsure_names:
        return None  # code the history cannot read revoked something of it
    return next((history.made_in(ref) for ref in refs if _known(history, ref)), None)


def _known(history: History, ref: ObjectRef) -> bool:
    """Made by an earlier migration; a routine named without its arguments (`GRANT EXECUTE
    ON FUNCTION f`, one f being there) is known by its name, one whose argument types are
    written with or without their schema by those types."""
    if history.knows(ref):
        return True
    if ref.kind not in ("function", "procedure"):
        return False
    if f"{ref.schema}.{ref.name}".lower() in history.moved_routines:
        return True
    return any(
        d.ref.kind == ref.kind
        and d.ref.name == ref.name
        and d.ref.schema == ref.schema
        and (ref.args is None or bare_args(d.ref.args) == bare_args(ref.args))
        for d in history.definitions.values()
    )


def bare_args(args: str | None) -> str:
    """Argument types without their schema (`public.platform_role` as `platform_role`): a
    GRANT may name them either way."""
    return re.sub(r'"?\w+"?\.', "", (args or "").lower()).replace('"', "")


@functools.cache
def _by_place() -> dict[str, frozenset[tuple[str, str]]]:
    """The platform's privileges by place: (grantee, privilege) pairs."""
    out: dict[str, set[tuple[str, str]]] = {}
    for place, who, name in platform_privileges():
        out.setdefault(place, set()).add((who, name))
    return {place: frozenset(pairs) for place, pairs in out.items()}
