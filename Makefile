# Every target sets the project up in .venv first, so each works alone on a fresh clone.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SAMPLE_PORT ?= 8765

# Prefect must not try to send telemetry from an offline machine.
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PREFECT_LOGGING_EXTRA_LOGGERS := claimwatch

.PHONY: setup run test check lint typecheck lock clean bench

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $@

# One monitoring pass over seeds/sources.yaml; the offline sample is served on
# 127.0.0.1:$(SAMPLE_PORT) for the length of the pass.
run: setup
	$(BIN)/python -m claimwatch.sample_server seeds/sample --port $(SAMPLE_PORT) -- $(BIN)/claimwatch run

test: check
	$(BIN)/python -m pytest

check: lint typecheck

lint: setup
	$(BIN)/ruff check src flows tests benchmarks
	$(BIN)/ruff format --check src flows tests benchmarks

typecheck: setup
	$(BIN)/mypy

# Matching benchmarks (benchmarks/bench_match.py): ratios measured in the same run.
bench: setup
	$(BIN)/python benchmarks/bench_match.py all

# Re-resolve requirements.in into requirements.lock (exact versions, no index URLs).
lock: setup
	$(BIN)/python -m pip install -q pip-tools
	$(BIN)/pip-compile -q --no-emit-index-url --no-emit-find-links --strip-extras \
		-o requirements.lock requirements.in

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
