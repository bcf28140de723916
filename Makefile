# Two commands on a fresh machine: `make run` and `make test`. Both set up what they need.
SHELL := /bin/bash
PYTHON ?= python3
# uv from PyPI runs as a module of the Python that installed it: no PATH assumptions.
UV := $(PYTHON) -m uv

.PHONY: run test bench proto asyncapi lint fmt setup system-deps clean

# Install uv with pip when it is missing, then the locked environment.
setup:
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	@$(UV) sync --frozen --quiet

# System packages the tests and the local run need: Dovecot is the real IMAP server the
# ingest integration tests start (CI runs as root on a fresh Debian machine).
system-deps:
	@command -v dovecot >/dev/null 2>&1 || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y dovecot-imapd)

run: setup
	$(UV) run --frozen commsintel run

test: setup system-deps
	$(UV) run --frozen python scripts/generate_proto.py --check
	$(UV) run --frozen python scripts/generate_asyncapi.py --check
	$(UV) run --frozen pytest

bench: setup
	$(UV) run --frozen python -m bench

proto: setup
	$(UV) run --frozen python scripts/generate_proto.py

asyncapi: setup
	$(UV) run --frozen python scripts/generate_asyncapi.py

lint: setup
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen mypy services/*/src/commsintel/*/domain

fmt: setup
	$(UV) run --frozen ruff check --fix .
	$(UV) run --frozen ruff format .

clean:
	rm -rf .commsintel .pytest_cache .ruff_cache .mypy_cache
