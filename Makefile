# fieldgate: make serve | test | lint | bench | clean
# Needs only python3 and make: the virtualenv is created on first use and reinstalled
# whenever pyproject.toml changes (tracked by a stamp file inside .venv).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-from-pyproject
BENCH_STAMP := $(VENV)/.installed-bench-extra
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help venv serve test lint bench console clean

help:
	@echo "make serve   migrate, seed the demo data and serve on FIELDGATE_HOST:FIELDGATE_PORT"
	@echo "make test    run the test suite (PYTEST_ARGS=... passes options to pytest)"
	@echo "make lint    ruff check, ruff format --check, mypy"
	@echo "make bench   run the benchmarks"
	@echo "make console rebuild the console (frontend/ -> fieldgate/console/; needs Node and npm)"
	@echo "make clean   remove .venv and var/"

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# The CLI reads FIELDGATE_HOST, FIELDGATE_PORT and FIELDGATE_DATABASE_URL itself;
# only the database gets a default here. Seeding skips when the demo data exists.
serve: export FIELDGATE_DATABASE_URL ?= sqlite+aiosqlite:///var/fieldgate.db
serve: venv
	$(BIN)/fieldgate db upgrade
	$(BIN)/fieldgate db seed --demo
	$(BIN)/fieldgate serve

test: venv
	$(BIN)/pytest $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The bench extra (granian) on top of the test install; redone whenever the venv is.
$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $@

# In-process (disclosure engine alone), then over HTTP (uvicorn, autocannon, the two Yoga peers);
# both write into bench/results/latest.json. BENCH_HTTP_ARGS=... passes options (--duration).
# Last, what the per-row consent checks, the compiled path and the argument check cost
# (printed only, a few seconds each).
bench: $(BENCH_STAMP)
	mkdir -p bench/results
	$(BIN)/python -m bench --iterations 60 --json bench/results/latest.json
	$(BIN)/python -m bench.overhttp --json bench/results/latest.json $(BENCH_HTTP_ARGS)
	$(BIN)/python -m bench.consent_cost --iterations 60
	$(BIN)/python -m bench.compiled_cost --iterations 60
	$(BIN)/python -m bench.argument_cost --iterations 60

# The console's pages and bundles are committed; rebuild them after changing frontend/.
console:
	cd frontend && npm ci --no-audit --no-fund && npm run build

clean:
	rm -rf $(VENV) var
