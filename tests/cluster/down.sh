#!/usr/bin/env bash
# Stops the control plane up.sh started.   tests/cluster/down.sh [STATE_DIR]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
state=${1:-${TMPDIR:-/tmp}/migration-rollback-cluster}
python=${PYTHON:-$root/.venv/bin/python}
[ -x "$python" ] || python=python3
cd "$root"
exec "$python" -m tests.cluster down --state-dir "$state"
