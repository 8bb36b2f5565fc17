"""Definitions PostgreSQL prints in a form it does not print back compare equal."""

from __future__ import annotations

from migration_rollback.verify.deparse_fixpoint import canonical, reprintable
from migration_rollback.verify.diff import diff_objects
from migration_rollback.verify.snapshot import ObjectId, SnapshotObject

ONCE = (
    "CHECK (((chip)::text = ANY ((ARRAY['a'::character varying, 'b, c'::character varying])"
    "::text[])))"
)
PER_ELEMENT = (
    "CHECK (((chip)::text = ANY (ARRAY[('a'::character varying)::text, "
    "('b, c'::character varying)::text])))"
)


def test_array_cast_once_equals_cast_per_element() -> None:
    assert canonical(ONCE) == canonical(PER_ELEMENT)
    assert canonical(PER_ELEMENT) == PER_ELEMENT


def test_other_definitions_are_left_alone() -> None:
    text = "CHECK ((n > 0)) -- (ARRAY[ unbalanced"
    assert canonical(text) == text
    assert canonical(ONCE.replace("'b, c'", "'b'")) != canonical(PER_ELEMENT)


def _constraint(definition: str) -> dict[ObjectId, SnapshotObject]:
    oid = ObjectId("constraint", "public.d.chip_check")
    return {oid: SnapshotObject(oid, {"definition": definition})}


def test_diff_sees_no_difference_between_the_spellings() -> None:
    assert diff_objects(_constraint(ONCE), _constraint(PER_ELEMENT)) == []
    changed = PER_ELEMENT.replace("'a'", "'z'")
    assert len(diff_objects(_constraint(ONCE), _constraint(changed))) == 1


def test_reprintable_keeps_the_cast_on_the_array() -> None:
    assert reprintable(ONCE) == (
        "CHECK (((chip)::text = ANY ((ARRAY['a'::character varying, 'b, c'::character varying]"
        "::character varying[])::text[])))"
    )


def test_reprintable_leaves_mixed_or_uncast_elements_alone() -> None:
    mixed = "CHECK ((c = ANY ((ARRAY['a'::character varying, 'b'::text])::text[])))"
    assert reprintable(mixed) == mixed
    assert reprintable(PER_ELEMENT) == PER_ELEMENT
