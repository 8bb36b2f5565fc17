"""Option values libpq checks only when it connects, checked when a connection string is parsed.

For the operator, libpq's own check comes after the app was scaled down: a typo
(sslmode=requre), a number libpq cannot read (an Arabic-Indic digit, 2**31), an unknown
require_auth method or a host address that is not one would fail the rollback Job instead of
the resource's validation. The rules follow libpq 18 (the one psycopg bundles). A message names
the option, never its value: whatever was typed there may be a piece of a secret.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Callable, Mapping
from types import MappingProxyType

_CHOICES: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "sslmode": frozenset({"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}),
        "gssencmode": frozenset({"disable", "prefer", "require"}),
        "channel_binding": frozenset({"disable", "prefer", "require"}),
        "sslcertmode": frozenset({"disable", "allow", "require"}),
        "sslnegotiation": frozenset({"postgres", "direct"}),
        "load_balance_hosts": frozenset({"disable", "random"}),
        "target_session_attrs": frozenset(
            {"any", "read-write", "read-only", "primary", "standby", "prefer-standby"}
        ),
    }
)
_TLS_VERSIONS = frozenset({"tlsv1", "tlsv1.1", "tlsv1.2", "tlsv1.3"})
_TLS_KEYWORDS = ("ssl_min_protocol_version", "ssl_max_protocol_version")
_INTEGER_KEYWORDS = (
    "connect_timeout",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_count",
    "tcp_user_timeout",
)
# libpq's parse_int_param: strtol (C-locale spaces, a sign, ASCII digits), trailing spaces, and
# a value that fits a C int. Python's \d and \s would take Unicode digits and spaces too.
_C_INTEGER = re.compile(r"[ \t\n\r\f\v]*[-+]?[0-9]+[ \t\n\r\f\v]*", re.ASCII)
_INT_RANGE = range(-(2**31), 2**31)
_PORT_RANGE = range(1, 65536)
_AUTH_METHODS = frozenset({"password", "md5", "gss", "sspi", "scram-sha-256", "oauth", "none"})


def c_integer(text: str) -> int | None:
    """The value libpq reads from `text` as an int option, or None when it refuses it."""
    if not _C_INTEGER.fullmatch(text):
        return None
    value = int(text)
    return value if value in _INT_RANGE else None


def value_problem(params: Mapping[str, str]) -> str | None:
    """What is wrong with the first option value libpq would refuse on connecting, or None."""
    for check in _CHECKS:
        problem = check(params)
        if problem is not None:
            return problem
    return None


def _choice_problem(params: Mapping[str, str]) -> str | None:
    for key, allowed in _CHOICES.items():
        if key in params and params[key] not in allowed:
            return f"its {key} is not one libpq knows ({', '.join(sorted(allowed))})"
    return None


def _tls_problem(params: Mapping[str, str]) -> str | None:
    for key in _TLS_KEYWORDS:
        if params.get(key) and params[key].lower() not in _TLS_VERSIONS:
            return f"its {key} is not a TLS version (TLSv1, TLSv1.1, TLSv1.2, TLSv1.3)"
    return None


def _integer_problem(params: Mapping[str, str]) -> str | None:
    for key in _INTEGER_KEYWORDS:
        if key in params and c_integer(params[key]) is None:
            return f"its {key} is not a whole number from {_INT_RANGE[0]} to {_INT_RANGE[-1]}"
    return None


def _port_problem(params: Mapping[str, str]) -> str | None:
    for port in params.get("port", "").split(","):
        if port and c_integer(port) is None:
            return (
                "its port is not a number; if the password holds '/' or '@', percent-encode "
                "it ('/' as %2F, '@' as %40)"
            )
        if port and c_integer(port) not in _PORT_RANGE:
            return "its port is not from 1 to 65535"
    return None


def _require_auth_problem(params: Mapping[str, str]) -> str | None:
    """A comma-separated list of methods, all negated with '!' or none, none repeated."""
    if not params.get("require_auth"):
        return None
    methods = params["require_auth"].split(",")
    negated = {method.startswith("!") for method in methods}
    names = [method.removeprefix("!") for method in methods]
    if any(name not in _AUTH_METHODS for name in names):
        return f"its require_auth is not a list of {', '.join(sorted(_AUTH_METHODS))}"
    if len(negated) > 1 or len(set(names)) < len(names):
        return "its require_auth mixes '!' and plain methods, or names one twice"
    return None


def _hostaddr_problem(params: Mapping[str, str]) -> str | None:
    for address in params.get("hostaddr", "").split(","):
        if address and not _numeric_address(address):
            return "its hostaddr is not an IP address (a name goes in host)"
    return None


def _numeric_address(text: str) -> bool:
    """libpq's own test: getaddrinfo with AI_NUMERICHOST, which never asks a resolver."""
    try:
        socket.getaddrinfo(text, None, flags=socket.AI_NUMERICHOST)
    except (OSError, UnicodeError):
        return False
    return True


_CHECKS: tuple[Callable[[Mapping[str, str]], str | None], ...] = (
    _port_problem,
    _choice_problem,
    _tls_problem,
    _integer_problem,
    _require_auth_problem,
    _hostaddr_problem,
)
