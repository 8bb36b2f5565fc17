"""The environment variables that carry the tool's connection strings, named once.

The CLI reads them (and scrubs their passwords from its errors), the operator sets the first
in every rollback Job, and help texts and generated plans name them: a second spelling would
let one side read a variable the other never sets.
"""

from __future__ import annotations

DATABASE_URL_ENV = "MIGRATION_ROLLBACK_DATABASE_URL"
SHADOW_URL_ENV = "MIGRATION_ROLLBACK_SHADOW_URL"
URL_ENVS = (DATABASE_URL_ENV, SHADOW_URL_ENV)
