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

install: $(STAMP) $(DAGSTER_HOME)/.instance-ready

# The instance is created once, under a lock, before `dagster dev` or the CLI can race to it.
$(DAGSTER_HOME)/.instance-ready: $(DAGSTER_HOME)/dagster.yaml $(STAMP)
	$(BIN)/python -m retrain_assets.launcher.home
	touch $@

# An instance whose events sit in per-run files (made before the consolidated event log) keeps
# its settings: switching would hide its history, and with it the resume ledger.
$(DAGSTER_HOME)/dagster.yaml: dagster.yaml
	mkdir -p $(DAGSTER_HOME)
	@if ls $(DAGSTER_HOME)/history/runs/*.db >/dev/null 2>&1 \
		&& ! grep -q ConsolidatedSqliteEventLogStorage $(DAGSTER_HOME)/dagster.yaml 2>/dev/null; then \
		echo "note: $(DAGSTER_HOME) keeps per-run event logs; its dagster.yaml is left as it is"; \
		touch $(DAGSTER_HOME)/dagster.yaml; \
	else \
		cp dagster.yaml $(DAGSTER_HOME)/dagster.yaml; \
	fi

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

## The CLI against a plain multiprocessing.Pool, then how it scales to 500 symbols (idle machine).
bench: install
	$(BIN)/python bench/bench_engine.py
	$(BIN)/python bench/bench_scale.py

clean:
	rm -rf $(DAGSTER_HOME) $(RETRAIN_ARTIFACT_ROOT)
