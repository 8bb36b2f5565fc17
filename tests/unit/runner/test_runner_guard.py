"""The data-loss safety belt compares catalog snapshots by identity, not by name."""

from __future__ import annotations

from migration_rollback.runner.guard import RelationState, lost_data, snapshot_of


def table(oid: int, name: str, columns: dict[int, str], schema: str = "public") -> RelationState:
    return RelationState(oid, schema, name, "r", columns)


def test_nothing_lost_when_renamed_or_archived() -> None:
    before = snapshot_of([table(1, "likes", {1: "id", 2: "at"}), table(2, "p", {1: "id"})])
    after = snapshot_of(
        [
            table(1, "likes__1__x", {1: "id", 2: "at"}, schema="migration_rollback_archive"),
            table(2, "people", {1: "ident"}),
        ]
    )
    assert lost_data(before, after) == []


def test_dropped_tables_sequences_and_columns_are_reported() -> None:
    before = snapshot_of(
        [
            table(1, "likes", {1: "id"}),
            RelationState(2, "public", "likes_id_seq", "S"),
            table(3, "profiles", {1: "id", 2: "bio", 3: "mood"}),
        ]
    )
    after = snapshot_of([table(3, "profiles", {1: "id"})])
    assert lost_data(before, after, copied_columns=[(3, 2)]) == [
        "table public.likes",
        "sequence public.likes_id_seq",
        "column public.profiles.mood",
    ]


def test_new_objects_are_not_loss() -> None:
    assert lost_data({}, snapshot_of([table(9, "new", {1: "id"})])) == []
