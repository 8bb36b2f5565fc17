"""What an object carries besides its definition: its owner (OWNER TO), who may use it
(GRANT / REVOKE of privileges and of roles, ALTER DEFAULT PRIVILEGES) and its COMMENT.

Grants and comments invert exactly, built as parse trees and printed: the same GRANT with the
opposite verb, the comment an earlier migration set (or none on an object made without one).
An owner change goes back to the owner an earlier migration named (OWNER TO), which the history
follows; where none did, the SQL does not say who ran the CREATE, so the previous owner is a
MANUAL item (the shadow database knows it).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from pglast.enums.parsenodes import DropBehavior, RoleSpecType

from migration_rollback.sql._ast import ast, changed, make
from migration_rollback.sql.comments import comment_target_on_path
from migration_rollback.sql.history import History
from migration_rollback.sql.model import ManualNeed, ObjectRef, Statement
from migration_rollback.sql.names import deparse
from migration_rollback.sql.platform_grants import named as platform_name
from migration_rollback.sql.rules import privileges
from migration_rollback.sql.rules.context import Context, Inverse, manual, nothing
from migration_rollback.sql.rules.platform_kept import Flip
from migration_rollback.sql.rules.search_path import lookup
from migration_rollback.sql.settings import owned_ref, role_named


def owner_back(
    ref: ObjectRef, ctx: Context, prior: str | None, now: str | None, back: OwnerBack
) -> Iterator[Inverse]:
    """OWNER TO: nothing when the object is new here or already had that owner; else the
    owner an earlier migration named (`back(prior)`), or a MANUAL item when none did (the
    shadow knows it; the SQL does not say who ran a CREATE)."""
    if ctx.is_new(ref) or ctx.created_here.has_name(ref):
        yield nothing(f"{ref.describe()} is new in this migration")
    elif prior is None:
        yield manual(
            ManualNeed.PRIOR_OWNER, f"{ref.describe()} changed owner; give it back to its "
            "previous owner (ALTER ... OWNER TO <previous>)", ref,
        )  # fmt: skip
    elif prior == now:
        yield nothing(f"{ref.describe()} was already owned by {prior}")
    else:
        yield back(prior)


OwnerBack = Callable[[str], Inverse]  # the previous owner's name -> the statement giving it back


def owner_known(ctx: Context, ref: ObjectRef) -> str | None:
    """The owner an earlier migration gave `ref` (by its name before this one renamed it)."""
    if ctx.history is None:
        return None
    return ctx.history.owner(ctx.was_named(ref) or ref)


def alter_owner(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
    home = lookup(ctx).home(node)  # a bare routine's name: along the search_path
    ref = owned_ref(node, home)
    if ref is None:
        yield manual(ManualNeed.UNSUPPORTED, f"give back the previous owner: {st.first_line}")
        return
    obj = _qualified_owned(node.object, ref, home)

    def back(prior: str) -> Inverse:
        role = make(ast.RoleSpec, roletype=RoleSpecType.ROLESPEC_CSTRING, rolename=prior,
                    location=-1)  # fmt: skip
        tree = ast.AlterOwnerStmt(objectType=node.objectType, object=obj, newowner=role)
        return Inverse(deparse(tree), notes=(f"the owner an earlier migration gave it: {prior}",))

    yield from owner_back(ref, ctx, owner_known(ctx, ref), role_named(node.newowner), back)


def _qualified_owned(obj: Any, ref: ObjectRef, default_schema: str) -> Any:
    """The object named with its schema, so the undo reaches it whatever the search_path."""
    if isinstance(obj, ast.ObjectWithArgs):
        return _qualified_objects((obj,), default_schema)[0]
    if isinstance(obj, tuple) and len(obj) == 1 and ref.schema:
        return (ast.String(sval=ref.schema), *obj)
    return obj


def _qualified_objects(objects: Any, default_schema: str) -> Any:
    """Grant targets with their schema spelled out, so the revoke hits the same objects."""
    out = []
    for obj in objects or ():
        if isinstance(obj, ast.RangeVar) and not obj.schemaname:
            obj = ast.RangeVar(
                schemaname=default_schema, relname=obj.relname, inh=obj.inh,
                relpersistence=obj.relpersistence,
            )  # fmt: skip
        elif isinstance(obj, ast.ObjectWithArgs) and len(obj.objname or ()) == 1:
            obj = ast.ObjectWithArgs(
                objname=(ast.String(sval=default_schema), *obj.objname),
                objargs=obj.objargs,
                objfuncargs=obj.objfuncargs,
                args_unspecified=obj.args_unspecified,
            )
        out.append(obj)
    return tuple(out)


def _flipped(grant: Any, objects: Any, option_only: bool = False, **extra: Any) -> Any:
    """The same GRANT with the opposite verb, never CASCADE. A GRANT's undo revokes the
    privilege whole (`option_only`: only its grant option); a `REVOKE GRANT OPTION FOR`'s
    undo grants it back WITH GRANT OPTION (the privilege itself was never revoked). `extra`
    may name other grantees or privileges."""
    fields = {"privileges": grant.privileges, "grantees": grant.grantees, **extra}
    return make(
        ast.GrantStmt,
        is_grant=not grant.is_grant,
        targtype=grant.targtype,
        objtype=grant.objtype,
        objects=objects,
        grant_option=option_only or (not grant.is_grant and bool(grant.grant_option)),
        behavior=DropBehavior.DROP_RESTRICT,
        **fields,
    )


def _revoke_notes(node: Any) -> tuple[str, ...]:
    """What the undo of a REVOKE cannot know, said beside it."""
    if node.behavior != DropBehavior.DROP_CASCADE:
        return ()
    return (
        "the REVOKE was CASCADE: what the grantees had granted others in turn is not granted "
        "back; re-grant it by hand",
    )


def grant(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
    node = lookup(ctx).qualified_grant(node)  # public.t after SET search_path TO app, public
    objects = _qualified_objects(node.objects, ctx.default_schema)
    flipped = _flipped(node, objects, grantor=node.grantor)
    notes = () if node.is_grant else _revoke_notes(node)
    whole = Inverse(deparse(flipped), notes=notes, tree=flipped)
    flips = functools.partial(_object_flip, node, ctx.default_schema)
    yield from privileges.undo(node, st, ctx, flips, whole, _column_grant(node, ctx.default_schema))


def _object_flip(node: Any, schema: str, option_only: bool) -> Flip:
    """The undo of the GRANT on one of its objects, for some grantees and privileges."""

    def flip(part: Any, grantees: tuple[Any, ...], privileges: Any, _defaults: Any) -> Inverse:
        objects = _qualified_objects((part,), schema)
        flipped = _flipped(node, objects, option_only, grantor=node.grantor, grantees=grantees,
                           privileges=privileges)  # fmt: skip
        return Inverse(deparse(flipped), tree=flipped)

    return flip


def _column_grant(node: Any, schema: str) -> privileges.ColumnGrant:
    """The GRANT of a column privilege a table-level REVOKE took with it."""

    def back(part: Any, spec: Any, privilege: Any) -> Inverse:
        objects = _qualified_objects((part,), schema)
        tree = _flipped(node, objects, grantor=node.grantor, grantees=(spec,),
                        privileges=(privilege,))  # fmt: skip
        note = "the table-level REVOKE took this column privilege with it"
        return Inverse(deparse(tree), notes=(note,), tree=tree)

    return back


def _options_back(node: Any) -> Any:
    """A `REVOKE <option> OPTION FOR role` revoked the option, not the membership: its undo
    grants the membership WITH that option. A GRANT's undo revokes the membership whole."""
    if node.is_grant or not node.opt:
        return None
    return tuple(
        make(ast.DefElem, defname=o.defname, arg=make(ast.Boolean, boolval=True), location=-1)
        for o in node.opt
    )


