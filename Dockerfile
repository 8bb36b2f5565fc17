# syntax=docker/dockerfile:1
# One image, one entry point: `migration-rollback operator` (the Deployment) and
# `migration-rollback execute ...` (the rollback Job). PostgreSQL clients for every supported
# server major are installed so pg_dump always matches the server (the runner picks
# /usr/lib/postgresql/<major>/bin).
#
#   docker build -t migration-rollback .          # users: the official python image, PGDG
#   make image                                    # here: scripts/image.sh (podman, no registry)
#
# `make image` builds this very file with a local stand-in for the base image: no registry is
# reachable there, so scripts/image.sh makes `localhost/python:3.11-slim-bookworm` with
# mmdebstrap from Debian bookworm's packages (python3 3.11, python3-venv and its pip), passes
# it as BASE_IMAGE with --pull=never, and PGDG_REPO= (Debian's own postgresql-client only).
# tests/e2e/test_image.py builds it that way and runs it; hadolint checks this file.

ARG PYTHON_VERSION=3.11
# The official python image by default. Anything else must be a Debian bookworm with `python`
# (the same minor version in both stages: the venv is built in one and run in the other).
ARG BASE_IMAGE=python:${PYTHON_VERSION}-slim-bookworm

# --- deps: the virtualenv with the dependencies, from pyproject.toml alone --------------------
# Three build stages so that a change to the source rebuilds seconds' worth: `deps` (slow,
# cached until pyproject.toml changes), `build` (the package alone, staged under /stage) and
# `venv` (deps without pip and setuptools: nothing is installed at run time). The final stage
# copies `venv`, then the package's few files on top.
FROM ${BASE_IMAGE} AS deps
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
# How pip reaches the package index when the builder needs more than the defaults (a mirror,
# a TLS-inspecting proxy's CA): unset unless given with --build-arg; proxies are Docker's
# predefined HTTP(S)_PROXY build arguments. A CA bundle is a build secret, never a layer:
#   --secret id=pip_cert,src=/etc/ssl/certs/ca-certificates.crt --build-arg PIP_CERT=/run/secrets/pip_cert
ARG PIP_INDEX_URL
ARG PIP_EXTRA_INDEX_URL
ARG PIP_TRUSTED_HOST
ARG PIP_DEFAULT_TIMEOUT
ARG PIP_CERT
# binutils: `strip`, for the compiled extensions' debug symbols (build stages only).
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends binutils \
 && rm -rf /var/lib/apt/lists/*
# The dependencies and pyproject's build requirements (setuptools, wheel), read from
# pyproject.toml; the venv's own pip installs them (an unpinned `pip install --upgrade pip`
# would make the build depend on the day: DL3013). Then what would ship for nothing (the
# image size is checked): the kubernetes package's asyncio copy of its client (kubernetes/aio,
# 68 MB; nothing imports it) and the extension modules' debug symbols (pglast's parser alone
# carries 23 MB of them).
COPY pyproject.toml ./
RUN --mount=type=secret,id=pip_cert \
    python -c 'import tomllib; p = tomllib.load(open("pyproject.toml", "rb")); print("\n".join(p["project"]["dependencies"] + p["build-system"]["requires"]))' > requirements.txt \
 && pip install --no-cache-dir -r requirements.txt \
 && rm -rf /opt/venv/lib/python3*/site-packages/kubernetes/aio \
 && find /opt/venv -name '*.cpython-*.so' -exec strip --strip-debug {} +

# --- build: the package alone, staged as /stage/opt/venv/... ------------------------------------
FROM deps AS build
COPY README.md ./
COPY operator ./operator
RUN pip install --no-cache-dir --no-deps --no-build-isolation --no-compile --root /stage . \
 && python -m compileall -q --invalidation-mode unchecked-hash -d /opt/venv /stage/opt/venv

# --- venv: the dependencies as they ship ------------------------------------------------------
FROM deps AS venv
RUN pip uninstall --yes pip setuptools wheel

FROM ${BASE_IMAGE}
# 14 up to the newest grammar the SQL parser (pglast) knows; the test checks the range.
ARG PG_MAJORS="14 15 16 17 18"
# The PGDG repository carries pg_dump for every supported major. Empty: Debian's own
# postgresql-client only (one major: 15 on bookworm), for builders that cannot reach PGDG.
ARG PGDG_REPO=https://apt.postgresql.org/pub/repos/apt
LABEL org.opencontainers.image.title="migration-rollback" \
      org.opencontainers.image.licenses="Apache-2.0" \
      dev.migrations.rollback.pgdg-repo="${PGDG_REPO}" \
      dev.migrations.rollback.pg-majors="${PG_MAJORS}"
# Versions are not pinned (DL3008): PGDG and Debian security keep only the newest build of
# each package, so a pinned version stops resolving at the next minor release, and pg_dump's
# fixes are wanted. The base image and the PG majors are what is pinned.
# hadolint ignore=DL3008
RUN set -eu \
 && apt-get update \
 && if [ -n "${PGDG_REPO}" ]; then \
      apt-get install -y --no-install-recommends ca-certificates curl \
      && install -d /usr/share/postgresql-common/pgdg \
      && curl -fsSL -o /usr/share/postgresql-common/pgdg/apt.postgresql.org.asc \
           https://www.postgresql.org/media/keys/ACCC4CF8.asc \
      && echo "deb [signed-by=/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc] ${PGDG_REPO} bookworm-pgdg main" \
           > /etc/apt/sources.list.d/pgdg.list \
      && apt-get update \
      && set -- \
      && for v in ${PG_MAJORS}; do set -- "$@" "postgresql-client-$v"; done \
      && apt-get install -y --no-install-recommends "$@" \
      && apt-get purge -y --auto-remove curl; \
    else \
      apt-get install -y --no-install-recommends postgresql-client; \
    fi \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log
RUN groupadd --system --gid 10001 app && useradd --system --uid 10001 --gid app --home /tmp app
# The venv's scripts have absolute shebangs: it must stay at the same path as in the build.
COPY --from=venv /opt/venv /opt/venv
COPY --from=build /stage/opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
# Numeric, so that runAsNonRoot can verify it (the Job's pod runs as 10001:10001 too).
USER 10001:10001
WORKDIR /tmp
ENTRYPOINT ["migration-rollback"]
CMD ["operator"]
