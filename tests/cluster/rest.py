"""A small JSON client for the Kubernetes API, on the standard library only.

The control plane's own plumbing (creating nodes, installing CRDs, waiting for readiness) and
the job executor use it: it speaks plain JSON dicts, so they do not depend on one version of
the generated ``kubernetes`` client. The tests themselves use the ``kubernetes`` client.
"""

from __future__ import annotations

import http.client
import json
import ssl
import threading
import urllib.parse
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

JSON = dict[str, Any]

MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"


class ApiError(Exception):
    """A response with a status of 400 or more."""

    def __init__(self, method: str, path: str, status: int, body: str) -> None:
        self.status = status
        self.body = body
        try:
            message = json.loads(body).get("message", body)
        except ValueError:
            message = body
        super().__init__(f"{method} {path}: {status} {message}")


class KubeRest:
    """Talks to one API server with a client certificate or a bearer token."""

    def __init__(
        self,
        host: str,
        port: int,
        ca_file: Path,
        cert_file: Path | None = None,
        key_file: Path | None = None,
        token: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self._token = token
        self._context = ssl.create_default_context(cafile=str(ca_file))
        if cert_file is not None:
            self._context.load_cert_chain(str(cert_file), str(key_file) if key_file else None)
        self._local = threading.local()

    def _connection(self, timeout: float | None) -> http.client.HTTPSConnection:
        return http.client.HTTPSConnection(
            self.host, self.port, context=self._context, timeout=timeout or self.timeout
        )

    def _headers(self, content_type: str | None) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": "migration-rollback-tests"}
        if content_type:
            headers["Content-Type"] = content_type
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        return headers

    @staticmethod
    def _url(path: str, params: Mapping[str, object] | None) -> str:
        if not params:
            return path
        query = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in params.items()}
        return f"{path}?{urllib.parse.urlencode(query)}"

    def request(
        self,
        method: str,
        path: str,
        body: object = None,
        *,
        params: Mapping[str, object] | None = None,
        content_type: str = "application/json",
        raw: bool = False,
    ) -> JSON:
        """Sends one request and returns the decoded JSON body (with ``raw``, the body as
        ``{"text": ...}``); raises ApiError for a status of 400 or more.

        Keeps one connection per thread and retries once on a dropped keep-alive connection.
        """
        url = self._url(path, params)
        data = None if body is None else json.dumps(body).encode()
        headers = self._headers(content_type if data is not None else None)
        for attempt in (1, 2):
            conn: http.client.HTTPSConnection | None = getattr(self._local, "conn", None)
            if conn is None:
                conn = self._connection(None)
                self._local.conn = conn
            try:
                conn.request(method, url, body=data, headers=headers)
                response = conn.getresponse()
                payload = response.read()
            except (http.client.HTTPException, ConnectionError, OSError):
                conn.close()
                self._local.conn = None
                if attempt == 2:
                    raise
                continue
            text = payload.decode("utf-8", "replace")
            if response.status >= 400:
                raise ApiError(method, path, response.status, text)
            if raw:
                return {"text": text}
            return json.loads(text) if text else {}
        raise AssertionError("unreachable")

    def get(self, path: str, **params: object) -> JSON:
        return self.request("GET", path, params=params)

    def create(self, path: str, body: object) -> JSON:
        return self.request("POST", path, body)

    def patch(self, path: str, body: object, content_type: str = MERGE_PATCH) -> JSON:
        return self.request("PATCH", path, body, content_type=content_type)

    def delete(self, path: str, body: object = None) -> JSON:
        return self.request("DELETE", path, body)

    def watch(
        self, path: str, params: Mapping[str, object], timeout: float = 330.0
    ) -> Iterator[JSON]:
        """Yields the watch events (``{"type": ..., "object": ...}``) of one watch request on a
        connection of its own, until the server ends it. ``params`` should hold
        ``resourceVersion`` and ``timeoutSeconds`` (below ``timeout``)."""
        conn = self._connection(timeout)
        try:
            conn.request(
                "GET", self._url(path, {**params, "watch": True}), headers=self._headers(None)
            )
            response = conn.getresponse()
            if response.status >= 400:
                raise ApiError("WATCH", path, response.status, response.read().decode())
            while True:
                line = response.readline()
                if not line:
                    return
                if line.strip():
                    yield json.loads(line)
        finally:
            conn.close()

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
