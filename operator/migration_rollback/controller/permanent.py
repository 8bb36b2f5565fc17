"""Which errors of a turn no retry fixes, turned into a `Failure` the failure policy ends.

An action or an observation that raises is retried by kopf (every 60 s) and the resource stays
in its phase: right for an API server that is restarting or a conflict, wrong for a request
the API server refuses as invalid (400, 422) or a value the code cannot use (a ValueError, an
overflow): those fail the same way on every retry, with the app down and maintenance on. They
end the rollback instead, through the failure policy (the app restored, or held when the
database may have changed), with a message that says what was refused and where.
"""

from __future__ import annotations

import json

from kubernetes.client.exceptions import ApiException

from migration_rollback.lifecycle.phases import Reason
from migration_rollback.lifecycle.record import Failure

# Requests the API server refuses for what they say, not for its state: sent again, the same.
PERMANENT_STATUSES = frozenset({400, 422})
# Values the code cannot use (a spec past a limit the CRD did not enforce; a bug).
PERMANENT_TYPES = (ValueError, TypeError, ArithmeticError, LookupError, AttributeError)
MESSAGE_LIMIT = 600


def as_failure(exc: Exception) -> Failure | None:
    """The Failure an error means, or None for one a retry may get past (kopf retries)."""
    if isinstance(exc, ApiException):
        if exc.status not in PERMANENT_STATUSES:
            return None
        return Failure(Reason.UNEXPECTED_ERROR, _refusal(exc)[:MESSAGE_LIMIT])
    if isinstance(exc, PERMANENT_TYPES):
        text = f"{type(exc).__name__}: {exc}"
        return Failure(
            Reason.UNEXPECTED_ERROR, f"the operator could not go on: {text}"[:MESSAGE_LIMIT]
        )
    return None


def _refusal(exc: ApiException) -> str:
    """What the API server refused and why: its message names the object and each field."""
    try:
        body = json.loads(exc.body or "{}")
    except ValueError:
        body = {}
    said = str(body.get("message") or exc.reason or "")
    return f"the API server refused a request ({exc.status}): {said}"
