"""Which errors of a turn a retry will not fix, and what they say.

An action or an observation that raises is retried by kopf (every 60 s) and the resource stays
in its phase: right for an API server that is restarting, a conflict, or a watch race (a
LookupError or AttributeError on an object read while it changed). Wrong for a request the
API server refuses for what it says (422, or 400 whose Status says Invalid or a webhook's
denial) or a value the code cannot use (a ValueError, a TypeError, an overflow): those fail
the same way on every retry. `refusal` names them; lifecycle.errorbudget says, by phase,
whether the rollback ends on one now or tries again a bounded number of times.
"""

from __future__ import annotations

import json
from typing import Any

from kubernetes.client.exceptions import ApiException

# 422 is always a refusal of what a request says; 400 only with one of these Status reasons
# (a bare 400 may be a request cut short, which a retry sends whole).
INVALID_REASONS = frozenset({"Invalid", "FieldValueInvalid"})
WEBHOOK_DENIAL = "denied the request"
# Values the code cannot use (a spec past a limit the CRD did not enforce; a bug). Not
# LookupError/AttributeError: those are how a read racing a watch update shows.
PERMANENT_TYPES = (ValueError, TypeError, ArithmeticError)
MESSAGE_LIMIT = 600


def refusal(exc: Exception) -> str | None:
    """What an error no retry fixes says, or None for one a retry may get past."""
    if isinstance(exc, ApiException):
        return _api_refusal(exc)
    if isinstance(exc, PERMANENT_TYPES):
        return f"the operator could not go on: {type(exc).__name__}: {exc}"[:MESSAGE_LIMIT]
    return None


def _api_refusal(exc: ApiException) -> str | None:
    body = _body(exc)
    said = str(body.get("message") or exc.reason or "")
    if exc.status != 422 and not (exc.status == 400 and _invalid(body, said)):
        return None
    return f"the API server refused a request ({exc.status}): {said}"[:MESSAGE_LIMIT]


def _invalid(body: dict[str, Any], said: str) -> bool:
    """A 400 for what the request says: its Status reason or a cause says Invalid, or an
    admission webhook denied it."""
    details = body.get("details")
    causes = details.get("causes") if isinstance(details, dict) else None
    listed = causes if isinstance(causes, list) else []
    reasons = {body.get("reason")} | {c.get("reason") for c in listed if isinstance(c, dict)}
    return bool(reasons & INVALID_REASONS) or WEBHOOK_DENIAL in said


def _body(exc: ApiException) -> dict[str, Any]:
    try:
        body = json.loads(exc.body or "{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
