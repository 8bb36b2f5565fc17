# The two commands the README starts with: `make demo` and `make test`.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: setup demo test lint typecheck unit integration e2e image bench clean

setup:
	bash scripts/setup

demo: setup
	bash scripts/demo

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck:
	$(BIN)/mypy

unit:
	$(BIN)/pytest -q tests/unit

integration:
	$(BIN)/pytest -q -m integration

e2e:
	$(BIN)/pytest -q -m e2e

# The container image, built with podman from the Dockerfile without a registry (cached);
# prints its reference last. The e2e suite runs the rollback Jobs in it.
image:
	bash scripts/image.sh

# Everything CI runs: lint, strict typing, the image, then every suite (unit, integration on a
# real PostgreSQL, e2e on the local control plane with the Jobs in the image), each starting
# the servers it needs. A failed image build does not stop the suites: tests/e2e/test_image.py
# fails with its error, and the e2e Jobs run as local processes (with a warning).
test: setup lint typecheck
	bash scripts/image.sh || echo "make: the image was not built (see above)" >&2
	$(BIN)/pytest -q

bench: setup
	$(BIN)/python bench/bench_engine.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
