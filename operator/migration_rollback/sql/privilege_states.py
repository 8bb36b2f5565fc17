"""What each role held on an object just before a GRANT or REVOKE, as far as the migrations
tell: the undo of a GRANT or REVOKE gives back that, not the statement flipped.

The flipped statement is wrong whenever the forward changed nothing for some privilege: a
REVOKE of what an earlier migration had already revoked (its flip grants it to PUBLIC again,
found on irontracks and hivecom), a GRANT of what an earlier migration had granted (its flip
takes it away), a table-level REVOKE that also took the column privileges (PostgreSQL revokes
them with it). So every GRANT and REVOKE of earlier migrations, and of this one up to the
statement, is kept per place (platform_grants.places, a routine's with its argument types)
and (grantee, privilege); a column privilege is `select(col)` on its table's place; ON ALL
... IN SCHEMA sets it on each object of the schema the migrations made. What no statement set
comes from how the object was made: an earlier migration's object holds what the platform's
default privileges give (platform_grants.gave) and a routine's EXECUTE for PUBLIC, nothing
else, unless an ALTER DEFAULT PRIVILEGES of theirs changed that privilege (unknown then); of
an object the migrations did not make nothing is known (None), and a REVOKE's undo says
MANUAL for it.

A new object starts over (DROP then CREATE resets its ACL: History._start_over, forget); a
renamed or moved relation or routine keeps its states; a REVOKE GRANT OPTION FOR leaves the
privilege; code the history cannot read that may GRANT or REVOKE leaves nothing known on what
it names. A grant option is kept beside its privilege as `name*` (an object privilege's, not
a column's): WITH GRANT OPTION sets it, a REVOKE or REVOKE GRANT OPTION FOR clears it. Roles
are kept as PostgreSQL names them (unquoted folded to lower case, quoted as written: "Admin"
is not admin). What is followed is what the owner granted (the migrations run as it;
PostgreSQL takes no grantor of an object privilege but the current user): a statement
GRANTED BY another role (run under SET ROLE) makes an ACL entry of that grantor's, which the
owner's REVOKE leaves, so it is not learned and its undo is its flip. Known limits: an option is not
given back to an object recreated from its CREATE (`recorded`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pglast.enums.parsenodes import ObjectType

from migration_rollback.sql import platform_grants as platform
from migration_rollback.sql._ast import ast
from migration_rollback.sql.compose import quote_ident
from migration_rollback.sql.model import ObjectRef
from migration_rollback.sql.names import object_with_args, strings
from migration_rollback.sql.platform_grants import Privilege
from migration_rollback.sql.tree_memo import per_tree

if TYPE_CHECKING:
    from migration_rollback.sql.history import History

# place -> (grantee, privilege) -> held; privilege as platform_grants names it, `name(col)`
# for a column's.
Grants = dict[str, dict[tuple[str, str], bool]]
Held = bool | None  # None: the migrations do not tell

# The history's kinds -> the kind word of their privileges' place (platform_grants._KIND).
_PLACE_KIND = {
    "function": "functions", "procedure": "functions", "table": "tables", "view": "tables",
    "materialized view": "tables", "foreign table": "tables", "sequence": "sequences",
    "type": "types", "domain": "types",
}  # fmt: skip
# What PostgreSQL gives PUBLIC on an object it makes (kind of place -> privilege).
_PUBLIC_BY_DEFAULT = {"functions": "execute", "types": "usage"}
# Who owns what the migrations make (Supabase runs them as postgres): its privileges are the
# owner's, which no GRANT or REVOKE by the owner is needed for; not followed here.
_OWNER = "postgres"
# What platform_grants.grantee says of the role running the migrations (postgres).
_RUN_AS = frozenset(
    {_OWNER, "<rolespec_current_user>", "<rolespec_current_role>", "<rolespec_session_user>"}
)


def place_of(ref: ObjectRef) -> str | None:
    """The place an object's privileges are kept under (None: a kind not followed); a
    routine's with its argument types (overloads are other objects)."""
    if ref.kind == "schema":
        return f"schema {ref.name}".lower()
    kind = _PLACE_KIND.get(ref.kind)
    if kind is None or not ref.schema:
        return None
    args = f"({platform.bare_args(ref.args)})" if ref.args is not None else ""
    return f"{kind} {ref.schema}.{ref.name}".lower() + args


def forget(grants: Grants, ref: ObjectRef) -> None:
    """A new object, or one dropped: what earlier GRANTs and REVOKEs set no longer holds (of
    a routine, also what a statement naming it without its arguments set)."""
    place = place_of(ref)
    if place is not None:
        grants.pop(place, None)
        grants.pop(place.split("(", 1)[0], None)


