"""A database URL that libpq cannot parse, or cannot connect with, ends the resource Failed at
once: the reason names the Secret and key, and no piece of the password shows anywhere (the
resource's status, its Events, the operator's log). Nothing loops, nothing is touched."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import pytest
from scenario import SOCIAL, OperatorProcess, Shop
from tests.cluster.controlplane import free_port
from tests.leaks import leaked

pytestmark = pytest.mark.e2e

QUICK = f"-- ROLLBACK: {SOCIAL}\nDROP INDEX IF EXISTS public.idx_timeline_comments_event;\n"


def secret(shop: Shop, name: str, url: str) -> None:
    shop.core.create_namespaced_secret(
        shop.namespace, {"metadata": {"name": name}, "stringData": {"db-url": url}}
    )


def everything_written(shop: Shop, name: str, operator: OperatorProcess, log_from: int) -> str:
    """The resource's status, its Events and the operator's log since the test started."""
    status = json.dumps(shop.get(name).get("status") or {})
    events = json.dumps(shop.event_texts(name))
    with Path(operator.log_path).open("rb") as log:
        log.seek(log_from)
        return "\n".join((status, events, log.read().decode(errors="replace")))


@pytest.mark.parametrize(
    ("url", "password"),
    [
        # An unencoded '/' ends the host part: libpq reads "pa" as the port.
        ("postgresql://app:pa/ss@db.example/shop", "pa/ss"),
        # An unencoded '@': libpq takes "Frag" as the password and "Leak@db.example" as the host.
        ("postgresql://user:Frag@Leak@db.example/shop", "Frag@Leak"),
    ],
    ids=["slash-in-password", "at-in-password"],
)
def test_an_unparsable_url_fails_naming_the_secret_and_shows_no_password(
    shop: Shop, operator: OperatorProcess, url: str, password: str
) -> None:
    log_from = operator.log_path.stat().st_size
    secret(shop, "bad-db", url)
    shop.mrb(
        "bad-url",
        migration=SOCIAL,
        rollback={"sql": QUICK},
        database={"urlSecretRef": {"name": "bad-db", "key": "db-url"}},
    )
    status = shop.wait_phase("bad-url", "Failed", "Succeeded", timeout=60)["status"]
    assert status["phase"] == "Failed"
    assert status["reason"] == "InvalidDatabaseURL"
    assert "Secret bad-db key db-url (spec.database.urlSecretRef)" in status["message"]
    assert status["failure"]["reason"] == "InvalidDatabaseURL"
    assert shop.condition("bad-url", "Failed")["status"] == "True"
    # It failed validating: no Job ran, no Lease was taken, the app never stopped.
    assert "jobName" not in status
    assert "databaseLock" not in status
    assert shop.replicas() == 3
    assert shop.endpoints.maintenance_calls() == []
    shop.wait_events("bad-url", "InvalidDatabaseURL")
    assert leaked(password, everything_written(shop, "bad-url", operator, log_from)) == set()
    assert "Traceback" not in everything_written(shop, "bad-url", operator, log_from)


# Passwords no piece of which occurs in ordinary log text, in the forms libpq accepts: a raw
# '#' and '?' in a URL (text-level redaction stopped there), percent-encoded non-ASCII and
# '%', and the keyword form with quotes and a backslash.
CLOSED_PORT_URLS = [
    ("Qz7#Vw3?Kx9-Jm5", "postgresql://app:{password}@127.0.0.1:{port}/shop"),
    ("Qz7%Ŵv3-Ķx9 Jm5", "postgresql://app:{encoded}@127.0.0.1:{port}/shop"),
    ("Qz7'Vw3\\Kx9\"Jm5", "host=127.0.0.1 port={port} dbname=shop user=app password='{escaped}'"),
]


@pytest.mark.parametrize(("password", "template"), CLOSED_PORT_URLS, ids=["raw", "encoded", "kv"])
def test_a_url_that_cannot_connect_fails_naming_the_secret_and_shows_no_password(
    shop: Shop, operator: OperatorProcess, password: str, template: str
) -> None:
    log_from = operator.log_path.stat().st_size
    escaped = password.replace("\\", "\\\\").replace("'", "\\'")
    url = template.format(
        password=password, encoded=quote(password, safe=""), escaped=escaped, port=free_port()
    )
    # Parses, but nothing listens there: the rehearsal Job cannot connect.
    secret(shop, "closed-db", url)
    shop.mrb(
        "closed-port",
        migration=SOCIAL,
        rollback={"sql": QUICK},
        database={"urlSecretRef": {"name": "closed-db", "key": "db-url"}},
        backup={"mode": "none"},
    )
    status = shop.wait_phase("closed-port", "Failed", "Succeeded", timeout=180)["status"]
    assert status["phase"] == "Failed"
    assert status["reason"] == "ConnectionFailed", status.get("message")
    assert "Secret closed-db key db-url (spec.database.urlSecretRef)" in status["message"]
    assert status["result"]["exit_name"] == "CONNECTION_FAILED"
    # The rehearsal failed while the app served: it never stopped, and the Lease is free.
    assert shop.replicas() == 3
    assert "databaseLock" not in status
    assert leaked(password, everything_written(shop, "closed-port", operator, log_from)) == set()
