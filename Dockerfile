# syntax=docker/dockerfile:1
# One image, one entry point: `migration-rollback operator` (the Deployment) and
# `migration-rollback execute ...` (the rollback Job). PostgreSQL clients for every supported
# server major are installed so pg_dump always matches the server (the runner picks
# /usr/lib/postgresql/<major>/bin).

ARG PYTHON_VERSION=3.11

FROM python:${PYTHON_VERSION}-slim-bookworm AS build
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY pyproject.toml README.md ./
COPY operator ./operator
RUN pip install --no-cache-dir --upgrade pip \
 && pip install --no-cache-dir .

FROM python:${PYTHON_VERSION}-slim-bookworm
ARG PG_MAJORS="14 15 16 17"
# The PGDG repository carries pg_dump for every supported major; Debian's own only one.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl gnupg \
 && install -d /usr/share/postgresql-common/pgdg \
 && curl -fsSL -o /usr/share/postgresql-common/pgdg/apt.postgresql.org.asc \
      https://www.postgresql.org/media/keys/ACCC4CF8.asc \
 && echo "deb [signed-by=/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc] https://apt.postgresql.org/pub/repos/apt bookworm-pgdg main" \
      > /etc/apt/sources.list.d/pgdg.list \
 && apt-get update \
 && for v in ${PG_MAJORS}; do pkgs="$pkgs postgresql-client-$v"; done \
 && apt-get install -y --no-install-recommends $pkgs \
 && apt-get purge -y curl gnupg && apt-get autoremove -y \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
RUN groupadd --system --gid 10001 app && useradd --system --uid 10001 --gid app --home /tmp app
USER 10001:10001
WORKDIR /tmp
ENTRYPOINT ["migration-rollback"]
CMD ["operator"]