def move(grants: Grants, old: ObjectRef, new: ObjectRef) -> None:
    """A routine renamed keeps its ACL: the states of each of its overloads go with it."""
    was, now = place_of(old), place_of(new)
    if was is None or now is None:
        return
    for place in [p for p in grants if p == was or p.startswith(f"{was}(")]:
        grants[now + place[len(was) :]] = grants.pop(place)


def move_relation(grants: Grants, old: tuple[str, str], new: tuple[str, str]) -> None:
    """A relation renamed or moved to another schema keeps its ACL."""
    for kind in ("tables", "sequences"):
        was, now = (f"{kind} {schema}.{name}".lower() for schema, name in (old, new))
        if was in grants:
            grants[now] = grants.pop(was)


def forget_named(grants: Grants, words: set[str]) -> None:
    """Code the history cannot read may have granted or revoked on the objects whose names
    it holds (a DO block's EXECUTE format('REVOKE ALL ON public.%I ...') over a list)."""
    for place in [p for p in grants if _object_word(p) in words]:
        del grants[place]


def _object_word(place: str) -> str:
    return place.split("(", 1)[0].rsplit(".", 1)[-1].split(" ")[-1]


@per_tree
def named(node: Any, default_schema: str) -> tuple[tuple[Privilege, str], ...]:
    """What a GRANT or REVOKE names, each with the place its state is kept under: its object
    privileges (ALL spelled out), and its column privileges as `name(col)`. Kept with the tree
    (tree_memo.py): the undo asks it of a statement some five times, then the history."""
    return tuple(_named(node, default_schema))


def _named(node: Any, default_schema: str) -> Iterator[tuple[Privilege, str]]:
    grant, defaults = platform.grant_of(node)
    if grant is None or grant.objtype not in _FOLLOWED:
        return
    names = platform.privilege_names(grant) + _column_names(grant, defaults)
    for place, part in platform.places_of(node, default_schema):
        key = _state_place(place, part, default_schema)
        for spec in grant.grantees or ():
            who = platform.grantee(spec)
            yield from (((place, who, name), key) for name in names)


_FOLLOWED = frozenset(platform.FOLLOWED_KINDS)


def _column_names(grant: Any, defaults: Any) -> tuple[str, ...]:
    if defaults is not None or grant.objtype != ObjectType.OBJECT_TABLE:
        return ()
    return tuple(
        f"{str(p.priv_name).lower()}({col.lower()})"
        for p in grant.privileges or ()
        if p.cols
        for col in strings(p.cols)
    )


def _state_place(place: str, part: Any, default_schema: str) -> str:
    """A routine named with its arguments is kept under them (place_of)."""
    if isinstance(part, ast.ObjectWithArgs) and not part.args_unspecified:
        ref = object_with_args(part, default_schema)
        return f"{place}({platform.bare_args(ref.args)})"
    return place


def learn(
    grants: Grants,
    node: Any,
    default_schema: str,
    below: Grants | None = None,
    known: Iterable[ObjectRef] = (),
) -> None:
    """A GRANT sets what it names held, a REVOKE not held (a table's privilege revoked takes
    that privilege of every column with it, those `below` set too; ON ALL ... IN SCHEMA sets
    it on each object of the kind there the migrations made, `known`); a REVOKE GRANT OPTION
    FOR clears the option only; a statement GRANTED BY another role changes nothing of the
    owner's."""
    grant = platform.grant_of(node)[0]
    if grant is None or other_grantor(grant):
        return
    option_only = not grant.is_grant and grant.grant_option
    for (place, who, name), key in _with_members(named(node, default_schema), known):
        held = grants.setdefault(key, {})
        if "(" not in name and (grant.grant_option or not grant.is_grant):
            held[(who, option(name))] = bool(grant.is_grant)  # a GRANT without it leaves it
        if option_only:
            continue
        held[(who, name)] = bool(grant.is_grant)
        if _all_on_table(grant, place):
            held[(who, _MAINTAIN)] = bool(grant.is_grant)
        if not grant.is_grant and "(" not in name:
            for col in _columns_of(key, who, name, (below or {}, grants)):
                held[(who, f"{name}({col})")] = False


def option(name: str) -> str:
    """The key of a privilege's grant option beside it."""
    return f"{name}*"


def other_grantor(grant: Any) -> bool:
    """GRANTED BY a role other than the one the migrations run as (its own ACL entries)."""
    return grant.grantor is not None and platform.grantee(grant.grantor) not in _RUN_AS