def grant_role(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
    flipped = make(
        ast.GrantRoleStmt,
        granted_roles=node.granted_roles,
        grantee_roles=node.grantee_roles,
        is_grant=not node.is_grant,
        opt=_options_back(node),
        grantor=node.grantor,
        behavior=DropBehavior.DROP_RESTRICT,
    )
    notes = () if node.is_grant else _revoke_notes(node)
    # An option's position in the text is in pglast's tree: with options, the belt parses it.
    yield Inverse(deparse(flipped), notes=notes, tree=None if flipped.opt else flipped)


def default_privileges(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
    action = _flipped(node.action, node.action.objects)
    flipped = make(ast.AlterDefaultPrivilegesStmt, options=node.options, action=action)
    whole = Inverse(deparse(flipped), tree=flipped)
    flips = functools.partial(_default_flip, node)
    yield from privileges.undo(node, st, ctx, flips, whole, _no_columns)


def _no_columns(part: Any, spec: Any, privilege: Any) -> Inverse:
    raise AssertionError("default privileges name no columns")  # pragma: no cover


def _default_flip(node: Any, option_only: bool) -> Flip:
    """The undo for one role and schema of the statement, for some grantees and privileges."""

    def flip(part: Any, grantees: tuple[Any, ...], privileges: Any, options: Any) -> Inverse:
        action = _flipped(node.action, node.action.objects, option_only, grantees=grantees,
                          privileges=privileges)  # fmt: skip
        narrowed = tuple(_narrowed(option, part) for option in options)
        flipped = make(ast.AlterDefaultPrivilegesStmt, options=narrowed or None, action=action)
        return Inverse(deparse(flipped), tree=flipped)

    return flip


def _narrowed(option: Any, part: tuple[str, str]) -> Any:
    """A FOR ROLE or IN SCHEMA option naming only the role or schema of `part`."""
    role, schema = part
    wanted = role if option.defname == "roles" else schema
    kept = tuple(a for a in option.arg if platform_name(a) == wanted)
    return make(ast.DefElem, defnamespace=option.defnamespace, defname=option.defname,
                arg=kept, defaction=option.defaction, location=option.location)  # fmt: skip


# --- COMMENT --------------------------------------------------------------------------------


def _table_of(ref: ObjectRef) -> ObjectRef:
    """A column's comment goes with its table."""
    return ObjectRef("table", ref.name, ref.schema) if ref.kind == "column" else ref


def _comment_on_new_object(ref: ObjectRef | None, ctx: Context) -> bool:
    """Made here: the object, or the table a column or constraint belongs to."""
    if ref is None:
        return False
    if ref.kind == "column":
        return ctx.is_new(ref) or ctx.created_here.has_name(_table_of(ref))
    if ref.kind == "constraint" and ref.table is not None:
        table = ObjectRef("table", ref.table, ref.schema)
        return ctx.created_here.has_name(table) or ctx.created_here.has_name(ref)
    return ctx.created_here.has_name(ref)


# Kinds whose CREATE may set a comment of its own: CREATE EXTENSION takes its control file's.
_COMMENTED_BY_CREATE = frozenset({"extension"})


def _named_before(ref: ObjectRef, ctx: Context) -> ObjectRef | None:
    """`ref` as earlier migrations named it, before this migration renamed it, its table or
    its column (None: its table was dropped or renamed away here, this is another)."""
    schema = ref.schema or ctx.default_schema
    on = ref.name if ref.kind == "column" else ref.table
    if on is None:
        return ctx.was_named(ref) or ref
    table = ctx.table_before(schema, on)
    if table is None:
        return None
    if ref.kind == "column" and ref.column:
        column = ctx.renamed_columns.get((schema, on, ref.column), ref.column)
        return replace(ref, schema=table[0], name=table[1], column=column)
    member = ctx.was_named(ref) or ref
    return replace(member, schema=table[0], table=table[1])


def _made_without_comment(ref: ObjectRef, history: History) -> bool:
    return ref.kind not in _COMMENTED_BY_CREATE and history.knows(_table_of(ref))


def _comment(node: Any, text: str | None, note: str) -> Inverse:
    """`COMMENT ON <the same object> IS <text>`, printed from its tree (which the safety belt
    then needs no parse to know)."""
    tree = make(ast.CommentStmt, objtype=node.objtype, object=node.object, comment=text)
    return Inverse(deparse(tree), notes=(note,), tree=tree)


def _in_its_schema(node: Any, ref: ObjectRef | None) -> Any:
    """The COMMENT with its bare name given the schema it resolved to: the rollback runs
    without the migration's search_path."""
    obj = node.object
    if ref is None or ref.schema is None:
        return node
    schema = make(ast.String, sval=ref.schema)
    if isinstance(obj, ast.ObjectWithArgs) and len(obj.objname) == 1:
        return changed(node, object=changed(obj, objname=(schema, *obj.objname)))
    named = 3 if ref.kind == "column" or ref.table is not None else 2
    if isinstance(obj, tuple) and len(obj) == named - 1:
        return changed(node, object=(schema, *obj))
    return node


def comment(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
    ref = comment_target_on_path(node, lookup(ctx))
    node = _in_its_schema(node, ref)
    if _comment_on_new_object(ref, ctx):
        yield _comment(node, None, "the object is new in this migration")
        return
    history, before = ctx.history, _named_before(ref, ctx) if ref else None
    known, restored = history.comment(before) if history and before else (False, None)
    if known:
        yield _comment(node, restored, "restores the comment set by an earlier migration")
    elif history is not None and before is not None and _made_without_comment(before, history):
        yield _comment(node, None, "earlier migrations created it without a comment")
    else:
        yield manual(
            ManualNeed.PRIOR_DEFINITION,
            "restore the comment it had before (it predates the known migrations): "
            + st.first_line,
        )
