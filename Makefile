# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: install run samples test test-fast bench openapi readme

install: $(VENV)/.installed static/atelier/atelier.js

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

# The canvas: npm ci installs exactly the lock file; the bundle is rebuilt when a source changes.
FRONTEND_SOURCES := $(shell find frontend/src -type f 2>/dev/null) frontend/vite.config.ts frontend/tsconfig.json \
	frontend/openapi.yaml

frontend/node_modules/.package-lock.json: frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error

static/atelier/atelier.js: frontend/node_modules/.package-lock.json $(FRONTEND_SOURCES)
	cd frontend && npm run build --silent

# The API's OpenAPI schema, which the canvas's types are generated from (tests/test_api_schema.py
# says when it is out of date).
openapi: $(VENV)/.installed
	$(PY) manage.py spectacular --validate --fail-on-warn --file frontend/openapi.yaml

readme: $(VENV)/.installed
	$(PY) manage.py module_table

HOST ?= 127.0.0.1
PORT ?= 8000

# Installs everything, prepares the embedded default (SQLite and artifacts under var/, a
# secret key kept there so that a restart signs no one out, an account for you, the sample
# pipelines as drafts) and serves Atelier on HOST:PORT.
run: install
	$(PY) manage.py create_secret_key
	$(PY) manage.py migrate --verbosity 0
	$(PY) manage.py collectstatic --no-input --verbosity 0
	$(PY) manage.py setup_local --url http://$(HOST):$(PORT)
	$(VENV)/bin/daphne -b $(HOST) -p $(PORT) designer.asgi:application

# Runs every sample pipeline from the command line.
samples: install
	$(PY) manage.py migrate --verbosity 0
	@set -e; for file in designer/samples/*.yaml; do \
		echo "== $$file"; $(PY) manage.py run_pipeline "$$file"; \
	done

test: install
	cd frontend && npm test --silent
	$(PY) -m pytest -n 2 --dist loadfile

# The fast lane, for while you work: the engine, the modules and the API, without what
# starts browsers, containers, workers or live servers, and without the tests marked slow.
FAST_TESTS := tests/engine tests/modules tests/sdk tests/pipelines tests/datasets tests/runs tests/web \
	tests/test_api_schema.py tests/test_api_fuzz.py tests/test_layers.py tests/test_readme.py tests/test_sign_in_limits.py

test-fast: $(VENV)/.installed
	$(PY) -m pytest -n 2 --dist loadfile -m "not slow" $(FAST_TESTS)

# Benchmarks print tables (never asserted): the engine against a plain script, the server
# (Celery workers, WebSockets, API under load; needs PostgreSQL and Redis), table previews,
# the canvas.
bench: install
	$(PY) bench/engine_bench.py
	$(PY) bench/server_bench.py
	$(PY) bench/preview_bench.py
	$(PY) bench/sandbox_bench.py
	$(PY) bench/frontend_bench.py
