# The two set-up commands of the README: `make run` and `make test`.
# Each creates .venv with the Python given by PYTHON (3.11 or newer) on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
ADDRESS ?= 127.0.0.1:8000

.PHONY: run test bench assets lint format messages clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "KAM needs Python 3.11 or newer: run make with PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@ $(VENV)/.installed-run

# Serves the way KAM is deployed (kam serve: granian, WhiteNoise, a task worker; see
# docs/deploy.md), in demo mode (KAM_DEBUG=1: demo logins, unhashed static names).
run: $(VENV)/.installed-run
	$(BIN)/python -m kam.assets
	$(BIN)/kam migrate --noinput
	KAM_DEBUG=1 $(BIN)/kam demo --if-empty
	$(BIN)/kam refresh
	@echo
	@echo "KAM is serving on http://$(ADDRESS)/  (Ctrl-C stops it)"
	@echo
	KAM_DEBUG=1 $(BIN)/kam serve $(ADDRESS)

# Runs every test with branch coverage; kam.method must stay at 95% or more.
# For PostgreSQL as well: DATABASE_URL=postgres://USER:PASS@127.0.0.1:5432/kam make test
test: $(VENV)/.installed-dev
	$(BIN)/python -m kam.assets
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m coverage erase
	$(BIN)/python -m coverage run -m pytest $(PYTEST_ARGS)
	@echo "Branch coverage of kam.method:"
	$(BIN)/python -m coverage report --include='src/kam/method/*' --fail-under=95
	@$(BIN)/python -m coverage report --format=total | sed 's/^/Branch coverage of all of kam: /;s/$$/%/'

# Every benchmark in one table with its target and PASS/FAIL (docs/performance.md).
# PRESET=medium (50,000 deals) by default; PRESET=large (200,000) is the figure of record.
# The data set is generated on first use and cached in bench/.cache (git-ignored).
PRESET ?= medium
bench: $(VENV)/.installed-dev
	$(BIN)/python -m kam.assets
	$(BIN)/python bench/run.py --preset $(PRESET)

# Front-end libraries (htmx, ECharts) from the npm registry, as pinned in assets.lock.json:
# each tarball's sha512 is checked before anything is extracted; no Node.js needed.
assets: $(VENV)/.installed-run
	$(BIN)/python -m kam.assets

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Refreshes the zh_Hans catalogue from the code and compiles it (needs GNU gettext);
# the compiled .mo is committed so that `make run` needs no system package.
messages: $(VENV)/.installed-dev
	cd src/kam && KAM_DATA_DIR=$(CURDIR)/data ../../$(BIN)/kam makemessages -l zh_Hans --no-obsolete --no-location
	cd src/kam && KAM_DATA_DIR=$(CURDIR)/data ../../$(BIN)/kam compilemessages

clean:
	rm -rf $(VENV) .coverage .pytest_cache .ruff_cache .hypothesis src/kam/web/static/vendor
