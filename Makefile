# Siaga112: the only commands a newcomer needs.
#   make run    set up everything and serve the demo on http://127.0.0.1:8112 (SQLite, no other service)
#   make test   lint, migration check and the test suite (PostgreSQL too when SIAGA_TEST_DATABASE_URL is set)

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SIAGA := $(BIN)/siaga

.PHONY: run test test-clocks lint typecheck bench demo messages clean-var setup

# The tests that count days, shifts, months and years, run again on four calendars (tests/clock.py):
# a month's first day just after midnight WIB (still the day before in UTC), a month's last day late at
# night, 31 December and 29 February.
CLOCKS := 2027-03-01T00:20:00+07:00 2027-04-30T23:10:00+07:00 2027-12-31T21:00:00+07:00 2028-02-29T12:00:00+07:00
CLOCK_TESTS := tests/core/test_clock.py tests/shifts tests/reports tests/incidents tests/calls/test_blocking.py \
	tests/core/test_auditchain.py tests/hazards/test_ingest.py tests/alerts/test_actions.py tests/webhooks \
	tests/api/test_permissions.py tests/browser/test_flows.py::test_roster_page_shows_coverage_and_supervisors_edit_it

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

test-clocks: setup
	@for clock in $(CLOCKS); do \
	  echo "=== SIAGA_TEST_CLOCK=$$clock"; \
	  SIAGA_ENV=test SIAGA_TEST_CLOCK=$$clock $(BIN)/pytest -q $(CLOCK_TESTS) $(PYTEST_ARGS) || exit 1; \
	done

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
	cd src/siaga && ../../$(SIAGA) makemessages -l en -l id --no-obsolete && ../../$(SIAGA) makemessages -l en -d djangojs --no-obsolete
	$(BIN)/python -m siaga.core.catalogues
	$(SIAGA) compile-translations

clean-var:
	rm -rf var
