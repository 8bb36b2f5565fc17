#!/usr/bin/env bash
# Prints the control plane's figures: cold build time, warm start-to-ready, memory.
#   tests/cluster/figures.sh [--runs N] [--settle SECONDS]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
python=${PYTHON:-$root/.venv/bin/python}
[ -x "$python" ] || python=python3
cd "$root"
exec "$python" -m tests.cluster.figures "$@"
