# Two commands on a fresh machine: `make run` and `make test`. `make dev` opens the UI.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The test tools (pytest, moto's server, ruff) come only with the targets that use them.
DEV_STAMP := $(VENV)/.installed-dev
# The repo-root dagster.yaml is the instance's config, as `dg dev` expects it; its storage (the
# resume ledger) lives in ./.dagster_home.
export DAGSTER_HOME ?= $(CURDIR)
export RETRAIN_INSTANCE_DIR ?= $(CURDIR)/.dagster_home
export RETRAIN_ARTIFACT_ROOT ?= $(CURDIR)/artifacts
export PYTHONUNBUFFERED := 1
# `dg` checks that it runs in the project's environment, as an activated venv would tell it.
export VIRTUAL_ENV := $(CURDIR)/$(VENV)
ARGS ?=
# `make test`'s pytest workers: the end-to-end tests mostly wait on processes and servers, so
# four share 2 cores well (`make test TEST_WORKERS=0` runs the suite in one process).
TEST_WORKERS ?= 4
# The UI's port (`make dev PORT=3300`), and the dry runs' UI's.
PORT ?= 3000
DRY_PORT ?= 3001

.PHONY: install run dev dev-dry check test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $(STAMP)

$(DEV_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(DEV_STAMP)

install: $(STAMP) $(RETRAIN_INSTANCE_DIR)/.instance-ready

# The instance is created once, under a lock, before `dg dev` or the CLI can race to it.
$(RETRAIN_INSTANCE_DIR)/.instance-ready: dagster.yaml $(STAMP)
	$(BIN)/python -m retrain_assets.launcher.home
	touch $@

## Retrain the last complete UTC day for the default selection (top20, synthetic data).
run: install
	$(BIN)/retrain $(ARGS)

## Dagster UI (webserver + daemon) on the same instance as `make run`.
dev: install
	$(BIN)/dg dev -h 127.0.0.1 -p $(PORT)

## The UI on the dry runs' own instance (`retrain --dry_run` keeps them in dry_run/ folders of
## the real instance's storage and the artifact root). The webserver only, no daemon: no
## schedule or sensor ever acts on that instance.
dev-dry: install
	DAGSTER_HOME=$(RETRAIN_INSTANCE_DIR)/dry_run $(BIN)/python -m retrain_assets.launcher.home
	DAGSTER_HOME=$(RETRAIN_INSTANCE_DIR)/dry_run RETRAIN_ARTIFACT_ROOT=$(RETRAIN_ARTIFACT_ROOT)/dry_run \
		$(BIN)/dagster-webserver -w workspace.yaml -h 127.0.0.1 -p $(DRY_PORT)

## The definitions load and their YAML validates (`dg check defs`), as CI checks them.
check: install
	$(BIN)/dg check defs

test: install $(DEV_STAMP)
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadgroup $(ARGS)

lint: install $(DEV_STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

## The CLI against a plain multiprocessing.Pool, then how it scales to 500 symbols (idle machine).
bench: install $(DEV_STAMP)
	$(BIN)/python bench/bench_engine.py
	$(BIN)/python bench/bench_scale.py

clean:
	rm -rf $(RETRAIN_INSTANCE_DIR) $(RETRAIN_ARTIFACT_ROOT)
