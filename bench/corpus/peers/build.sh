#!/usr/bin/env bash
# Build the peers once and print where they are: a binary per source version, cached under
# ~/.cache/migration-rollback/peers/ (MIGRATION_ROLLBACK_PEERS_CACHE for another place), so
# that a source change rebuilds and an unchanged one does not.
#
#   build.sh [PEER]...   PEER: atlas, pgschemadiff (default: both); one path per line, in order
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${MIGRATION_ROLLBACK_PEERS_CACHE:-$HOME/.cache/migration-rollback/peers}"
go=${GO:-$(command -v go || true)}
[[ -n "$go" ]] || go=/usr/local/go/bin/go
if [[ ! -x "$go" ]]; then
    echo "build.sh: error: the Go toolchain was not found (looked for \$GO, go on PATH," \
        "/usr/local/go/bin/go)" >&2
    exit 1
fi
# peer source folder -> the binary's name
declare -A binary=([atlas]=atlas-rollback [pgschemadiff]=psd-rollback)

build() {
    local src="$here/$1" name="${binary[$1]:-}"
    if [[ -z "$name" ]]; then
        echo "build.sh: unknown peer: $1 (known: ${!binary[*]})" >&2
        exit 2
    fi
    local key out
    key="$(cat "$src/go.mod" "$src/go.sum" "$src/main.go" | sha256sum | cut -c1-12)"
    out="$cache/$name-$key"
    if [[ ! -x "$out" ]]; then
        mkdir -p "$cache"
        # go build writes next to the target then renames: no half-built binary is ever cached
        (cd "$src" && "$go" build -trimpath -o "$out.tmp.$$" .) >&2
        mv "$out.tmp.$$" "$out"
    fi
    echo "$out"
}

if [[ $# -eq 0 ]]; then set -- atlas pgschemadiff; fi
for peer in "$@"; do build "$peer"; done
