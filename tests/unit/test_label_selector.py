"""spec.workloads[].selector.matchLabels becomes a label selector sent as text: a key or value
outside Kubernetes' label syntax changed what it selects (a key "tier!" made "tier!=web":
every workload not labelled tier=web, scaled to zero). Each is refused, naming the field."""

from __future__ import annotations

import pytest

from migration_rollback.kube.workloads import LabelSyntaxError, check_match_labels

WHERE = "spec.workloads[1].selector.matchLabels"


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ({"tier!": "web"}, f"{WHERE}: 'tier!' is not a label key"),
        ({"app": "shop,tier!=db"}, f"{WHERE}.app: 'shop,tier!=db' is not a label value"),
        ({"app in (a, b)": "x"}, f"{WHERE}: 'app in (a, b)' is not a label key"),
        ({"app": "x" * 64}, f"{WHERE}.app: "),
        ({"Example.com/app": "x"}, f"{WHERE}: 'Example.com/app' is not a label key"),
        # `$` with .match let a final newline through: the selector became "tier=web\n"
        ({"tier": "web\n"}, f"{WHERE}.tier: 'web\\n' is not a label value"),
        ({"tier\n": "web"}, f"{WHERE}: 'tier\\n' is not a label key"),
        ({"example.com/tier\n": "web"}, f"{WHERE}: 'example.com/tier\\n' is not a label key"),
    ],
)
def test_what_would_change_the_selection_is_refused(labels: dict[str, str], message: str) -> None:
    with pytest.raises(LabelSyntaxError) as caught:
        check_match_labels(labels, WHERE)
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize(
    "labels",
    [
        {"app": "shop"},
        {"app.kubernetes.io/part-of": "shop", "tier": ""},
        {"a": "x" * 63, "team_1.b-c": "v.1_2-3"},
    ],
)
def test_label_keys_and_values_pass(labels: dict[str, str]) -> None:
    check_match_labels(labels, WHERE)
