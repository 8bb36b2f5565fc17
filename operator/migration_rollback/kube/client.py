"""Kubernetes API clients, configured from a kubeconfig or the pod's service account."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubernetes import client, config
from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException

from migration_rollback.errors import ConfigurationError


@dataclass(frozen=True)
class Clients:
    """The typed API groups, held as Any: bodies are plain dicts (the client accepts them, its
    annotations insist on model classes), and responses are read field by field."""

    api: Any
    core: Any
    apps: Any
    batch: Any
    autoscaling: Any
    coordination: Any
    custom: Any


class CountingApiClient(ApiClient):
    """Counts every request to the API server (the `api_requests` metric)."""

    def call_api(self, *args: Any, **kwargs: Any) -> Any:
        from migration_rollback.metrics import API_REQUESTS

        method = args[0] if args else kwargs.get("method", "?")
        API_REQUESTS.labels(str(method)).inc()
        return super().call_api(*args, **kwargs)


def connect(kubeconfig: str | None = None, connections: int | None = None) -> Clients:
    """In a pod: its service account; elsewhere: the kubeconfig (or $KUBECONFIG).
    `connections`: how many connections to the API server are kept open for reuse (the
    client's default, 5 per core, is fewer than concurrent rollbacks and their pod watches
    hold: a connection beyond it is closed after one request, the next one opened anew)."""
    configuration = _configuration(kubeconfig)
    if connections is not None:
        configuration.connection_pool_maxsize = connections
    api = CountingApiClient(configuration=configuration)
    return Clients(
        api=api,
        core=client.CoreV1Api(api),
        apps=client.AppsV1Api(api),
        batch=client.BatchV1Api(api),
        autoscaling=client.AutoscalingV2Api(api),
        coordination=client.CoordinationV1Api(api),
        custom=client.CustomObjectsApi(api),
    )


def _configuration(kubeconfig: str | None) -> client.Configuration:
    configuration = client.Configuration()
    if kubeconfig is None:
        try:
            config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
            return configuration
        except config.ConfigException:
            pass
    try:
        config.load_kube_config(  # type: ignore[no-untyped-call]
            config_file=kubeconfig, client_configuration=configuration
        )
    except (config.ConfigException, OSError) as exc:
        where = kubeconfig or "$KUBECONFIG or ~/.kube/config"
        raise ConfigurationError(
            f"no usable Kubernetes configuration: not in a pod with a service account, and "
            f"{where}: {exc}"
        ) from None
    return configuration


def is_not_found(exc: BaseException) -> bool:
    return isinstance(exc, ApiException) and exc.status == 404


def is_conflict(exc: BaseException) -> bool:
    return isinstance(exc, ApiException) and exc.status == 409


def resource_served(clients: Clients, group: str, version: str, plural: str) -> bool:
    """Whether the API server serves this resource (discovery: readable by any account)."""
    try:
        found = clients.custom.get_api_resources(group, version)
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise
    return any(r.name == plural for r in (found.resources if found else None) or [])
