"""A Secret's URL value as the operator reads it: bytes that are not UTF-8 are kept as the Job
will see them, so the URL's parser refuses them at validation naming the Secret and key. They
were replaced by U+FFFD, which parsed, so the resource went on to scale the app down and the
Job then failed on the real bytes.

The API object is a stand-in with the one method used: what is tested is the decoding."""

from __future__ import annotations

import base64
from types import SimpleNamespace
from typing import Any

import pytest

from migration_rollback.conninfo import InvalidDatabaseUrlError, parse_database_url
from migration_rollback.kube.client import Clients
from migration_rollback.kube.sources import SourceNotFoundError, secret_value

FIELD = "spec.database.urlSecretRef"


def clients_with(data: dict[str, bytes]) -> Clients:
    encoded = {k: base64.b64encode(v).decode() for k, v in data.items()}

    def read(name: str, namespace: str) -> Any:
        return SimpleNamespace(data=encoded)

    core = SimpleNamespace(read_namespaced_secret=read)
    return Clients(None, core, None, None, None, None, None)


def test_bytes_that_are_not_utf8_reach_the_parser_and_are_refused() -> None:
    clients = clients_with({"url": b"postgresql://app:pw\xffZq7x@db/shop"})
    text = secret_value(clients, "shop", "shop-db", "url", FIELD)
    with pytest.raises(InvalidDatabaseUrlError) as caught:
        parse_database_url(text, where=f"Secret shop-db key url ({FIELD})")
    assert str(caught.value).startswith(f"Secret shop-db key url ({FIELD}): it holds bytes")
    assert "Zq7x" not in str(caught.value)


def test_utf8_values_read_as_they_are() -> None:
    clients = clients_with({"url": "postgresql://app:pä@db/shop".encode()})
    assert secret_value(clients, "shop", "shop-db", "url", FIELD).endswith("pä@db/shop")


def test_a_missing_key_is_named() -> None:
    with pytest.raises(SourceNotFoundError, match="key 'url' not in Secret shop-db"):
        secret_value(clients_with({"other": b"x"}), "shop", "shop-db", "url", FIELD)
