# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: install run test bench

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

# Installs everything, prepares the embedded default (SQLite under var/) and runs every
# sample pipeline on this machine.
run: install
	$(PY) manage.py migrate --verbosity 0
	@set -e; for file in designer/samples/*.yaml; do \
		echo "== $$file"; $(PY) manage.py run_pipeline "$$file"; \
	done

test: install
	$(PY) -m pytest -n 2 --dist loadfile

bench: install
	$(PY) bench/engine_bench.py
