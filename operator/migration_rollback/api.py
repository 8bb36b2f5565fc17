"""Names of the MigrationRollback API, defined once for the CRD, the operator and the CLI."""

from __future__ import annotations

GROUP = "rollback.migrations.dev"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
KIND = "MigrationRollback"
PLURAL = "migrationrollbacks"
SINGULAR = "migrationrollback"
SHORT_NAME = "mrb"
APPROVAL_ANNOTATION = f"{GROUP}/approved-sha256"
DEFAULT_HISTORY_TABLE = "supabase_migrations.schema_migrations"
