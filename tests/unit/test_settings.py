"""The operator's settings from its environment: every value it cannot use stops it with one
line naming the variable (exit 2), none falls back to a default in silence."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from migration_rollback.cli import app
from migration_rollback.cli.operate import settings_for
from migration_rollback.errors import ConfigurationError
from migration_rollback.kube.client import connect
from migration_rollback.settings import Settings

BAD = {
    "METRICS_PORT=abc": ({"METRICS_PORT": "abc"}, "METRICS_PORT: 'abc' is not a whole number"),
    "HEALTH_PORT=70000": ({"HEALTH_PORT": "70000"}, "HEALTH_PORT: '70000'"),
    "METRICS_PORT=0": ({"METRICS_PORT": "0"}, "from 1 to 65535"),
    "one port for both": (
        {"METRICS_PORT": "9000", "HEALTH_PORT": "9000"},
        "METRICS_PORT and HEALTH_PORT are both 9000",
    ),
    "MAX_CONCURRENT_ROLLBACKS=-3": (
        {"MAX_CONCURRENT_ROLLBACKS": "-3"},
        "MAX_CONCURRENT_ROLLBACKS: '-3' is not a whole number from 1",
    ),
    "MAX_CONCURRENT_ROLLBACKS=1.5": ({"MAX_CONCURRENT_ROLLBACKS": "1.5"}, "'1.5'"),
    "LEADER_ELECTION=flase": (
        {"LEADER_ELECTION": "flase"},
        "LEADER_ELECTION: 'flase' is not a boolean",
    ),
    "JOB_POD_OVERRIDES not JSON": (
        {"JOB_POD_OVERRIDES": "{bad"},
        "JOB_POD_OVERRIDES: not JSON (line 1, column 2",
    ),
    "JOB_POD_OVERRIDES a list": (
        {"JOB_POD_OVERRIDES": "[]"},
        "JOB_POD_OVERRIDES: a JSON object of pod spec fields is needed, not list",
    ),
    "JOB_POD_OVERRIDES replaces the containers": (
        {"JOB_POD_OVERRIDES": '{"containers": [{"name": "x", "image": "evil"}]}'},
        "JOB_POD_OVERRIDES.containers: not a field an override may set",
    ),
    "JOB_POD_OVERRIDES a typo": (
        {"JOB_POD_OVERRIDES": '{"nodeSelectors": {"a": "b"}, "volumes": []}'},
        "JOB_POD_OVERRIDES.nodeSelectors, JOB_POD_OVERRIDES.volumes: not a field",
    ),
    "WATCH_NAMESPACES not names": (
        {"WATCH_NAMESPACES": "shop, Shop Prod"},
        "WATCH_NAMESPACES: 'Shop Prod' is not a namespace name",
    ),
    "JOB_IMAGE blank": ({"JOB_IMAGE": " "}, "JOB_IMAGE is set but empty"),
    "OPERATOR_NAMESPACE blank": ({"OPERATOR_NAMESPACE": ""}, "OPERATOR_NAMESPACE is set but"),
}


@pytest.mark.parametrize(("env", "message"), BAD.values(), ids=BAD.keys())
def test_a_bad_value_names_its_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        Settings.from_env(env)
    assert message in str(raised.value)


@pytest.mark.parametrize(("env", "message"), BAD.values(), ids=BAD.keys())
def test_the_operator_command_stops_with_one_line_and_exit_2(
    env: dict[str, str], message: str
) -> None:
    result = CliRunner().invoke(app, ["operator"], env={"KUBECONFIG": "", **env})
    assert result.exit_code == 2, result.output
    assert result.output.startswith("migration-rollback operator: error: ")
    assert message in result.output
    assert "Traceback" not in result.output


def test_good_values_are_read() -> None:
    settings = Settings.from_env(
        {
            "METRICS_PORT": " 9100",
            "HEALTH_PORT": "9101",
            "MAX_CONCURRENT_ROLLBACKS": "7",
            "LEADER_ELECTION": "False",
            "WATCH_NAMESPACES": "shop, billing,",
            "JOB_POD_OVERRIDES": '{"nodeSelector": {"pool": "db"}, "tolerations": []}',
        }
    )
    assert (settings.metrics_port, settings.health_port, settings.max_workers) == (9100, 9101, 7)
    assert settings.leader_election is False
    assert settings.watch_namespaces == ("shop", "billing")
    assert settings.job_pod_overrides == {"nodeSelector": {"pool": "db"}, "tolerations": []}


def test_unset_and_blank_overrides_mean_none() -> None:
    assert Settings.from_env({}).job_pod_overrides == {}
    assert Settings.from_env({"JOB_POD_OVERRIDES": ""}).job_pod_overrides == {}


def test_leader_election_from_the_environment_is_not_overridden_by_the_default_option() -> None:
    # The command's --leader-election flag defaulted to on and always replaced the variable:
    # the chart's leaderElection: false did nothing.
    assert settings_for({"LEADER_ELECTION": "false"}, None, None).leader_election is False
    assert settings_for({"LEADER_ELECTION": "false"}, None, True).leader_election is True
    assert settings_for({}, None, False).leader_election is False
    assert settings_for({}, ["a"], None).watch_namespaces == ("a",)


def test_no_kubernetes_configuration_is_a_configuration_error() -> None:
    # It used to end as "internal error: ConfigException ... (a bug: please report it)".
    with pytest.raises(ConfigurationError) as raised:
        connect("/nonexistent/kubeconfig")
    assert "no usable Kubernetes configuration" in str(raised.value)
    assert "/nonexistent/kubeconfig" in str(raised.value)
