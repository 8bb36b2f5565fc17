"""What an object carries besides its definition: its owner (OWNER TO), who may use it
(GRANT / REVOKE of privileges and of roles, ALTER DEFAULT PRIVILEGES) and its COMMENT.

Grants and comments invert exactly, built as parse trees and printed: the same GRANT with the
opposite verb, the comment an earlier migration set (or none on an object made without one).
An owner change cannot: the SQL of earlier migrations does not say who ran them, so the
previous owner is a MANUAL item (the shadow database knows it).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pglast.enums.parsenodes import DropBehavior
from pglast.enums.parsenodes import ObjectType as OT

from migration_rollback.sql import kinds
from migration_rollback.sql._ast import ast, make
from migration_rollback.sql.comments import comment_target
from migration_rollback.sql.history import History
from migration_rollback.sql.model import ManualNeed, ObjectRef, Statement
from migration_rollback.sql.names import deparse, object_with_args, split_qualified, strings
from migration_rollback.sql.rules.context import Context, Inverse, manual, nothing


def owner_back(ref: ObjectRef, ctx: Context) -> Iterator[Inverse]:
    """OWNER TO: nothing when the object is new here; else the previous owner (the shadow
    knows it; the SQL of earlier migrations does not say who ran them)."""
    if ctx.is_new(ref) or ctx.created_here.has_name(ref):
        yield nothing(f"{ref.describe()} is new in this migration")
        return
    yield manual(
        ManualNeed.PRIOR_OWNER, f"{ref.describe()} changed owner; give it back to its previous "
        "owner (ALTER ... OWNER TO <previous>)", ref,
    )  # fmt: skip


# Objects whose owner `ALTER <kind> … OWNER TO` changes and the undo can name; relations
# change owner through ALTER TABLE. Any other object type is given back by hand.
OWNER: dict[OT, kinds.ObjectKind] = {
    t: kinds.BY_TYPE[t]
    for t in (OT.OBJECT_FUNCTION, OT.OBJECT_PROCEDURE, OT.OBJECT_AGGREGATE, OT.OBJECT_TYPE,
              OT.OBJECT_DOMAIN, OT.OBJECT_SCHEMA, OT.OBJECT_PUBLICATION, OT.OBJECT_EXTENSION)
}  # fmt: skip


def _owned(kind: kinds.ObjectKind, obj: Any, default_schema: str) -> ObjectRef | None:
    if isinstance(obj, ast.ObjectWithArgs):
        return object_with_args(obj, default_schema, kind.name)
    if isinstance(obj, ast.String):
        return ObjectRef(kind.name, str(obj.sval))
    if isinstance(obj, tuple):
        schema, name = split_qualified(strings(obj), default_schema)
        return ObjectRef(kind.name, name, schema)
    return None


def alter_owner(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
    kind = OWNER.get(node.objectType)
    ref = _owned(kind, node.object, ctx.default_schema) if kind is not None else None
    if ref is None:
        yield manual(ManualNeed.UNSUPPORTED, f"give back the previous owner: {st.first_line}")
        return
    yield from owner_back(ref, ctx)


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


def _flipped(grant: Any, objects: Any, **extra: Any) -> Any:
    """The same GRANT with the opposite verb, never CASCADE. A GRANT's undo revokes the
    privilege whole; a `REVOKE GRANT OPTION FOR`'s undo grants it back WITH GRANT OPTION (the
    privilege itself was never revoked)."""
    return make(
        ast.GrantStmt,
        is_grant=not grant.is_grant,
        targtype=grant.targtype,
        objtype=grant.objtype,
        objects=objects,
        privileges=grant.privileges,
        grantees=grant.grantees,
        grant_option=not grant.is_grant and bool(grant.grant_option),
        behavior=DropBehavior.DROP_RESTRICT,
        **extra,
    )


def _revoke_notes(node: Any) -> tuple[str, ...]:
    """What the undo of a REVOKE cannot know, said beside it."""
    notes = ["re-grants what was revoked; if it was never granted, remove this line"]
    if node.behavior == DropBehavior.DROP_CASCADE:
        notes.append(
            "the REVOKE was CASCADE: what the grantees had granted others in turn is not "
            "granted back; re-grant it by hand"
        )
    return tuple(notes)


def grant(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
    objects = _qualified_objects(node.objects, ctx.default_schema)
    flipped = _flipped(node, objects, grantor=node.grantor)
    notes = () if node.is_grant else _revoke_notes(node)
    yield Inverse(deparse(flipped), notes=notes, tree=flipped)


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
    yield Inverse(deparse(flipped), tree=flipped)


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
        return ctx.created_here.has_name(ObjectRef("table", ref.table, ref.schema))
    return ctx.created_here.has_name(ref)


# Kinds whose CREATE may set a comment of its own: CREATE EXTENSION takes its control file's.
_COMMENTED_BY_CREATE = frozenset({"extension"})


def _made_without_comment(ref: ObjectRef, history: History) -> bool:
    return ref.kind not in _COMMENTED_BY_CREATE and history.knows(_table_of(ref))


def _comment(node: Any, text: str | None, note: str) -> Inverse:
    """`COMMENT ON <the same object> IS <text>`, printed from its tree (which the safety belt
    then needs no parse to know)."""
    tree = make(ast.CommentStmt, objtype=node.objtype, object=node.object, comment=text)
    return Inverse(deparse(tree), notes=(note,), tree=tree)


def comment(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
    ref = comment_target(node, ctx.default_schema)
    if _comment_on_new_object(ref, ctx):
        yield _comment(node, None, "the object is new in this migration")
        return
    history = ctx.history
    if history is not None and ref is not None and ref.key in history.comments:
        restored = history.comments[ref.key]
        yield _comment(node, restored, "restores the comment set by an earlier migration")
    elif history is not None and ref is not None and _made_without_comment(ref, history):
        yield _comment(node, None, "earlier migrations created it without a comment")
    else:
        yield manual(
            ManualNeed.PRIOR_DEFINITION,
            "restore the comment it had before (it predates the known migrations): "
            + st.first_line,
        )
