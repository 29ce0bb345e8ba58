# Siaga112: the only commands a newcomer needs.
#   make run    set up everything and serve the demo on http://127.0.0.1:8112 (SQLite, no other service)
#   make test   lint, migration check and the test suite (PostgreSQL too when SIAGA_TEST_DATABASE_URL is set)

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SIAGA := $(BIN)/siaga

.PHONY: run test test-database test-clocks lint typecheck bench bench-smoke demo messages clean-var setup lock

# The tests that count days, shifts, months and years (marked `calendar`, see tests/conftest.py) run again on
# four calendars (tests/clock.py): a month's first day just after midnight WIB (still the day before in UTC),
# a month's last day late at night, 31 December and 29 February.
CLOCKS := 2027-03-01T00:20:00+07:00 2027-04-30T23:10:00+07:00 2027-12-31T21:00:00+07:00 2028-02-29T12:00:00+07:00
# The suite runs on every core (pytest-xdist); a module's tests stay together in one process (their servers
# are started once per module). XDIST= runs it in one process.
XDIST ?= -n auto --dist loadscope

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	$(PYTHON) -m venv $(VENV)

# What is installed is the lock, exactly (versions and hashes; requirements.lock is what deploy/install.sh
# installs, requirements-dev.lock adds the test tools); `make lock` refreshes both from pyproject.toml.
$(STAMP): pyproject.toml requirements-dev.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

UV_COMPILE = $(BIN)/uv pip compile pyproject.toml --quiet --generate-hashes --universal --python-version 3.11 \
	--custom-compile-command "make lock"

lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet uv
	$(UV_COMPILE) $(LOCK_ARGS) -o requirements.lock
	$(UV_COMPILE) $(LOCK_ARGS) --extra dev -o requirements-dev.lock

setup: $(STAMP)
	$(SIAGA) compile-translations

run: setup
	$(SIAGA) migrate --noinput
	$(SIAGA) load-reference
	$(SIAGA) load-demo
	$(SIAGA) serve --demo

test: lint
	SIAGA_ENV=test $(BIN)/pytest $(XDIST) $(PYTEST_ARGS)

# The PostgreSQL pass of CI: only the tests that touch a database (the others ran in `make test` already).
test-database: setup
	SIAGA_ENV=test $(BIN)/pytest $(XDIST) -m database $(PYTEST_ARGS)

# Two calendars at a time, each in one process with a test database of its own (var/clocks/<n>/); each
# pass's output is printed when it ends.
test-clocks: setup
	@rm -rf var/clocks && mkdir -p var/clocks
	@n=0; for clock in $(CLOCKS); do n=$$((n + 1)); echo "$$n $$clock"; done | xargs -P 2 -L 1 sh -c '\
	  mkdir -p var/clocks/$$0; \
	  SIAGA_ENV=test SIAGA_VAR_DIR=var/clocks/$$0 SIAGA_TEST_CLOCK=$$1 $(BIN)/pytest -q -m calendar $(PYTEST_ARGS) \
	    > var/clocks/$$0.log 2>&1; status=$$?; \
	  { echo "=== SIAGA_TEST_CLOCK=$$1 (exit $$status)"; cat var/clocks/$$0.log; } | flock var/clocks -c cat; \
	  exit $$status'

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	SIAGA_ENV=test $(SIAGA) makemigrations --check --dry-run

# Every benchmark in full (tens of minutes; docs/benchmarks.md has the results and how they were taken).
bench: setup
	$(BIN)/python bench/run.py

# Every benchmark for a few seconds: each still runs and prints its figures (CI runs this).
bench-smoke: setup
	$(BIN)/python bench/run.py --smoke

messages: setup
	cd src/siaga && ../../$(SIAGA) makemessages -l en -l id --no-obsolete && ../../$(SIAGA) makemessages -l en -d djangojs --no-obsolete
	$(BIN)/python -m siaga.core.catalogues
	$(SIAGA) compile-translations

clean-var:
	rm -rf var
