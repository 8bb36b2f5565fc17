"""Statements that change a definition in place (OR REPLACE, ALTER POLICY / FUNCTION /
SEQUENCE / PUBLICATION / TYPE … ADD VALUE): the undo restores the earlier definition when an earlier
migration wrote it, says nothing when the object is new here, and asks a human otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from pglast.enums.parsenodes import AlterPublicationAction, ObjectType, PublicationObjSpecType

from migration_rollback.sql._ast import ast
from migration_rollback.sql.compose import SQL, Identifier, Literal, name_of, sql
from migration_rollback.sql.history_settings import UNSURE_SPEC
from migration_rollback.sql.model import Leaves, ManualNeed, ObjectRef, Statement
from migration_rollback.sql.names import (
    deparse,
    relation,
    strings,
)
from migration_rollback.sql.renamed import first_named, renamed_by
from migration_rollback.sql.rules.context import (
    Context,
    Inverse,
    drop,
    manual,
    nothing,
    renamed_manual,
)
from migration_rollback.sql.rules.privileges import recreated_privileges
from migration_rollback.sql.rules.routine_attributes import attributes_back
from migration_rollback.sql.rules.search_path import lookup
from migration_rollback.sql.rules.settings import recreated_attributes, recreated_settings
from migration_rollback.sql.view_columns import same_columns


def replaced(ref: ObjectRef, ctx: Context, dropped: Inverse, node: Any = None) -> Iterator[Inverse]:
    """CREATE OR REPLACE (`node`): drop it when new (`dropped`: its DROP), restore the earlier
    definition when known. Made earlier in this migration (pg_dump writes a function again
    after the policies and triggers that use it): the undo of that first CREATE drops it,
    after what uses it is gone; a DROP here would come first and fail on them. Made earlier
    here and dropped since (and not made again before this), it is another object: dropped, so
    that the undo of that DROP can make the first one again (Cap-go's baseline:
    get_org_members(uuid) made, dropped, made with another return type)."""
    if ctx.is_new(ref) and (not ctx.gone(ref) or ctx.remade(ref)):
        yield _new_here(ref)
        return
    existed = ctx.existed_before(ref)
    before = ctx.was_named(ref)
    previous: Any = ctx.previous(ref) if before is None else ctx.previous_as(before, ref)
    renamed = ctx.renamed_since(previous, before) if previous is not None else None
    now = ctx.called_now(previous) if renamed is not None else None  # relations renamed
    if existed is False:
        yield replace(dropped, notes=(f"{ref.describe()} is new in this migration",))
    elif existed and previous is not None and renamed is not None and now is None:
        yield renamed_manual(ManualNeed.PRIOR_DEFINITION, ref, previous, renamed)
    elif existed and previous is not None:
        yield from _restore(ref, previous, dropped, now, node)
        yield from recreated_settings(ref, previous, ctx)
        if ref.kind == "view" and not _in_place(previous, now, node):
            yield from recreated_attributes(ref, ctx)
            yield from recreated_privileges(ref, ctx)
    elif existed:
        yield manual(ManualNeed.PRIOR_DEFINITION, _unsaid(ref), ref, Leaves.DEFINITION)
    else:
        yield manual(
            ManualNeed.PRIOR_DEFINITION,
            f"{ref.describe()} is created with OR REPLACE and earlier migrations are not "
            f"known: if it existed before, restore its previous definition; if not, run: "
            f"{dropped.sql}",
            ref,
            Leaves.DEFINITION,
        )


def _in_place(previous: Any, now: str | None, node: Any) -> bool:
    """A view whose earlier text yields the columns the forward's does (view_columns.py): put
    back over it, it keeps its owner, comment, privileges and the views built on it."""
    return now is None and same_columns(previous.tree, node)


def _unsaid(ref: ObjectRef) -> str:
    return (
        f"{ref.describe()} existed before; its definition then is not in the migrations as "
        "PostgreSQL ran it (changed by code they do not show, renamed since, or a text "
        "PostgreSQL refuses): restore it by hand"
    )


def _restore(
    ref: ObjectRef, previous: Any, dropped: Inverse, now: str | None, node: Any
) -> Iterator[Inverse]:
    """The earlier definition again; `now`: its text naming relations renamed since as now."""
    where = previous.statement.location
    text, tree = (previous.text, previous.tree) if now is None else (now, None)
    if ref.kind == "view" and not _in_place(previous, now, node):
        # CREATE OR REPLACE VIEW cannot drop columns the forward added: recreate it (its
        # owner, comment and privileges after, as earlier migrations left them).
        yield replace(dropped, notes=(f"recreated below from {where}",))
        yield Inverse(text, notes=(f"restores the definition from {where}",), tree=tree)
    else:
        restored = as_create_or_replace(text)
        same = restored == text  # then its tree is the earlier statement's
        yield Inverse(restored, notes=(f"restores the definition from {where}",),
                      tree=tree if same else None)  # fmt: skip


_PLAIN_CREATE = re.compile(
    r"^\s*create\s+(?!or\s+replace\b)(?=(function|procedure|view|trigger|rule)\b)",
    re.IGNORECASE,
)


def as_create_or_replace(text: str) -> str:
    """An earlier `CREATE FUNCTION` re-run over the current one must replace it."""
    return _PLAIN_CREATE.sub("CREATE OR REPLACE ", text, count=1)


def _new_here(ref: ObjectRef) -> Inverse:
    return nothing(f"{ref.describe()} is new; dropping it undoes this too")


def alter_policy(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
    rel = lookup(ctx).relation(node.table)
    ref = ObjectRef("policy", str(node.policy_name), rel.schema, table=rel.name)
    previous = ctx.previous(ref)
    renamed = ctx.renamed_since(previous) if previous is not None else None
    if ctx.is_new(ref):
        yield _new_here(ref)
    elif previous is not None and renamed is not None:
        yield renamed_manual(ManualNeed.PRIOR_DEFINITION, ref, previous, renamed)
    elif previous is not None and previous.statement.kind == "CreatePolicyStmt":
        yield drop(ref)
        yield Inverse(
            previous.text,
            notes=(f"restores {ref.describe()} from {previous.statement.location}",),
            tree=previous.tree,
        )
    else:
        yield manual(ManualNeed.PRIOR_DEFINITION, f"restore the previous {ref.describe()}", ref)


def alter_function(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
    """ALTER FUNCTION … SET / RESET / SECURITY / COST …: nothing on a function made here; else
    each attribute set back to what earlier migrations left (routine_attributes.py), naming the
    routine as it is now; by hand when they do not say it."""
    kind = "procedure" if node.objtype == ObjectType.OBJECT_PROCEDURE else "function"
    ref = lookup(ctx).routine(node.func, kind)
    previous = None if node.func.args_unspecified else ctx.previous(ctx.was_named(ref) or ref)
    tree = getattr(previous, "tree", None)
    back = attributes_back(tree, node) if isinstance(tree, ast.CreateFunctionStmt) else None
    if ctx.is_new(ref):
        yield nothing(f"{ref.describe()} is new in this migration")
    elif back == ():  # RESET ALL of a routine earlier migrations gave no setting
        yield nothing(f"{ref.describe()} had no setting for RESET ALL to clear")
    elif back:
        func = ast.ObjectWithArgs(
            objname=(ast.String(sval=str(ref.schema)), ast.String(sval=ref.name)),
            objargs=node.func.objargs, args_unspecified=False,
        )  # fmt: skip
        undo = ast.AlterFunctionStmt(objtype=node.objtype, func=func, actions=back)
        note = "the attributes as earlier migrations left them"
        yield Inverse(deparse(undo), notes=(note,))
    else:
        yield manual(
            ManualNeed.PRIOR_DEFINITION,
            f"{ref.describe()} was altered ({st.first_line}); restore its previous settings",
            ctx.only_overload(ref),
            _altered(node),
        )


def _altered(node: Any) -> Leaves:
    """What of the routine an ALTER FUNCTION changes: its settings alone (SET / RESET), or
    its options; never its body, arguments, owner or existence."""
    sets = all(action.defname == "set" for action in node.actions or ())
    return Leaves.SETTINGS if sets else Leaves.OPTIONS


def alter_sequence(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
    ref = relation(node.sequence, ctx.default_schema, kind="sequence")
    if ctx.is_new(ref):
        yield _new_here(ref)
        return
    yield manual(
        ManualNeed.UNSUPPORTED, f"{st.kind} ({st.first_line}) has no automatic inverse", ref
    )


def alter_enum(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
    schema = lookup(ctx).type_schema(node.typeName)  # a bare name: along the search_path
    ref = ObjectRef("type", strings(node.typeName)[-1], schema)
    if node.oldVal:
        ctx.renamed_here.extend(renamed_by(node, st, schema))
        old, new = Literal(str(node.oldVal)), Literal(str(node.newVal))
        yield Inverse(sql("ALTER TYPE {} RENAME VALUE {} TO {}", name_of(ref), new, old))
        return
    if ctx.is_new(ref):
        yield nothing(f"{ref.describe()} is new; dropping it removes the value")
        return
    yield manual(
        ManualNeed.ENUM_VALUE,
        f"value {Literal(str(node.newVal)).as_string()} was added to {ref.describe()}: "
        "PostgreSQL cannot remove an enum value; recreate the type without it (rewrites every "
        "column using it) after making sure no row holds the value",
        ref,
    )


# The undo of a change to a publication's table list; SET replaces a list the SQL never said.
_PUBLICATION_BACK: dict[AlterPublicationAction, str | None] = {
    AlterPublicationAction.AP_AddObjects: "DROP",
    AlterPublicationAction.AP_DropObjects: "ADD",
    AlterPublicationAction.AP_SetObjects: None,
}


def alter_publication(node: Any, st: Statement, ctx: Context) -> Iterator[Inverse]:
    back, name = _PUBLICATION_BACK[node.action], str(node.pubname)
    if back is None:
        yield manual(ManualNeed.PRIOR_DEFINITION, f"restore the table list of publication {name}")
        return
    if not node.pubobjects:  # `SET (publish = ...)`: options only, their prior values unknown
        yield manual(ManualNeed.PRIOR_DEFINITION, f"restore the options of publication {name}")
        return
    tables: list[Any] = [getattr(spec, "pubtable", None) for spec in node.pubobjects]
    if any(table is None for table in tables):
        yield manual(ManualNeed.UNSUPPORTED, f"undo by hand: {st.first_line}")
        return
    where = lookup(ctx)  # bare names along the search_path
    refs = [where.relation(table.relation) for table in tables]
    added = [_as_added(ctx, name, ref) for ref in refs] if back == "ADD" else []
    if UNSURE_SPEC in added:
        yield manual(
            ManualNeed.PRIOR_DEFINITION,
            f"add the table back to publication {name} with its column list or WHERE, as the "
            "columns now are (renamed or dropped since an earlier migration added it)",
        )
        return
    if any(spec is not None for spec in added):  # a column list or WHERE to say again
        yield _add_back(name, refs, added)
        return
    objects = SQL(", ").join(name_of(ref) for ref in refs)
    yield Inverse(sql("ALTER PUBLICATION {} {} TABLE {}", Identifier(name), SQL(back), objects))


def _as_added(ctx: Context, publication: str, ref: ObjectRef) -> Any:
    """How an earlier migration added the table to the publication, when that said more than
    its name (a column list, a WHERE); None otherwise or when no earlier migration did."""
    table = ctx.table_before(str(ref.schema), ref.name)
    spec = ctx.history.published.get(table, {}).get(publication) if ctx.history and table else None
    if spec is UNSURE_SPEC or (spec is not None and _renamed_here(ctx, spec)):
        return UNSURE_SPEC
    return spec if spec is not None and (spec.columns or spec.whereClause) else None


def _renamed_here(ctx: Context, spec: Any) -> bool:
    """A column list or WHERE naming a column this migration renamed before dropping the
    table from the publication: the undo adds it back before the rename is undone."""
    columns = [r for r in ctx.renamed_here if r.table is not None]
    return first_named(spec, columns) is not None


def _add_back(publication: str, refs: list[ObjectRef], added: list[Any]) -> Inverse:
    """`ALTER PUBLICATION … ADD TABLE …`, each table as an earlier migration added it."""
    specs = tuple(
        ast.PublicationObjSpec(
            pubobjtype=PublicationObjSpecType.PUBLICATIONOBJ_TABLE,
            pubtable=ast.PublicationTable(
                relation=ast.RangeVar(schemaname=ref.schema, relname=ref.name, inh=True,
                                      relpersistence="p"),
                whereClause=spec.whereClause if spec is not None else None,
                columns=spec.columns if spec is not None else None,
            ),
        )
        for ref, spec in zip(refs, added, strict=True)
    )  # fmt: skip
    tree = ast.AlterPublicationStmt(
        pubname=publication, pubobjects=specs, action=AlterPublicationAction.AP_AddObjects
    )
    note = "adds the table back with the column list or WHERE an earlier migration gave it"
    return Inverse(deparse(tree), notes=(note,))
