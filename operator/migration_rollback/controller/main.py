"""`migration-rollback operator`: leader election, metrics and health servers, then kopf.

Until kopf's watches have listed (controller.readiness) /readyz answers 503 with what it waits
for: the leader lease, the CRD, or the watches the API server still refuses.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import kopf
from prometheus_client import start_http_server

from migration_rollback import api
from migration_rollback.controller import handlers
from migration_rollback.controller.events import EventPoster
from migration_rollback.controller.poddeletes import PodDeletes
from migration_rollback.controller.readiness import Readiness, observe_kopf_watches
from migration_rollback.kube import leases
from migration_rollback.kube.client import Clients, connect, resource_served
from migration_rollback.metrics import REGISTRY
from migration_rollback.settings import Settings

log = logging.getLogger("migration_rollback.operator")
LEADER_LEASE = "migration-rollback-operator"
LEASE_SECONDS = 15
CRD_POLL_SECONDS = 5
SERVED = f"{api.PLURAL}.{api.GROUP}/{api.VERSION}"


class _Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/healthz":
            ok, text = True, "ok"
        elif self.path == "/readyz":
            ok, text = handlers.Context.readiness.report()
        else:
            self.send_error(404)
            return
        body = f"{text}\n".encode()
        self.send_response(200 if ok else 503)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


def _serve_health(port: int) -> None:
    server = ThreadingHTTPServer(("0.0.0.0", port), _Health)  # noqa: S104 (probes come from the kubelet)
    threading.Thread(target=server.serve_forever, daemon=True, name="health").start()


def _lead(settings: Settings, kubeconfig: str | None, readiness: Readiness) -> None:
    """Block until this replica holds the leader Lease; renew it, or exit if it is lost.

    kopf's own peering is priority-based and can let two replicas act for a moment; a Lease
    with exit-on-loss cannot, which is what a rollback needs.
    """
    clients = connect(kubeconfig)
    held: leases.Attempt | None = None  # the last poll's: after a 409, a poll is one read
    while (held := leases.try_acquire(
        clients, settings.namespace, LEADER_LEASE, settings.identity, LEASE_SECONDS, held
    )).holder is not None:  # fmt: skip
        log.info("waiting for the leader lease (held by %s)", held.holder)
        readiness.waiting(f"the leader lease {LEADER_LEASE} (held by {held.holder})")
        time.sleep(2)
    log.info("leading as %s", settings.identity)
    readiness.waiting("the watches to start")

    def renew(held: leases.Attempt) -> None:
        while True:
            time.sleep(LEASE_SECONDS / 3)
            try:
                held = leases.try_acquire(
                    clients, settings.namespace, LEADER_LEASE, settings.identity, LEASE_SECONDS,
                    held,
                )  # fmt: skip
            except Exception:
                log.exception("could not renew the leader lease")
                held = leases.Attempt("unknown")
            if held.holder is not None:
                log.error(
                    "lost the leader lease to %s: exiting so only one replica acts", held.holder
                )
                os._exit(70)

    threading.Thread(target=renew, args=(held,), daemon=True, name="leader").start()


def _await_served(clients: Clients, readiness: Readiness) -> None:
    """Wait, not ready and saying why, until the API server serves our resource: kopf (scanning
    off) watches only what was served when it started. A CRD applied late then needs no
    restart, and the pod is never Ready while it sees nothing."""
    what = (
        f"the {SERVED} resource to be served: install the CRD (the Helm chart does, with "
        "crds.install=true; or kubectl apply -f crds/)"
    )
    said = False
    while not resource_served(clients, api.GROUP, api.VERSION, api.PLURAL):
        if not said:
            log.warning("waiting for %s", what)
            readiness.waiting(what)
            said = True
        time.sleep(CRD_POLL_SECONDS)


def run(settings: Settings, kubeconfig: str | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    readiness = handlers.Context.readiness
    observe_kopf_watches(readiness)  # before anything: refuse to start if it cannot
    _serve_health(settings.health_port)
    start_http_server(settings.metrics_port, registry=REGISTRY)
    if settings.leader_election:
        _lead(settings, kubeconfig, readiness)
    handlers.Context.settings = settings
    # A connection for each concurrent rollback and one for its pod watch.
    handlers.Context.clients = connect(kubeconfig, connections=2 * settings.max_workers)
    handlers.Context.events = EventPoster.to_api(handlers.Context.clients)
    handlers.Context.deletes = PodDeletes.to_api(handlers.Context.clients)
    _await_served(handlers.Context.clients, readiness)
    readiness.expect(handlers.WATCHED, settings.watch_namespaces)
    try:
        asyncio.run(
            kopf.operator(
                clusterwide=not settings.watch_namespaces,
                namespaces=list(settings.watch_namespaces),
                standalone=True,
            )
        )
    finally:
        if settings.leader_election:
            # A clean stop hands over at once instead of after the lease runs out.
            leases.release(
                handlers.Context.clients, settings.namespace, LEADER_LEASE, settings.identity
            )
