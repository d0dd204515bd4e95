# Two commands do everything on a fresh machine:
#   make run    install into .venv and serve the API with gunicorn on http://127.0.0.1:8000
#   make test   install, set up test services (PostgreSQL 15, Chromium) and run every test
# `make bench` also installs the benchmark-only packages (.[bench]) and runs bench/run_all.py.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
BENCH_STAMP := $(VENV)/.bench-stamp
BENCH_ARGS ?=

.PHONY: install run test openapi bench check lint

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Benchmark-only packages (zen-engine), on top of the install; redone when the install is.
$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[bench]'
	touch $(BENCH_STAMP)

install: $(STAMP)

run: install
	$(VENV)/bin/gunicorn -c api/gunicorn.conf.py 'api:create_app()'

test: install
	. scripts/test-services.sh && $(PY) -m pytest

check: install
	$(PY) -m rules check

lint: install
	$(VENV)/bin/ruff check .

openapi: install
	$(PY) -m api.openapi_export openapi.yaml

bench: $(BENCH_STAMP)
	$(PY) bench/run_all.py $(BENCH_ARGS)
