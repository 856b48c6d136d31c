# One command sets everything up and runs the main job; one sets up and runs the tests.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export OMP_WAIT_POLICY ?= PASSIVE

.PHONY: setup serve demo test lint fmt clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

# The main job: serve predictions with the shipped model and SQLite telemetry on 127.0.0.1:8000.
# It prints where it listens, every endpoint (/metrics: Prometheus; /dashboard: the monitoring page) and the Zed
# settings that use it (docs/zed.md has the details); GET / answers the same as JSON.
serve: setup
	$(BIN)/nextedit serve

# Offline evaluation of the shipped model against the baselines on the bundled Zed eval cases.
demo: setup
	$(BIN)/nextedit eval examples/ --provider none
	$(BIN)/nextedit eval examples/ --provider heuristic
	$(BIN)/nextedit eval examples/ --provider local

# Debian's chromium + chromium-driver (scripts/ci-chromium.sh) run the dashboard's browser test.
# PostgreSQL (installed and started by scripts/ci-postgres.sh when possible) adds the telemetry
# tests against a real PostgreSQL; without it those tests skip and SQLite is tested alone.
test: setup
	$(BIN)/ruff check src tests
	scripts/ci-chromium.sh
	eval "$$(scripts/ci-postgres.sh)"; $(BIN)/pytest; rc=$$?; scripts/ci-postgres.sh stop; exit $$rc

lint: setup
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

fmt: setup
	$(BIN)/ruff check --fix src tests
	$(BIN)/ruff format src tests

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
