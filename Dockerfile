# syntax=docker/dockerfile:1
# One image, one entry point: `migration-rollback operator` (the Deployment) and
# `migration-rollback execute ...` (the rollback Job). PostgreSQL clients for every supported
# server major are installed so pg_dump always matches the server (the runner picks
# /usr/lib/postgresql/<major>/bin).
# No Docker engine builds this in CI: tests/e2e/test_image.py replays the build stage's
# install in a clean virtualenv, runs both entry points, checks this file and runs hadolint.

ARG PYTHON_VERSION=3.11

FROM python:${PYTHON_VERSION}-slim-bookworm AS build
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY pyproject.toml README.md ./
COPY operator ./operator
# The venv's own pip builds the wheel (setuptools comes from pyproject's build requirements);
# an unpinned `pip install --upgrade pip` would make the build depend on the day (DL3013).
RUN pip install --no-cache-dir .

FROM python:${PYTHON_VERSION}-slim-bookworm
# 14 up to the newest grammar the SQL parser (pglast) knows; the test checks the range.
ARG PG_MAJORS="14 15 16 17 18"
# The PGDG repository carries pg_dump for every supported major; Debian's own only one.
# Versions are not pinned (DL3008): PGDG and Debian security keep only the newest build of
# each package, so a pinned version stops resolving at the next minor release, and pg_dump's
# fixes are wanted. The base image and the PG majors are what is pinned.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && install -d /usr/share/postgresql-common/pgdg \
 && curl -fsSL -o /usr/share/postgresql-common/pgdg/apt.postgresql.org.asc \
      https://www.postgresql.org/media/keys/ACCC4CF8.asc \
 && echo "deb [signed-by=/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc] https://apt.postgresql.org/pub/repos/apt bookworm-pgdg main" \
      > /etc/apt/sources.list.d/pgdg.list \
 && apt-get update \
 && set -- \
 && for v in ${PG_MAJORS}; do set -- "$@" "postgresql-client-$v"; done \
 && apt-get install -y --no-install-recommends "$@" \
 && apt-get purge -y curl && apt-get autoremove -y \
 && rm -rf /var/lib/apt/lists/*
# The venv's scripts have absolute shebangs: it must stay at the same path as in the build.
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
RUN groupadd --system --gid 10001 app && useradd --system --uid 10001 --gid app --home /tmp app
# Numeric, so that runAsNonRoot can verify it (the Job's pod runs as 10001:10001 too).
USER 10001:10001
WORKDIR /tmp
ENTRYPOINT ["migration-rollback"]
CMD ["operator"]
