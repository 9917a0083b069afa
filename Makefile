# Qualify — two commands for a newcomer: `make run` and `make test`.
# Needs only Python 3.11+. Without DATABASE_URL, both use an embedded PostgreSQL under var/pgdata
# (scripts/devdb.py); without CELERY_BROKER_URL, Celery uses kombu's filesystem transport under var/broker.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Touched after a successful install; pip runs again only when pyproject.toml is newer.
STAMP := $(VENV)/.installed
WEB_PORT ?= 8000
export WEB_PORT

# Shell prologue for targets that need the database and the broker. An empty variable counts as unset.
define DEV_ENV
set -euo pipefail; \
export PATH="$(CURDIR)/$(VENV)/bin:$$PATH"; \
if [ -z "$${DATABASE_URL:-}" ]; then \
	dbenv=$$($(PY) scripts/devdb.py start); eval "$$dbenv"; \
fi; \
if [ -z "$${CELERY_BROKER_URL:-}" ]; then \
	unset CELERY_BROKER_URL; mkdir -p var/broker/out var/broker/processed; \
fi
endef

.PHONY: help install run test test-tools bench stop screenshots

help:
	@echo "make run     install if needed, start PostgreSQL (embedded unless DATABASE_URL is set),"
	@echo "             migrate, seed demo data once, then web + Celery worker + beat (Ctrl-C stops all)"
	@echo "make test    install if needed, run the test suite (PYTEST_ARGS='-k handoff -x' passes through)"
	@echo "make bench   run the benchmarks"
	@echo "make stop    stop the embedded PostgreSQL (data stays in var/pgdata)"
	@echo "make screenshots  PNGs of the main pages into docs/screenshots/, from a running 'make run'"
	@echo "             (SCREENSHOTS_URL=http://host:port for another server)"

install: $(STAMP)

$(STAMP): pyproject.toml
	@if [ ! -x $(PY) ]; then \
		$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Qualify needs Python 3.11+; run: make PYTHON=python3.11 ...")' && \
		echo "Creating $(VENV) with $$($(PYTHON) --version)" && \
		$(PYTHON) -m venv $(VENV); \
	fi
	$(PY) -m pip install --quiet -e '.[dev,embedded]'
	@touch $@

run: install
	@$(DEV_ENV); \
	export DEBUG="$${DEBUG:-true}"; \
	$(PY) manage.py migrate --noinput; \
	$(PY) manage.py seed_demo --if-empty; \
	echo; \
	echo "  Qualify: http://127.0.0.1:$(WEB_PORT)/   (Django admin: http://127.0.0.1:$(WEB_PORT)/admin/)"; \
	echo "  Starting web, Celery worker and beat. Ctrl-C stops all three."; \
	echo; \
	exec $(PY) scripts/procs.py start -f Procfile.dev

# Test-only JavaScript (axe-core for the accessibility checks), when npm is there; `make run` needs none.
# Without it the accessibility tests skip locally and fail under CI (tests/e2e/a11y.py).
NODE_STAMP := node_modules/.installed
test-tools:
	@if ! command -v npm >/dev/null; then \
		echo "npm not found: the accessibility tests need axe-core (apt-get install npm; they fail under CI without it)"; \
	elif [ ! -f $(NODE_STAMP) ] || [ package-lock.json -nt $(NODE_STAMP) ]; then \
		npm ci --no-audit --no-fund --loglevel=error && touch $(NODE_STAMP); \
	fi

test: install test-tools
	@$(DEV_ENV); \
	exec $(PY) -m pytest $(PYTEST_ARGS)

bench: install
	@$(DEV_ENV); \
	exec $(PY) -m bench $(BENCH_ARGS)

stop:
	@$(PY) scripts/devdb.py stop

# Needs the app running (`make run` in another terminal) with the demo data; see scripts/screenshots.py.
SCREENSHOTS_URL ?= http://127.0.0.1:$(WEB_PORT)
screenshots: install
	$(PY) scripts/screenshots.py $(SCREENSHOTS_URL)
