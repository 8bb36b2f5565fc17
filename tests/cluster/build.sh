#!/usr/bin/env bash
# Builds the local Kubernetes control plane used by the e2e tests, once, and caches it.
#
# One multi-call Go binary (tests/cluster/kube) holds the real kube-apiserver,
# kube-controller-manager and kube-scheduler (k8s.io/kubernetes/cmd/...), etcd
# (go.etcd.io/etcd/server/v3) and the kwok node simulator (sigs.k8s.io/kwok). It is built
# from the Go module proxy, with no Docker, into
#   ${MIGRATION_ROLLBACK_CACHE_DIR:-~/.cache/migration-rollback}/kube-<versions>-<hash>/bin/
# where <hash> covers go.mod, go.sum, main.go, the Go version and the link flags, so any
# change there builds anew and an unchanged tree is reused at once.
#
# Usage:
#   tests/cluster/build.sh           build if needed; print the bin directory on stdout
#   tests/cluster/build.sh --check   print the bin directory if built, else exit 3 (no build)
#   tests/cluster/build.sh --info    print the cached build's build-info.json (exit 3 if none)
#
# Environment: GO (the go command), MIGRATION_ROLLBACK_CACHE_DIR (cache root),
# KUBE_BUILD_NICE (nice level of the build, default 10).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$here/kube
mode=build
case "${1:-}" in
  "") ;;
  --check) mode=check ;;
  --info) mode=info ;;
  -h | --help)
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
    exit 0
    ;;
  *)
    echo "build.sh: unknown argument: $1 (try --help)" >&2
    exit 2
    ;;
esac

go=${GO:-$(command -v go || true)}
[ -n "$go" ] || go=/usr/local/go/bin/go
if [ ! -x "$go" ]; then
  echo "build.sh: error: the Go toolchain was not found (looked for \$GO, go on PATH," \
    "/usr/local/go/bin/go); it needs go >= 1.26" >&2
  exit 1
fi

modver() { awk -v m="$1" '$1 == m { print $2; exit }' "$src/go.mod"; }
kube_version=$(modver k8s.io/kubernetes)
kwok_version=$(modver sigs.k8s.io/kwok)
etcd_version=$(modver go.etcd.io/etcd/server/v3)
go_version=$(GOTOOLCHAIN=local "$go" env GOVERSION)
ldflags="-s -w"
ldflags+=" -X k8s.io/component-base/version.gitVersion=$kube_version"
ldflags+=" -X k8s.io/component-base/version.gitMajor=$(echo "${kube_version#v}" | cut -d. -f1)"
ldflags+=" -X k8s.io/component-base/version.gitMinor=$(echo "${kube_version#v}" | cut -d. -f2)"
ldflags+=" -X k8s.io/component-base/version.gitTreeState=clean"

key=$(cat "$src/go.mod" "$src/go.sum" "$src/main.go" <(echo "$go_version $ldflags") |
  sha256sum | cut -c1-12)
cache_root=${MIGRATION_ROLLBACK_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/migration-rollback}
dir=$cache_root/kube-$kube_version-kwok-$kwok_version-etcd-$etcd_version-$key
bin=$dir/bin

built() { [ -x "$bin/kube-local" ] && [ -f "$dir/build-info.json" ]; }

if built; then
  if [ "$mode" = info ]; then cat "$dir/build-info.json"; else echo "$bin"; fi
  exit 0
fi
if [ "$mode" != build ]; then
  echo "build.sh: error: the local control plane ($kube_version) is not built yet;" \
    "run tests/cluster/build.sh (a cold build takes several minutes)" >&2
  exit 3
fi

mkdir -p "$cache_root"
exec 9>"$cache_root/.build.lock"
if ! flock -n 9; then
  echo "build.sh: another build is running; waiting for it" >&2
  flock 9
fi
if built; then # built by the other run meanwhile
  echo "$bin"
  exit 0
fi

# Whether Go's build cache held compiled packages before this build (if not, it is cold).
gocache=$(GOTOOLCHAIN=local "$go" env GOCACHE)
if compgen -G "$gocache/[0-9a-f][0-9a-f]" >/dev/null; then go_build_cache=warm; else go_build_cache=empty; fi

tmp=$(mktemp -d "$cache_root/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
mkdir -p "$tmp/bin"
echo "build.sh: building kube-apiserver, kube-controller-manager, kube-scheduler" \
  "$kube_version, kwok $kwok_version and etcd $etcd_version with $go_version" \
  "(a cold build takes minutes; log: $tmp/build.log)" >&2
start=$(date +%s.%N)
set +e
(
  cd "$src"
  export GOTOOLCHAIN=local GOFLAGS="${GOFLAGS:-} -trimpath -buildvcs=false"
  nice -n "${KUBE_BUILD_NICE:-10}" "$go" build -ldflags "$ldflags" -o "$tmp/bin/kube-local" .
) >"$tmp/build.log" 2>&1
rc=$?
set -e
end=$(date +%s.%N)
seconds=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
if [ $rc -ne 0 ]; then
  cat "$tmp/build.log" >&2
  echo "build.sh: error: go build failed (exit $rc) after ${seconds}s; output above" >&2
  exit 1
fi
for c in apiserver controller-manager scheduler kwok etcd; do
  ln -s kube-local "$tmp/bin/kube-$c"
done
cat >"$tmp/build-info.json" <<EOF
{
  "kubernetes": "$kube_version",
  "kwok": "$kwok_version",
  "etcd": "$etcd_version",
  "go": "$go_version",
  "key": "$key",
  "build_seconds": $seconds,
  "go_build_cache": "$go_build_cache",
  "built_at": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "nproc": $(nproc),
  "binary_bytes": $(stat -c %s "$tmp/bin/kube-local")
}
EOF
rm -rf "$dir"
mv "$tmp" "$dir"
trap - EXIT
echo "build.sh: built in ${seconds}s: $bin" >&2
echo "$bin"
