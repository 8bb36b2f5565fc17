"""`migration-rollback operator`: run the Kubernetes operator (the chart's entry point)."""

from __future__ import annotations

import dataclasses
import os
from typing import Annotated

import typer

from migration_rollback.cli.app import app


@app.command("operator")
def operator_command(
    kubeconfig: Annotated[
        str | None,
        typer.Option(
            help="Kubeconfig to use instead of the pod's service account.", envvar="KUBECONFIG"
        ),
    ] = None,
    namespace: Annotated[
        list[str] | None,
        typer.Option(
            "--namespace", "-n", help="Watch only these namespaces (repeat); default: all."
        ),
    ] = None,
    leader_election: Annotated[
        bool, typer.Option(help="Hold a Lease so that only one replica acts.")
    ] = True,
) -> None:
    """Watch MigrationRollback resources and drive each rollback to its end.

    Settings come from the environment (JOB_IMAGE, OPERATOR_NAMESPACE, WATCH_NAMESPACES,
    JOB_POD_OVERRIDES, METRICS_PORT, HEALTH_PORT); options here override them.
    """
    if kubeconfig:
        # Before anything imports the kubernetes client: it reads $KUBECONFIG at import time,
        # and kopf's login goes through it.
        os.environ["KUBECONFIG"] = kubeconfig
    from migration_rollback.controller.main import run
    from migration_rollback.settings import Settings

    settings = Settings.from_env()
    if namespace:
        settings = dataclasses.replace(settings, watch_namespaces=tuple(namespace))
    settings = dataclasses.replace(settings, leader_election=leader_election)
    run(settings, kubeconfig)
