#!/usr/bin/env bash
# Builds the container image from the Dockerfile with podman, without any registry, and prints
# its reference on the last line. Idempotent and cached: a rebuild with nothing changed takes
# seconds (podman's layer cache; the dependencies' layer comes before the source's).
#
#   scripts/image.sh            # build if needed; prints localhost/migration-rollback:dev
#   scripts/image.sh --check    # print the reference if the image exists, else exit 3
#
# * podman, runc, uidmap and mmdebstrap are installed with apt-get when missing (as root).
# * The base image is a local stand-in for the official `python:3.11-slim-bookworm`:
#   `localhost/python:3.11-slim-bookworm`, made once with mmdebstrap from Debian bookworm's
#   packages (python3 3.11, python3-venv with its bundled pip) and imported into podman's
#   storage; remade only when its recipe below changes. The build runs with --pull=never.
# * PGDG_REPO is empty by default here (Debian's postgresql-client only: PGDG is not
#   reachable from this machine); export PGDG_REPO=https://apt.postgresql.org/pub/repos/apt
#   (and PG_MAJORS) to build what users get.
# * pip inside the build reaches PyPI the way the host's pip does: its index, timeout and
#   trusted hosts as build arguments, its CA bundle (pip's `cert`, REQUESTS_CA_BUNDLE...) as a
#   build secret, never stored in a layer.
# * podman runs with the runc runtime and explicit ulimits (crun fails on this kernel's hybrid
#   cgroups) and the host network (no CNI plugins needed).
#
# Environment: MIGRATION_ROLLBACK_IMAGE (the tag, default localhost/migration-rollback:dev),
# BASE_IMAGE, PGDG_REPO, PG_MAJORS, DEBIAN_MIRROR.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${MIGRATION_ROLLBACK_IMAGE:-localhost/migration-rollback:dev}
BASE_IMAGE=${BASE_IMAGE:-localhost/python:3.11-slim-bookworm}
PGDG_REPO=${PGDG_REPO-}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org}
PODMAN=(podman --runtime runc)
RUN_OPTS=(--ulimit nofile=20000:20000 --ulimit nproc=32768:32768 --network host)

say() { echo "image.sh: $*" >&2; }

if [ "${1:-}" = --check ]; then
  if command -v podman >/dev/null && podman image exists "$IMAGE" 2>/dev/null; then
    echo "$IMAGE"
    exit 0
  fi
  exit 3
fi

# --- tools -------------------------------------------------------------------------------------
need_apt=()
command -v podman >/dev/null || need_apt+=(podman)
command -v runc >/dev/null || need_apt+=(runc)
command -v newuidmap >/dev/null || need_apt+=(uidmap)
command -v mmdebstrap >/dev/null || need_apt+=(mmdebstrap)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    say "please install: ${need_apt[*]} (apt-get, as root)"
    exit 1
  fi
  say "installing ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi
if ! out=$("${PODMAN[@]}" info 2>&1 >/dev/null); then
  say "podman does not work on this machine: $out"
  exit 1
fi

# --- the base image: a local stand-in for python:3.11-slim-bookworm ----------------------------
BASE_PACKAGES=python3,python3-venv,python-is-python3,ca-certificates,netbase,tzdata
BASE_SOURCES=(
  "deb $DEBIAN_MIRROR/debian bookworm main"
  "deb $DEBIAN_MIRROR/debian bookworm-updates main"
  "deb $DEBIAN_MIRROR/debian-security bookworm-security main"
)
# What the official slim image trims (docs, man pages, translations), as dpkg excludes.
BASE_DPKG=(
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright'
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*'
  --dpkgopt='path-exclude=/usr/share/locale/*'
)
BASE_RECIPE=$(printf '%s\n' v1 "$BASE_PACKAGES" "${BASE_SOURCES[@]}" "${BASE_DPKG[@]}" | sha256sum | cut -c1-16)
LABEL_RECIPE=dev.migrations.rollback.base-recipe

base_recipe() {
  podman image inspect --format "{{ index .Labels \"$LABEL_RECIPE\" }}" "$BASE_IMAGE" 2>/dev/null || true
}

if [ "$BASE_IMAGE" = localhost/python:3.11-slim-bookworm ] && [ "$(base_recipe)" != "$BASE_RECIPE" ]; then
  say "making the base image $BASE_IMAGE with mmdebstrap (Debian bookworm; once, a few minutes)"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  started=$SECONDS
  # merged-usr hook: /usr merged as in Debian's images, without the usrmerge package (and perl).
  mmdebstrap --quiet --variant=minbase --mode=root --format=tar \
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --include="$BASE_PACKAGES" --aptopt='APT::Install-Recommends "false"' "${BASE_DPKG[@]}" \
    bookworm "$work/rootfs.tar" "${BASE_SOURCES[@]}" >"$work/mmdebstrap.log" 2>&1 \
    || { cat "$work/mmdebstrap.log" >&2; exit 1; }
  podman import --quiet \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["python3"]' \
    --change "LABEL $LABEL_RECIPE=$BASE_RECIPE" \
    --change 'LABEL org.opencontainers.image.description="Local stand-in for python:3.11-slim-bookworm (Debian bookworm packages, made by scripts/image.sh with mmdebstrap)"' \
    "$work/rootfs.tar" "$BASE_IMAGE" >/dev/null
  rm -rf "$work"
  trap - EXIT
  say "base image made in $((SECONDS - started)) s"
fi

# --- how the host's pip reaches PyPI ----------------------------------------------------------
build_args=(--build-arg "BASE_IMAGE=$BASE_IMAGE" --build-arg "PGDG_REPO=$PGDG_REPO")
[ -n "${PG_MAJORS:-}" ] && build_args+=(--build-arg "PG_MAJORS=$PG_MAJORS")
pip_config() {  # pip's effective setting (environment, then config files), or nothing
  local key=$1 env=$2
  if [ -n "${!env:-}" ]; then
    echo "${!env}"
  elif command -v python3 >/dev/null && python3 -m pip --version >/dev/null 2>&1; then
    python3 -m pip config list 2>/dev/null | sed -n "s/^[^.]*\.$key='\(.*\)'\$/\1/p" | tail -n1
  fi
}
for pair in index-url:PIP_INDEX_URL extra-index-url:PIP_EXTRA_INDEX_URL \
  trusted-host:PIP_TRUSTED_HOST default-timeout:PIP_DEFAULT_TIMEOUT; do
  value=$(pip_config "${pair%%:*}" "${pair##*:}")
  [ -n "$value" ] && build_args+=(--build-arg "${pair##*:}=$value")
done
for var in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY; do
  [ -n "${!var:-}" ] && build_args+=(--build-arg "$var=${!var}")
done
cert=$(pip_config cert PIP_CERT)
cert=${cert:-${REQUESTS_CA_BUNDLE:-${SSL_CERT_FILE:-}}}
if [ -n "$cert" ] && [ -f "$cert" ]; then
  build_args+=(--secret "id=pip_cert,src=$cert" --build-arg PIP_CERT=/run/secrets/pip_cert)
fi

# --- the build -----------------------------------------------------------------------------------
started=$SECONDS
say "building $IMAGE from the Dockerfile (base $BASE_IMAGE, PGDG_REPO=${PGDG_REPO:-none})"
"${PODMAN[@]}" build --pull=never --layers "${RUN_OPTS[@]}" "${build_args[@]}" \
  --tag "$IMAGE" --file Dockerfile . >&2
size=$(podman image inspect --format '{{.Size}}' "$IMAGE")
say "built in $((SECONDS - started)) s; size $((size / 1000000)) MB"
echo "$IMAGE"
