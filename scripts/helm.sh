#!/usr/bin/env bash
# Builds Helm from its Go module (no binary download: only the Go module proxy is reachable
# here), once, into ${MIGRATION_ROLLBACK_CACHE_DIR:-~/.cache/migration-rollback}/helm-<v>/,
# and prints the path of the helm binary. The chart tests and the demo use it.
#
#   scripts/helm.sh           build if needed; print the binary's path
#   scripts/helm.sh --check   print the path if built, else exit 3
set -euo pipefail

version=v3.22.0
cache_root=${MIGRATION_ROLLBACK_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/migration-rollback}
dir=$cache_root/helm-$version
bin=$dir/bin/helm

if [ -x "$bin" ]; then
  echo "$bin"
  exit 0
fi
[ "${1:-}" = "--check" ] && exit 3

go=${GO:-$(command -v go || true)}
[ -n "$go" ] || go=/usr/local/go/bin/go
if [ ! -x "$go" ]; then
  echo "helm.sh: error: the Go toolchain was not found; it is needed to build helm" >&2
  exit 1
fi
mkdir -p "$dir"
tmp=$(mktemp -d "$dir/build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "helm.sh: building helm $version from the Go module proxy (about a minute, once)" >&2
GOBIN=$tmp GOFLAGS=-mod=mod nice -n "${KUBE_BUILD_NICE:-10}" "$go" install \
  -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$version" \
  "helm.sh/helm/v3/cmd/helm@$version" >&2
mkdir -p "$dir/bin"
mv "$tmp/helm" "$bin"   # the rename is atomic: a half-built binary is never in place
echo "$bin"
