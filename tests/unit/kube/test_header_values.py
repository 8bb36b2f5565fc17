"""The maintenance headers Secret's values, checked as a header carries them: the error names
the Secret and the key and the cause, never the value (a token); one trailing newline (what
`kubectl create secret --from-file` leaves) is taken off and said. The real API server's side
is tests/e2e/operator/test_scenario_maintenance_headers.py."""

from __future__ import annotations

import base64
from types import SimpleNamespace

import pytest
from kubernetes.client.exceptions import ApiException

from migration_rollback.controller.permanent import refusal
from migration_rollback.kube import maintenance, sources

TOKEN = "Bearer s3cret-t0ken"
WHERE = "spec.maintenance.http.headersSecretRef: Secret shop/admin key 'Authorization'"


def test_a_printable_ascii_value_is_sent_as_it_is() -> None:
    assert sources.header_value(TOKEN.encode(), "Authorization", WHERE) == TOKEN


@pytest.mark.parametrize(
    ("raw", "cause"),
    [
        (b"Bearer s3cret\r\nX-Evil: 1", "line break (CR/LF)"),
        (b"Bearer s3cret\n", "line break (CR/LF)"),  # a second newline, once one is taken off
        ("Bearer s3cr\u00e9t".encode(), "not ASCII"),
        (b"Bearer s3cr\xd6t", "not ASCII"),  # not UTF-8 either
        (b"Bearer s3cret\x00", "control character"),
        (b"", "empty"),
        (b" Bearer s3cret", "space"),
    ],
)
def test_a_value_that_cannot_be_sent_names_secret_key_and_cause_never_the_value(
    raw: bytes, cause: str
) -> None:
    with pytest.raises(sources.InvalidHeaderError) as caught:
        sources.header_value(raw, "Authorization", WHERE)
    said = str(caught.value)
    assert said.startswith(WHERE)
    assert cause in said
    assert "s3cr" not in said
    assert "Bearer" not in said


def test_a_key_that_is_no_header_name_is_named() -> None:
    with pytest.raises(sources.InvalidHeaderError, match="not a valid HTTP header name"):
        sources.header_value(b"x", "bad key", WHERE)


def _clients(data: dict[str, bytes]) -> SimpleNamespace:
    encoded = {k: base64.b64encode(v).decode() for k, v in data.items()}
    read = lambda name, namespace: SimpleNamespace(data=encoded)  # noqa: E731
    return SimpleNamespace(core=SimpleNamespace(read_namespaced_secret=read))


def test_one_trailing_newline_is_taken_off_and_said() -> None:
    clients = _clients({"Authorization": f"{TOKEN}\n".encode(), "X-Tenant": b"shop\r\n"})
    read = sources.header_values(clients, "shop", "admin", "f")  # type: ignore[arg-type]
    assert read.values == {"Authorization": TOKEN, "X-Tenant": "shop"}
    assert read.stripped == ("Authorization", "X-Tenant")


def test_a_missing_headers_secret_is_a_bounded_retry_not_kopfs_endless_one() -> None:
    """Deleted mid-rollback: an error the flow's error budget counts (controller.permanent),
    naming the Secret; kopf would retry a LookupError every 60 s forever."""

    def gone(name: str, namespace: str) -> None:
        raise ApiException(status=404, reason="Not Found")

    clients = SimpleNamespace(core=SimpleNamespace(read_namespaced_secret=gone))
    with pytest.raises(maintenance.HeadersSecretMissing) as caught:
        maintenance._headers(clients, "shop", "admin")  # type: ignore[arg-type]
    said = refusal(caught.value)
    assert said is not None
    assert "headersSecretRef: Secret shop/admin not found" in said
