# Siaga112: the only commands a newcomer needs.
#   make run    set up everything and serve the demo on http://127.0.0.1:8112 (SQLite, no other service)
#   make test   lint, migration check and the test suite (PostgreSQL too when SIAGA_TEST_DATABASE_URL is set)

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SIAGA := $(BIN)/siaga

.PHONY: run test lint typecheck bench demo messages clean-var setup

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)
	$(SIAGA) compile-translations

run: setup
	$(SIAGA) migrate --noinput
	$(SIAGA) load-reference
	$(SIAGA) load-demo
	$(SIAGA) serve --demo

test: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	SIAGA_ENV=test $(SIAGA) makemigrations --check --dry-run
	SIAGA_ENV=test $(BIN)/pytest $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

bench: setup
	$(BIN)/python bench/cti_ingest.py
	$(BIN)/python bench/live_fanout.py
	$(BIN)/python bench/cap_throughput.py
	$(BIN)/python bench/alert_latency.py
	$(BIN)/python bench/warning_latency.py

messages: setup
	cd src/siaga && ../../$(SIAGA) makemessages -l en --no-obsolete && ../../$(SIAGA) makemessages -l en -d djangojs --no-obsolete
	$(SIAGA) compile-translations

clean-var:
	rm -rf var
