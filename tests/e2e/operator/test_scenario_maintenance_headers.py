"""The maintenance call's headers Secret, on the real API server (found by adversarial review
A, finding 5): a token file's trailing newline is taken off and said; a value no header can
carry (CR/LF inside, not ASCII) fails the rollback before anything is touched, naming the
Secret and the key and never the value; a missing Secret is waited for like any source."""

from __future__ import annotations

import base64

import pytest
from scenario import SOCIAL, OperatorProcess, Shop, wait_for

pytestmark = pytest.mark.e2e

ROLLBACK = f"-- ROLLBACK: {SOCIAL}\nDROP INDEX IF EXISTS public.idx_timeline_comments_event;\n"
TOKEN = "Bearer s3cret-token"


def secret(shop: Shop, name: str, value: bytes) -> None:
    shop.core.create_namespaced_secret(
        shop.namespace,
        {"metadata": {"name": name}, "data": {"Authorization": base64.b64encode(value).decode()}},
    )


def rollback(shop: Shop, name: str, headers: str) -> None:
    maintenance = {
        "http": {
            "url": f"{shop.endpoints.url}/api/admin/maintenance",
            "headersSecretRef": {"name": headers},
        }
    }
    shop.mrb(
        name, migration=SOCIAL, rollback={"sql": ROLLBACK}, backup={"mode": "none"},
        maintenance=maintenance,
    )  # fmt: skip


def test_a_token_file_newline_is_taken_off_and_said(shop: Shop, operator: OperatorProcess) -> None:
    secret(shop, "admin-from-file", f"{TOKEN}\n".encode())
    rollback(shop, "undo-newline", "admin-from-file")
    done = shop.wait_phase("undo-newline", "Succeeded", "Failed", timeout=180)["status"]
    assert done["phase"] == "Succeeded", done.get("message")
    sent = [h.get("Authorization") for h in shop.endpoints.headers]
    assert sent == [TOKEN, TOKEN]  # on, then off: without the newline
    said = "a trailing newline was taken off the value of 'Authorization'"
    wait_for("the operator to say so", lambda: said in operator.log_text(), timeout=10)


@pytest.mark.parametrize(
    "value",
    [b"Bearer s3cret-token\r\nX-Injected: 1", "Bearer s3cr\u00e9t-token".encode(), b"\xd6s3cret"],
    ids=["crlf-inside", "not-ascii", "not-utf8"],
)
def test_a_token_no_header_can_carry_fails_before_anything_is_touched(
    shop: Shop, operator: OperatorProcess, value: bytes
) -> None:
    secret(shop, "admin-bad", value)
    rollback(shop, "undo-bad-token", "admin-bad")
    done = shop.wait_phase("undo-bad-token", "Failed", "Succeeded", timeout=120)["status"]
    assert done["reason"] == "MaintenanceFailed", done.get("message")
    message = done["message"]
    assert f"Secret {shop.namespace}/admin-bad key 'Authorization'" in message
    assert "nothing was touched" in message
    assert "s3cr" not in message
    assert "s3cr" not in operator.log_text()
    assert shop.endpoints.maintenance_calls() == []
    assert shop.replicas() == 3


def test_a_missing_headers_secret_is_waited_for_then_used(shop: Shop) -> None:
    rollback(shop, "undo-later-token", "admin-later")
    wait_for(
        "the rollback to wait for the headers Secret",
        lambda: "admin-later" in str(shop.get("undo-later-token").get("status", {}).get("message")),
        timeout=60,
    )
    assert shop.phase("undo-later-token") == "Validating"
    assert shop.get("undo-later-token")["status"]["reason"] == "SourceNotFound"
    secret(shop, "admin-later", TOKEN.encode())
    done = shop.wait_phase("undo-later-token", "Succeeded", "Failed", timeout=180)["status"]
    assert done["phase"] == "Succeeded", done.get("message")
    assert [h.get("Authorization") for h in shop.endpoints.headers] == [TOKEN, TOKEN]
