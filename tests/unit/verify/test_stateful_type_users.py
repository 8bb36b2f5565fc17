"""What stands in the way of an enum swapped back, and what a column's rename alone changed:
pure, over hand-made snapshots."""

from __future__ import annotations

from migration_rollback.verify.diff import Difference
from migration_rollback.verify.snapshot import ObjectId, Snapshot, SnapshotObject
from migration_rollback.verify.stateful.dynamic import _echo
from migration_rollback.verify.stateful.type_users import type_users

NOTES = ObjectId("table", "public.notes")


def obj(
    kind: str, name: str, parent: ObjectId | None = None, extra: dict[str, object] | None = None,
    **attrs: object,
) -> SnapshotObject:  # fmt: skip
    return SnapshotObject(ObjectId(kind, name), dict(attrs), parent, dict(extra or {}))  # type: ignore[arg-type]


def snapshot(*objects: SnapshotObject) -> Snapshot:
    return Snapshot({o.id: o for o in objects})


HAS_ROLE = obj(
    "function", "public.has_role(integer,public.app_role)",
    extra={"schema": "public", "name": "has_role"},
    arguments="_uid integer, _role public.app_role", returns="boolean",
)  # fmt: skip
ROLES_OF = obj(
    "function", "public.roles_of(integer)", extra={"schema": "public", "name": "roles_of"},
    arguments="_uid integer", returns="SETOF public.app_role[]",
)  # fmt: skip
UNRELATED = obj(
    "function", "public.app_role_count()", extra={"schema": "public", "name": "app_role_count"},
    arguments="", returns="bigint",
)  # fmt: skip
POLICY = obj(
    "policy", "public.notes.notes_admin", NOTES,
    using="public.has_role(owner, 'admin'::public.app_role)",
)  # fmt: skip
LITERAL = obj("policy", "public.notes.notes_lit", NOTES, using="'x'::public.app_role IS NULL")
PLAIN = obj("policy", "public.notes.notes_own", NOTES, using="(owner = 1)")
VIEW = obj(
    "view", "public.admin_notes", definition=" SELECT n.id FROM public.notes n "
    "WHERE public.has_role(n.owner, 'admin'::public.app_role);",
)  # fmt: skip
OVER_VIEW = obj("view", "public.admin_ids", definition=" SELECT id FROM public.admin_notes;")
CHECK = obj(
    "constraint", "public.notes.notes_fn_check", NOTES, type="check",
    definition="CHECK (public.has_role(owner, 'user'::public.app_role))",
)  # fmt: skip


def test_functions_over_the_type_and_what_calls_them_in_recreation_order() -> None:
    before = snapshot(HAS_ROLE, ROLES_OF, UNRELATED, POLICY, LITERAL, PLAIN, VIEW, OVER_VIEW, CHECK)
    found = [o.id.name for o in type_users(before, "public.app_role", [])]
    assert found == [
        "public.has_role(integer,public.app_role)",
        "public.roles_of(integer)",
        "public.admin_notes",
        "public.admin_ids",  # a view over a view that calls the function: after it
        "public.notes.notes_fn_check",
        "public.notes.notes_admin",
        "public.notes.notes_lit",
    ]


def test_a_type_nothing_names_stands_alone() -> None:
    assert type_users(snapshot(UNRELATED, PLAIN), "public.app_role", []) == []


def test_what_the_columns_use_is_kept_and_views_over_it_follow() -> None:
    col_view = obj("view", "public.roles_list", definition=" SELECT role FROM public.user_roles;")
    over = obj("view", "public.roles_list2", definition=" SELECT role FROM public.roles_list;")
    found = type_users(snapshot(col_view, over), "public.app_role", [col_view])
    assert [o.id.name for o in found] == ["public.roles_list", "public.roles_list2"]


def test_an_index_text_changed_only_by_a_column_rename_is_an_echo() -> None:
    index = ObjectId("index", "public.units_user_idx")
    table = ObjectId("table", "public.units")
    before = "CREATE INDEX units_user_idx ON public.units USING btree (user_id)"
    renamed = Difference(
        index, "definition", before, before.replace("(user_id)", "(consumer_user_id)"), table
    )
    pairs = [("user_id", "consumer_user_id")]
    assert _echo(renamed, pairs)
    changed = Difference(index, "definition", before, before.replace("btree", "hash"), table)
    assert not _echo(changed, pairs)
    assert not _echo(renamed, None)