def _with_members(
    found: Iterable[tuple[Privilege, str]], known: Iterable[ObjectRef]
) -> Iterator[tuple[Privilege, str]]:
    """Each privilege, and for ON ALL <kind> IN SCHEMA s the same at each object of it."""
    members: list[str] | None = None
    for p, key in found:
        yield p, key
        if key.startswith("all "):
            members = members if members is not None else _places(known)
            kind, _in, schema = key[len("all ") :].split(" ", 2)
            yield from ((p, m) for m in members if m.startswith(f"{kind} {schema}."))


def _places(known: Iterable[ObjectRef]) -> list[str]:
    return [place for place in map(place_of, known) if place is not None]


def _columns_of(place: str, who: str, name: str, layers: tuple[Grants, ...]) -> dict[str, bool]:
    """The columns with a privilege `name` state for `who` at `place`, the last layer's word
    winning -> held."""
    found: dict[str, bool] = {}
    for grants in layers:
        for (grantee, privilege), held in grants.get(place, {}).items():
            if grantee == who and privilege.startswith(f"{name}("):
                found[privilege[len(name) + 1 : -1]] = held
    return found


@dataclass(frozen=True, slots=True)
class Prior:
    """What the grantees of a GRANT or REVOKE held just before it, for its undo.

    held: each privilege the statement names -> whether its grantee held it (as this
    migration, `here`, then earlier ones left it, else as the object was made);
    options: each object privilege -> whether its grantee held its grant option;
    maintain: for ALL on tables, (place, grantee) -> whether MAINTAIN was held;
    somewhere: of what ON ALL <kind> IN SCHEMA names, what some object it reaches may have
    held. Worked out in one pass: each answer's platform part and each privilege's state as
    made are asked once, not once per question."""

    held: dict[Privilege, Held]
    options: dict[Privilege, Held]
    maintain: dict[tuple[str, str], Held]
    somewhere: set[Privilege]


def prior(node: Any, here: Grants, history: History | None, default_schema: str) -> Prior:
    """What the grantees held just before the statement (see `Prior`)."""
    given, gives = platform.gave(node, default_schema, history)
    names = named(node, default_schema)
    made = {p: _as_made(p, node, given, history, default_schema) for p, _key in names}
    held: dict[Privilege, Held] = {}
    for p, key in names:
        said = _set_by_statement(key, p, here, history)
        held[p] = said if said is not None else made[p]
    return Prior(
        held,
        _options_before(names, made, held, here, history),
        _maintain_before(node, names, gives, here, history),
        _held_somewhere(names, here, history),
    )


def _options_before(
    names: tuple[tuple[Privilege, str], ...],
    made: dict[Privilege, Held],
    held: dict[Privilege, Held],
    here: Grants,
    history: History | None,
) -> dict[Privilege, Held]:
    """Each object privilege -> whether its grantee held its grant option just before: as
    the last statement set it; else none where the privilege was not held or the object was
    made without it (neither PostgreSQL nor the platform's default privileges give an
    option); else not known."""
    out: dict[Privilege, Held] = {}
    for p, key in names:
        place, who, name = p
        if "(" in name:
            continue
        said = _set_by_statement(key, (place, who, option(name)), here, history)
        unknown = held[p] is None or made[p] is None
        out[p] = said if said is not None else (None if unknown else False)
    return out


def _maintain_before(
    node: Any,
    names: tuple[tuple[Privilege, str], ...],
    gives: set[Privilege],
    here: Grants,
    history: History | None,
) -> dict[tuple[str, str], Held]:
    """For a statement naming ALL on tables: (place, grantee) -> whether the grantee held
    MAINTAIN (PostgreSQL 17's, in ALL) just before. Not in platform_grants' ALL (a REVOKE
    naming it fails on older servers): held where the platform's default privileges gave the
    grantee ALL and no REVOKE ALL or GRANT ALL said otherwise since."""
    grant = platform.grant_of(node)[0]
    out: dict[tuple[str, str], Held] = {}
    for (place, who, _name), key in names:
        if _all_on_table(grant, place) and (place, who) not in out:
            said = _set_by_statement(key, (place, who, _MAINTAIN), here, history)
            every = all((place, who, n) in gives for n in platform.privilege_names(grant))
            out[(place, who)] = said if said is not None else (every or None)
    return out


def _held_somewhere(
    names: tuple[tuple[Privilege, str], ...], here: Grants, history: History | None
) -> set[Privilege]:
    """Of what an ON ALL <kind> IN SCHEMA statement names, what some object it reaches may
    have held before: the platform's default privileges there gave it, or an earlier GRANT
    on one of them did."""
    out: set[Privilege] = set()
    for p, key in names:
        if not key.startswith("all "):
            continue
        given = platform.platform_privileges()
        revoked = history.revoked_platform if history is not None else set()
        layers = (history.privileges if history else {}, here)
        kind, _in, schema = key[len("all ") :].split(" ", 2)
        default = (f"default {kind} of {_OWNER} in {schema}", *p[1:])
        prefix = f"{kind} {schema}."
        granted = any(
            grants[at].get(p[1:]) for grants in layers for at in grants if at.startswith(prefix)
        )
        if granted or (default in given and default not in revoked):
            out.add(p)
    return out


