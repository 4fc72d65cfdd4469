# Vivier — the two commands: `make demo` (the pipeline end to end) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin

# Local Airflow: everything inside the project, SQLite metadata DB, LocalExecutor, no examples.
export AIRFLOW_HOME ?= $(CURDIR)/.airflow
export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/dags
export AIRFLOW__CORE__PLUGINS_FOLDER := $(CURDIR)/plugins
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export AIRFLOW__CORE__EXECUTOR := LocalExecutor
export GX_ANALYTICS_ENABLED := false
export PYTHONPATH := $(CURDIR)/dags$(if $(PYTHONPATH),:$(PYTHONPATH))

STAMP := $(VENV)/.requirements-installed
# `airflow standalone` starts its components as `airflow ...` subprocesses: the venv must be on PATH.
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: install migrate airflow-db demo test lint airflow bench clean help

help:
	@echo "make demo     set up and run the pipeline end to end (SQLite, LocalExecutor, local SMTP sink)"
	@echo "make test     lint and run the whole test suite (SQLite and PostgreSQL)"
	@echo "make migrate  upgrade the CRM database named by the Airflow connection crm_db"
	@echo "make airflow  run Airflow standalone (UI on http://localhost:8080)"
	@echo "make bench    run the benchmarks under bench/"

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -r requirements-dev.txt
	@touch $@

# The editable install points at this checkout (re-done when the venv served another clone).
# The check runs from / so that the checkout itself (the current directory) cannot satisfy the import.
install: $(STAMP)
	@(cd / && $(abspath $(PY)) -c "import vivier, pathlib, sys; sys.exit(pathlib.Path(vivier.__file__).resolve().parent.parent != pathlib.Path('$(CURDIR)').resolve())") 2>/dev/null \
		|| $(PY) -m pip install --quiet --no-deps -e .

airflow-db: install
	@$(BIN)/airflow db migrate > /dev/null && echo "Airflow metadata database ready in $(AIRFLOW_HOME)"

migrate: install
	$(PY) -m vivier_airflow.crm migrate

demo: install airflow-db migrate
	$(PY) scripts/demo.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff check --select AIR3 dags
	$(BIN)/ruff format --check dags vivier tests

test: lint
	$(PY) -m pytest

airflow: install airflow-db migrate
	@echo "Airflow UI: http://localhost:8080 — user admin; the password is generated on the first start,"
	@echo "printed below and kept in $(AIRFLOW_HOME)/simple_auth_manager_passwords.json.generated"
	@test -f $(AIRFLOW_HOME)/simple_auth_manager_passwords.json.generated && cat $(AIRFLOW_HOME)/simple_auth_manager_passwords.json.generated && echo || true
	$(BIN)/airflow standalone

bench: install
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf .airflow data .pytest_cache .ruff_cache
