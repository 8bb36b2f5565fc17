"""The diff of two schema models and its rendering: pure, no database."""

from __future__ import annotations

import json

from migration_rollback.verify.diff import Difference, diff_objects, render, summarize
from migration_rollback.verify.snapshot import ObjectId, Snapshot, SnapshotObject

TABLE = ObjectId("table", "public.profiles")


def obj(kind: str, name: str, parent: ObjectId | None = None, **attrs: object) -> SnapshotObject:
    return SnapshotObject(ObjectId(kind, name), dict(attrs), parent)  # type: ignore[arg-type]


def model(*objects: SnapshotObject) -> dict[ObjectId, SnapshotObject]:
    return {o.id: o for o in objects}


def test_identical_models_have_no_differences() -> None:
    a = model(obj("table", "public.profiles", owner="postgres", privileges=("anon=SELECT",)))
    assert diff_objects(a, dict(a)) == []
    assert render([]) == "  no differences"


def test_changed_added_and_removed_objects() -> None:
    before = model(
        obj("table", "public.profiles", owner="postgres"),
        obj("column", "public.profiles.bio", TABLE, type="text", position=3),
        obj("index", "public.profiles_bio_idx", TABLE, definition="CREATE INDEX ..."),
    )
    after = model(
        obj("table", "public.profiles", owner="postgres"),
        obj("column", "public.profiles.bio", TABLE, type="character varying(200)", position=3),
        obj("column", "public.profiles.age", TABLE, type="integer", position=4),
    )
    diffs = diff_objects(before, after)
    assert [(d.object.name, d.attribute, d.before, d.after) for d in diffs] == [
        ("public.profiles.age", "exists", False, True),
        ("public.profiles.bio", "type", "text", "character varying(200)"),
        ("public.profiles_bio_idx", "exists", True, False),
    ]
    assert diffs[0].added
    assert not diffs[0].removed
    assert diffs[2].removed
    assert diffs[2].parent == TABLE
    assert summarize(diffs) == "3 object(s) differ: 1 missing, 1 left behind, 1 changed"
    text = render(diffs)
    assert "+ column public.profiles.age (did not exist before the migration" in text
    assert (
        "~ column public.profiles.bio: type: 'text' before, 'character varying(200)' after" in text
    )
    assert "- index public.profiles_bio_idx (existed before the migration" in text


def test_an_unset_attribute_equals_a_missing_one_and_ignore_skips() -> None:
    before = model(obj("column", "public.t.c", type="text", comment=None))
    after = model(obj("column", "public.t.c", type="text"))
    assert diff_objects(before, after) == []
    after2 = model(obj("column", "public.t.c", type="text", position=9))
    assert diff_objects(before, after2, ignore=["position"]) == []
    (d,) = diff_objects(before, after2)
    assert (d.attribute, d.before, d.after) == ("position", None, 9)
    assert "unset before, 9 after" in render([d])


def test_children_of_a_missing_parent_fold_into_one_line() -> None:
    before = model(
        obj("table", "public.t"),
        obj("column", "public.t.a", ObjectId("table", "public.t"), type="int"),
        obj("column", "public.t.b", ObjectId("table", "public.t"), type="int"),
        obj("policy", "public.t.p", ObjectId("table", "public.t"), command="ALL"),
    )
    diffs = diff_objects(before, {})
    assert len(diffs) == 4
    lines = render(diffs).splitlines()
    assert lines == [
        "  - table public.t (existed before the migration, missing after the rollback)",
        "    and 3 object(s) that belong to it",
    ]


def test_multiline_values_render_as_a_text_diff() -> None:
    before = model(obj("function", "public.f()", body="select 1\nfrom t\nwhere a"))
    after = model(obj("function", "public.f()", body="select 1\nfrom t\nwhere b"))
    text = render(diff_objects(before, after))
    assert "~ function public.f(): body differs:" in text
    assert "-where a" in text
    assert "+where b" in text


def test_json_round_trip_of_differences() -> None:
    d = Difference(
        ObjectId("table", "public.t"), "privileges", ("anon=SELECT",), (), ObjectId("schema", "x")
    )
    data = json.loads(json.dumps(d.to_json()))
    assert data == {
        "object": "table public.t",
        "kind": "table",
        "name": "public.t",
        "attribute": "privileges",
        "before": ["anon=SELECT"],
        "after": [],
        "parent": "schema x",
    }
    assert Difference.from_json(data) == d
    assert d.describe() == "table public.t: privileges was [anon=SELECT], is [] after the rollback"


def test_snapshot_helpers() -> None:
    t = obj("table", "public.t", owner="postgres")
    c = obj("column", "public.t.a", t.id, type="int")
    snap = Snapshot(model(t, c))
    assert snap.relation("public.t") is t
    assert snap.children(t.id) == [c]
    assert snap.of_kind("column") == [c]
    assert snap.to_json()[1] == {
        "kind": "table",
        "name": "public.t",
        "attributes": {"owner": "postgres"},
    }
