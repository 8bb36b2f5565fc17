"""`migration-rollback operator`: run the Kubernetes operator (the chart's entry point)."""

from __future__ import annotations

import dataclasses
import errno
import os
from collections.abc import Mapping
from typing import Annotated

import typer

from migration_rollback.cli.app import app
from migration_rollback.errors import ConfigurationError
from migration_rollback.exitcodes import ExitCode
from migration_rollback.settings import Settings


def settings_for(
    env: Mapping[str, str], namespaces: list[str] | None, leader_election: bool | None
) -> Settings:
    """The environment's settings, with what the command line gave on top (only that: an
    option left out keeps the environment's value, LEADER_ELECTION=false included)."""
    settings = Settings.from_env(env)
    if namespaces:
        settings = dataclasses.replace(settings, watch_namespaces=tuple(namespaces))
    if leader_election is not None:
        settings = dataclasses.replace(settings, leader_election=leader_election)
    return settings


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
        bool | None,
        typer.Option(
            "--leader-election/--no-leader-election",
            help="Hold a Lease so that only one replica acts. Default: LEADER_ELECTION, else on.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Watch MigrationRollback resources and drive each rollback to its end.

    Settings come from the environment (JOB_IMAGE, OPERATOR_NAMESPACE, WATCH_NAMESPACES,
    JOB_POD_OVERRIDES, METRICS_PORT, HEALTH_PORT, LEADER_ELECTION,
    MAX_CONCURRENT_ROLLBACKS); options here override them. A value it cannot use, or no
    Kubernetes configuration, stops it at once with one line naming it: exit 2.
    """
    if kubeconfig:
        # Before anything imports the kubernetes client: it reads $KUBECONFIG at import time,
        # and kopf's login goes through it.
        os.environ["KUBECONFIG"] = kubeconfig
    try:
        settings = settings_for(os.environ, namespace, leader_election)
        from migration_rollback.controller.main import run

        run(settings, kubeconfig)
    except ConfigurationError as exc:
        typer.echo(f"migration-rollback operator: error: {exc}", err=True)
        raise typer.Exit(int(ExitCode.USAGE)) from None
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        # The only ports it opens are these two, at start.
        typer.echo(
            f"migration-rollback operator: error: METRICS_PORT {settings.metrics_port} or "
            f"HEALTH_PORT {settings.health_port}: {exc.strerror}",
            err=True,
        )
        raise typer.Exit(int(ExitCode.USAGE)) from None