def _all_on_table(grant: Any, place: str) -> bool:
    return grant.privileges is None and place.startswith("tables ")


_MAINTAIN = "maintain"


def columns_held(
    place: str, who: str, name: str, here: Grants, history: History | None
) -> list[str]:
    """The columns whose privilege `name` `who` held at `place` (what a table-level REVOKE of
    it also takes)."""
    layers = (history.privileges if history else {}, here)
    return [col for col, held in _columns_of(place, who, name, layers).items() if held]


def recorded(grants: Grants, ref: ObjectRef) -> dict[tuple[bool, str], list[str]]:
    """What earlier GRANTs and REVOKEs set on `ref` (a routine: also those naming it without
    its arguments, overridden by those naming them): (held, grantee) -> privileges, as SQL
    writes them (`SELECT (a)` for a column's)."""
    place = place_of(ref)
    if place is None:
        return {}
    merged = {**grants.get(place.split("(", 1)[0], {}), **grants.get(place, {})}
    out: dict[tuple[bool, str], list[str]] = {}
    for (who, name), held in sorted(merged.items()):
        if name.endswith("*"):
            continue  # a grant option: not given back here (the docstring's known limit)
        out.setdefault((held, who), []).append(_column(name) if "(" in name else name.upper())
    return out


def _column(name: str) -> str:
    privilege, col = name[:-1].split("(", 1)
    return f"{privilege.upper()} ({quote_ident(col)})"


def _set_by_statement(key: str, p: Privilege, here: Grants, history: History | None) -> Held:
    """What the last GRANT or REVOKE naming it set."""
    _place, who, name = p
    for grants in (here, history.privileges if history else {}):
        for place in _places_for(grants, key):
            held = grants.get(place, {}).get((who, name))
            if held is not None:
                return held
    return None


def _places_for(grants: Grants, key: str) -> list[str]:
    """`key`, then for a routine named with its arguments the place of a statement that named
    it without them; named without, the place of each of its signatures."""
    if "(" in key:
        return [key, key.split("(", 1)[0]]
    if not key.startswith(_ROUTINES):  # only a routine's place has signatures: no walk of all
        return [key]
    return [key, *(p for p in grants if p.startswith(f"{key}("))]


_ROUTINES = f"{_PLACE_KIND['function']} "


def _as_made(
    p: Privilege, node: Any, given: set[Privilege], history: History | None, default_schema: str
) -> Held:
    """What the object held when it was made, for an object an earlier migration made (or
    what the platform gives its own); None where the migrations do not tell."""
    place, who, name = p
    if p in given:
        return True
    if history is None or who in _RUN_AS:
        return None
    if place.startswith("default "):
        return _default_as_made(place, who, name)
    if place.startswith("schema "):  # a schema made gives no one but its owner anything
        return False if history.knows(ObjectRef("schema", place[len("schema ") :])) else None
    if not platform.made_earlier(node, place, default_schema, history):
        return None
    kind, schema = place.split(" ", 1)[0], place.split(" ", 1)[1].split(".", 1)[0]
    built_in = who == "public" and _PUBLIC_BY_DEFAULT.get(kind) == name
    if _defaults_changed(history, kind, schema, who, name, built_in):
        return None  # before or after the object was made: the history does not keep when
    return built_in


def _default_as_made(place: str, who: str, name: str) -> Held:
    """The default privileges of the migration role before any ALTER DEFAULT PRIVILEGES: in
    one schema none (a schema's entry only adds to the global one), everywhere PostgreSQL's
    own (PUBLIC's EXECUTE on routines, USAGE on types: a REVOKE of them makes the entry that
    its undo, granting them back, removes again)."""
    if f" of {_OWNER} in " not in place:
        return None
    kind = place.split(" ", 2)[1]
    return place.endswith(" in *") and who == "public" and _PUBLIC_BY_DEFAULT.get(kind) == name


def _defaults_changed(
    history: History, kind: str, schema: str, who: str, name: str, built_in: bool
) -> bool:
    """Whether an ALTER DEFAULT PRIVILEGES of earlier migrations (for postgres, in the schema
    or everywhere) set the privilege otherwise than the platform and PostgreSQL do."""
    for scope in (schema, "*"):
        at = f"default {kind} of {_OWNER} in {scope}"
        said = history.privileges.get(at, {}).get((who, name))
        usual = built_in or (at, who, name) in platform.platform_privileges()
        if said is not None and said != usual:
            return True
    return False
