"""The kept model says how the server's mirror of its refs changes: only what did change.

Each commit of a round trip wrote every object the scoped read found into `pg_temp._mr_refs`
(an upsert a row), though most of a family a migration altered comes back as it was. The
mirror (ref -> family) must still end up equal to the model's.
"""

from __future__ import annotations

from migration_rollback.verify.model import SchemaModel
from migration_rollback.verify.snapshot import Scope, Snapshot, SnapshotObject
from migration_rollback.verify.snapshot.objects import identity, make_object


def _obj(kind: str, name: str, ref: str, family: str) -> SnapshotObject:
    return make_object(identity(kind, name), {}, None, {}, ref, family)


def _mirror(model: SchemaModel) -> dict[str, str]:
    return {o.ref: o.family for o in model.objects.values() if o.ref}


TABLE = _obj("table", "public.t", "pg_class:1", "rel:1")
A = _obj("column", "public.t.a", "pg_attribute:1.1", "rel:1")
B = _obj("column", "public.t.b", "pg_attribute:1.2", "rel:1")
C = _obj("column", "public.t.c", "pg_attribute:1.3", "rel:1")
OTHER = _obj("table", "public.u", "pg_class:2", "rel:2")
FUNCTION = _obj("function", "public.f()", "pg_proc:5", "func:5")


def _replaced(found: list[SnapshotObject], scope: Scope) -> tuple[list[str], list[str]]:
    """Replace the scope with `found`: what changes in the mirror, checked against the model."""
    model = SchemaModel({o.id: o for o in (TABLE, A, B, OTHER, FUNCTION)})
    mirror = _mirror(model)
    removed, added = model.replace(scope, Snapshot({o.id: o for o in found}))
    for ref in removed:
        del mirror[ref]
    mirror.update({o.ref: o.family for o in added})
    assert mirror == _mirror(model)
    return sorted(removed), sorted(o.ref for o in added)


def test_a_family_read_again_writes_only_its_new_and_gone_objects() -> None:
    assert _replaced([TABLE, A, C], Scope(rels=frozenset({1}))) == (
        ["pg_attribute:1.2"],
        ["pg_attribute:1.3"],
    )


def test_a_family_read_again_unchanged_writes_nothing() -> None:
    assert _replaced([TABLE, A, B], Scope(rels=frozenset({1}))) == ([], [])


def test_an_object_now_in_another_family_is_written_again() -> None:
    moved = _obj("column", "public.u.a", "pg_attribute:1.1", "rel:2")
    scope = Scope(rels=frozenset({1, 2}))
    assert _replaced([TABLE, moved, B, OTHER], scope) == ([], ["pg_attribute:1.1"])


def test_a_family_gone_takes_all_its_refs_out() -> None:
    scope = Scope(rels=frozenset({1}), funcs=frozenset({5}))
    assert _replaced([FUNCTION], scope) == (
        ["pg_attribute:1.1", "pg_attribute:1.2", "pg_class:1"],
        [],
    )
