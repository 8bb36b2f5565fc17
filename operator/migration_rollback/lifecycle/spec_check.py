"""A spec's values checked against what the operator and its Job accept (pure), before
anything is touched: each problem names its field path.

The CRD refuses the same values (its patterns, maximums and CEL rules come from
`migration_rollback.limits`), but a CRD installed before a limit existed, or an object stored
before it, still reaches the operator. Without this check such a value failed an action on
every retry (a Job the API server refused, a URL httpx could not read, a timeout past what a
socket takes), with the resource stuck in its phase and maintenance left on.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

from migration_rollback import limits
from migration_rollback.lifecycle.durations import parse_millis
from migration_rollback.lifecycle.model import HttpMaintenance, RollbackSpec
from migration_rollback.lifecycle.spec_keys import suggestion
from migration_rollback.redact_url import http_url_shown
from migration_rollback.sqltext import NUL_PROBLEM, nul_line

_DNS_SUBDOMAIN = re.compile(limits.DNS_SUBDOMAIN)
_CONFIG_MAP_KEY = re.compile(limits.CONFIG_MAP_KEY)


def problems(spec: RollbackSpec) -> list[str]:
    """Every value the operator or its Job would refuse, as `<field path>: <what is wrong>`."""
    return [
        *(f"{path}: unknown field{suggestion(path)}" for path in spec.unknown),
        *_job(spec),
        *_maintenance(spec),
        *_health(spec),
        *_timeout(
            "spec.backup.maxAge", spec.backup.max_age, limits.MAX_AGE_MS, limits.MAX_AGE_TEXT
        ),
        *_at_most(
            "spec.scaleDownTimeoutSeconds",
            spec.scale_down_timeout_seconds,
            limits.SCALE_DOWN_TIMEOUT_SECONDS_MAX,
        ),
    ]


def sql_text_problem(where: str, text: str) -> str | None:
    """The CLI's rule for a rollback file (migration_rollback.sqltext), for a text the operator
    was given: inline, or from a ConfigMap."""
    line = nul_line(text.encode("utf-8", "surrogatepass"))
    return None if line is None else f"{where}: line {line}: {NUL_PROBLEM}"


def _job(spec: RollbackSpec) -> Iterator[str]:
    job = spec.job
    yield from _at_most(
        "spec.job.timeoutSeconds", job.timeout_seconds, limits.JOB_TIMEOUT_SECONDS_MAX
    )
    for path, text in (
        ("spec.job.lockTimeout", job.lock_timeout),
        ("spec.job.statementTimeout", job.statement_timeout),
    ):
        yield from _timeout(path, text, limits.MAX_TIMEOUT_MS, limits.MAX_TIMEOUT_TEXT)
    if job.service_account_name is not None:
        yield from _name("spec.job.serviceAccountName", job.service_account_name)


def _maintenance(spec: RollbackSpec) -> Iterator[str]:
    m = spec.maintenance
    if m is not None and m.http is not None:
        yield from _url("spec.maintenance.http.url", m.http.url)
        yield from _http_timeout(m.http)
    if m is not None and m.config_map is not None:
        yield from _name("spec.maintenance.configMap.name", m.config_map.name)
        yield from _config_map_key("spec.maintenance.configMap.key", m.config_map.key)


def _http_timeout(http: HttpMaintenance) -> Iterator[str]:
    yield from _at_most(
        "spec.maintenance.http.timeoutSeconds",
        http.timeout_seconds,
        limits.HEALTH_TIMEOUT_SECONDS_MAX,
    )


def _health(spec: RollbackSpec) -> Iterator[str]:
    for index, check in enumerate(spec.health_checks):
        path = f"spec.healthChecks[{index}]"
        yield from _url(f"{path}.url", check.url)
        for field, value, most in (
            ("periodSeconds", check.period_seconds, limits.HEALTH_PERIOD_SECONDS_MAX),
            ("timeoutSeconds", check.timeout_seconds, limits.HEALTH_TIMEOUT_SECONDS_MAX),
            ("successThreshold", check.success_threshold, limits.HEALTH_THRESHOLD_MAX),
            ("failureThreshold", check.failure_threshold, limits.HEALTH_THRESHOLD_MAX),
        ):
            yield from _at_most(f"{path}.{field}", value, most)


def _at_most(path: str, value: float, most: int) -> Iterator[str]:
    if value > most:
        # An int as written; a float-read one (health checks) past 2**53 is not exact: 9.2e+18.
        exact = isinstance(value, int) or (value.is_integer() and value < 2**53)
        shown = f"{int(value)}" if exact else f"{value:.2g}"
        yield f"{path}: must be at most {most}, got {shown}"


def _timeout(path: str, text: str, most: int, most_text: str) -> Iterator[str]:
    try:
        millis = parse_millis(text)
    except ValueError as exc:
        yield f"{path}: {exc}"
        return
    if millis < 1:
        yield f"{path}: must be at least 1ms (PostgreSQL reads 0 as no limit at all)"
    elif millis > most:
        yield f"{path}: must be at most {most_text} (what the rollback Job accepts), got {text}"


def _name(path: str, value: str) -> Iterator[str]:
    if len(value) > limits.DNS_SUBDOMAIN_MAX_LENGTH or not _DNS_SUBDOMAIN.fullmatch(value):
        yield (
            f"{path}: {value[:80]!r} is not a Kubernetes name (lower-case letters, digits, "
            "'-' and '.', starting and ending with a letter or digit, at most "
            f"{limits.DNS_SUBDOMAIN_MAX_LENGTH} characters)"
        )


def _config_map_key(path: str, value: str) -> Iterator[str]:
    valid = _CONFIG_MAP_KEY.fullmatch(value) and value not in (".", "..")
    if len(value) > limits.CONFIG_MAP_KEY_MAX_LENGTH or not valid or value.startswith(".."):
        yield (
            f"{path}: {value[:80]!r} is not a ConfigMap key (letters, digits, '-', '_' and '.', "
            f"at most {limits.CONFIG_MAP_KEY_MAX_LENGTH} characters, not '.' or '..')"
        )


def _url(path: str, url: str) -> Iterator[str]:
    """An http(s) URL with a host and a valid port, as the operator's HTTP client reads it.
    Quoted as status and Events show URLs (user information and tokens masked) before it is
    cut: a raw piece would show a password that holds a space, which later masks stop at."""
    problem = url_problem(url)
    if problem:
        yield f"{path}: {http_url_shown(url)[:200]!r} {problem}"


def url_problem(url: str) -> str | None:
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        return "has a space or control character"
    try:
        parts = urlsplit(url)
        port = parts.port  # raises for a port that is not a number from 0 to 65535
    except ValueError as exc:
        return f"is not a URL ({exc})"
    if parts.scheme not in ("http", "https"):
        return "is not an http or https URL"
    if not parts.hostname:
        return "has no host"
    if port == 0:
        return "has port 0"
    return None
