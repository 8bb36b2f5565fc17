#!/usr/bin/env bash
# Starts a detached local control plane (see README.md) and prints its kubeconfig path.
#   tests/cluster/up.sh [STATE_DIR] [--kwok-nodes N] [--kwok-pod-parallelism N] [--limits production|upstream] [--no-executor] [--crd-dir DIR]...
# STATE_DIR defaults to ${TMPDIR:-/tmp}/migration-rollback-cluster. Stop it with down.sh.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
state=${TMPDIR:-/tmp}/migration-rollback-cluster
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
  state=$1
  shift
fi
python=${PYTHON:-$root/.venv/bin/python}
[ -x "$python" ] || python=python3
cd "$root"
exec "$python" -m tests.cluster up --state-dir "$state" "$@"
