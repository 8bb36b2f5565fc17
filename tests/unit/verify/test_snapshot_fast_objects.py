"""The reader's fast constructors make the very objects the dataclasses' own constructors make."""

from __future__ import annotations

from migration_rollback.verify.snapshot.objects import (
    ObjectId,
    SnapshotObject,
    identity,
    make_object,
)


def test_identity_is_an_object_id() -> None:
    made = identity("table", "public.t")
    assert made == ObjectId("table", "public.t")
    assert hash(made) == hash(ObjectId("table", "public.t"))
    assert made < identity("table", "public.u")
    assert str(made) == "table public.t"


def test_make_object_is_a_snapshot_object() -> None:
    parent = identity("table", "public.t")
    args = (identity("column", "public.t.a"), {"type": "integer"}, parent, {"attnum": "1"})
    made = make_object(*args, "pg_attribute:1.1", "rel:1")
    assert made == SnapshotObject(*args, "pg_attribute:1.1", "rel:1")
    assert (made.ref, made.family, made.parent) == ("pg_attribute:1.1", "rel:1", parent)
    assert made.get("type") == "integer"
