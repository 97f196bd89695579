# Two commands on a fresh machine: `make run` and `make test`. `make dev` opens the UI.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export RETRAIN_ARTIFACT_ROOT ?= $(CURDIR)/artifacts
export PYTHONUNBUFFERED := 1
ARGS ?=

.PHONY: install run dev test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP) $(DAGSTER_HOME)/dagster.yaml

$(DAGSTER_HOME)/dagster.yaml: dagster.yaml
	mkdir -p $(DAGSTER_HOME)
	cp dagster.yaml $(DAGSTER_HOME)/dagster.yaml

## Retrain the last complete UTC day for the default selection (top20, synthetic data).
run: install
	$(BIN)/retrain $(ARGS)

## Dagster UI (webserver + daemon) on the same instance as `make run`.
dev: install
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

test: install
	$(BIN)/pytest -q $(ARGS)

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

bench: install
	$(BIN)/python bench/bench_engine.py

clean:
	rm -rf $(DAGSTER_HOME) $(RETRAIN_ARTIFACT_ROOT)
