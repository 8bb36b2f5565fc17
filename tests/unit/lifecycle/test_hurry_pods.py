"""Which pods the scale-down deletes early (pure: no API server): only those of ReplicaSets
whose own controller has begun deleting, since a ReplicaSet that has not seen the zero yet
replaces a pod deleted under it; each of a Deployment's ReplicaSets mid-rollout on its own."""

from __future__ import annotations

import pytest

from migration_rollback.controller.podwatch import PodState, pod_groups
from migration_rollback.kube.workloads import replica_set_pods_selector
from migration_rollback.lifecycle.observation import PodGroup
from migration_rollback.lifecycle.phase_window import hurried_replica_sets


@pytest.mark.parametrize(
    ("groups", "hurried"),
    [
        ((PodGroup("a", undeleted=2, deleting=1),), ("a",)),
        ((PodGroup("a", undeleted=2),), ()),
        ((PodGroup("a", deleting=2),), ()),
        ((PodGroup("old", undeleted=1, deleting=1), PodGroup("new", undeleted=3)), ("old",)),
        ((PodGroup("old", deleting=1), PodGroup("new", undeleted=3)), ()),
        ((PodGroup("old", 1, 1), PodGroup("new", 2, 1)), ("old", "new")),
        ((PodGroup("", undeleted=1, deleting=1),), ()),
        ((), ()),
    ],
    ids=[
        "its controller began: the rest go",
        "none deleted yet: its controller may not have seen the zero",
        "all being deleted: nothing left to hurry",
        "mid-rollout: the old set began, the new one did not",
        "mid-rollout: the old set's pods all deleting, the new set's not begun",
        "mid-rollout: both began",
        "pods without a pod-template-hash are no ReplicaSet's",
        "no pod",
    ],
)
def test_only_replica_sets_whose_controller_began_are_hurried(
    groups: tuple[PodGroup, ...], hurried: tuple[str, ...]
) -> None:
    assert hurried_replica_sets(groups) == hurried


def live(template_hash: str, deleting: bool) -> PodState:
    return PodState("p", "1", False, False, True, deleting, True, template_hash=template_hash)


def test_live_pods_are_counted_by_replica_set() -> None:
    pods = [live("old", True), live("new", False), live("old", False), live("new", False)]
    assert pod_groups(pods) == (PodGroup("old", 1, 1), PodGroup("new", 2, 0))


@pytest.mark.parametrize(
    ("hashes", "selector"),
    [
        (("b1",), "app=web,tier=fe,pod-template-hash in (b1)"),
        (("b2", "a1"), "app=web,tier=fe,pod-template-hash in (a1,b2)"),
    ],
)
def test_the_delete_selects_the_named_replica_sets_only(
    hashes: tuple[str, ...], selector: str
) -> None:
    assert replica_set_pods_selector({"tier": "fe", "app": "web"}, hashes) == selector


def test_no_replica_set_named_deletes_nothing() -> None:
    with pytest.raises(ValueError, match="no ReplicaSet named"):
        replica_set_pods_selector({"app": "web"}, ())
