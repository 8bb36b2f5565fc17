"""The limits of a MigrationRollback's spec, in one place: the CRD's maximums and patterns say
the same (tests/unit/lifecycle/test_spec_limits.py compares them), the operator checks a spec
against them before it touches anything (lifecycle.spec_check), and the runner's CLI refuses
what is past them. A value the API server accepts is then one the operator and its Job accept:
none is found only after approval, or after the COMMIT.
"""

from __future__ import annotations

# lock_timeout and statement_timeout: PostgreSQL reads them as int milliseconds; past a day a
# rollback is not waiting for a lock or a statement, it is stuck (runner.options.MAX_TIMEOUT).
MAX_TIMEOUT_MS = 24 * 3600 * 1000
MAX_TIMEOUT_TEXT = "24h"
# backup.maxAge (`--max-age`): a dump older than a year is no backup for a rollback.
MAX_AGE_MS = 366 * 24 * 3600 * 1000
MAX_AGE_TEXT = "8784h"
# A duration's text: a positive count and a unit. Short, so CEL's cost stays small and no
# count overflows int64 milliseconds (15 digits of hours are 5.4e21 ms: refused by length).
DURATION_MAX_LENGTH = 12
# job.timeoutSeconds, each Job's activeDeadlineSeconds: a backup of a large database and a
# rollback under a statement timeout of up to a day fit in two.
JOB_TIMEOUT_SECONDS_MAX = 2 * 24 * 3600
# The health checks run with maintenance mode on: their limits bound how long that lasts.
HEALTH_PERIOD_SECONDS_MAX = 300
HEALTH_TIMEOUT_SECONDS_MAX = 60
HEALTH_THRESHOLD_MAX = 100
# Pods may take their terminationGracePeriodSeconds to go (a worker draining for an hour or
# more); longer waits are the user's to choose, with the app down meanwhile.
SCALE_DOWN_TIMEOUT_SECONDS_MAX = 6 * 3600
# Kubernetes' own rules for the names the operator writes into objects it creates or patches.
DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
DNS_SUBDOMAIN_MAX_LENGTH = 253
CONFIG_MAP_KEY = r"^[-._a-zA-Z0-9]+$"
CONFIG_MAP_KEY_MAX_LENGTH = 253
