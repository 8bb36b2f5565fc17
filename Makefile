# The two commands the README starts with: `make demo` and `make test`.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: setup demo test lint typecheck unit integration e2e bench clean

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

# Everything CI runs: lint, strict typing, then every suite (unit, integration on a real
# PostgreSQL, e2e on the local control plane), each starting the servers it needs.
test: setup lint typecheck
	$(BIN)/pytest -q

bench: setup
	$(BIN)/python bench/bench_engine.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
