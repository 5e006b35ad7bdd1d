# gongkai — `make run` serves the API with the demo data; `make test` runs the checks and tests.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PG_SERVER ?= postgres://postgres@127.0.0.1:5432

.PHONY: run test lint bench bench-forms bench-console bench-scale mutation fuzz soak install install-dev audit-deps clean graphiql-assets

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Re-install whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# The published links (catalog, feed, calendar) point at this server's /open/ unless
# GONGKAI_PUBLIC_BASE_URL says otherwise: `make run PORT=8001` moves them too.
run: export GONGKAI_PUBLIC_BASE_URL ?= http://$(HOST):$(PORT)/open
#: the password of `make run`'s console accounts: for a development machine only
DEMO_PASSWORD ?= gongkai-demo-password
run: install
	mkdir -p var
	$(BIN)/gongkai migrate
	$(BIN)/gongkai demo --scale town --if-empty
	$(BIN)/gongkai publish --all --as-of history
	@# The console's demo accounts, with a development password (docs/console.md).
	echo "$(DEMO_PASSWORD)" | $(BIN)/gongkai user add demo-officer --role finance_officer \
		--role publisher --classified --name 示例财政专员 --password-stdin --if-missing
	echo "$(DEMO_PASSWORD)" | $(BIN)/gongkai user add demo-editor --role department_editor \
		--dept 101 --name 示例镇党政办公室填报人 --password-stdin --if-missing
	$(BIN)/gongkai serve --host $(HOST) --port $(PORT)

# Figures named by the issues; see bench/*.py. BENCH_DB=sqlite runs without PostgreSQL.
BENCH_DB ?= postgres
bench: install-dev
	$(BIN)/python -m bench.publish --database $(BENCH_DB)
	$(BIN)/python -m bench.public_api --database $(BENCH_DB)
	$(BIN)/python -m bench.forms --database $(BENCH_DB)
	$(BIN)/python -m bench.verify --database $(BENCH_DB)
	$(BIN)/python -m bench.history --database $(BENCH_DB)

# The forms import alone (issue 13; bench/forms.py): against reading the workbooks with calamine.
bench-forms: install-dev
	$(BIN)/python -m bench.forms --database $(BENCH_DB)

# The web console's pages (issue 17; bench/console.py): p95 latency with one user on the
# district demo, against a trivial route of the same app.
bench-console: install-dev
	$(BIN)/python -m bench.console --database $(BENCH_DB)

# How cost grows with the data, and what more processes buy (issue 18; docs/scaling.md): each
# scale published into its own PostgreSQL database (time, objects, bytes, peak memory, the
# unchanged rerun, table sizes, page, lookup and search latency), then the public warm-path
# throughput of `gongkai serve --workers 2` against one worker. SCALES=town runs the small one
# alone; SCALES=town,district,city adds the city (hours of publishing on two cores).
SCALES ?= town,district
bench-scale: install-dev
	$(BIN)/python -m bench.scale --scales $(SCALES)
	$(BIN)/python -m bench.workers --workers 2

# schemathesis against both GraphQL endpoints of a server it sets up (fuzz/run.py): fails on any
# 5xx or "Unexpected error."; FUZZ_SECONDS bounds the run (a short one is part of `make test`).
FUZZ_SECONDS ?= 240
fuzz: install-dev
	$(BIN)/python -m fuzz.run --seconds $(FUZZ_SECONDS)

# A bounded mixed load on one `gongkai serve` (bench/soak.py): errors, p50/p99, server memory.
# Not part of `make test`. SOAK_DB=sqlite runs without PostgreSQL.
DURATION ?= 300
SOAK_DB ?= postgres
soak: install-dev
	$(BIN)/python -m bench.soak --seconds $(DURATION) --database $(SOAK_DB)

# Mutation testing of the critical modules (mutation/run.py). `make test` checks the disclosure
# rules' recorded score and reruns a sample of its kills (`--ci`; docs/testing.md).
# MODULES=… limits it, e.g. `make mutation MODULES=publishers/rules.py`.
MODULES ?=
mutation: install-dev
	$(BIN)/python -m mutation.run $(MODULES)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The graphql-http audit's npm packages (tests/http_audit), as locked, wherever npm is; without
# Node the audit test is skipped, saying so (in CI, with CI=true, it fails instead).
AUDIT := tests/http_audit
$(AUDIT)/node_modules/.package-lock.json: $(AUDIT)/package.json $(AUDIT)/package-lock.json
	npm ci --prefix $(AUDIT) --no-audit --no-fund --loglevel=error

# The OpenID Connect provider the console's sign-in tests run against (tests/console/test_oidc.py).
OIDC := tests/oidc_provider
$(OIDC)/node_modules/.package-lock.json: $(OIDC)/package.json $(OIDC)/package-lock.json
	npm ci --prefix $(OIDC) --no-audit --no-fund --loglevel=error

audit-deps:
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory $(AUDIT)/node_modules/.package-lock.json $(OIDC)/node_modules/.package-lock.json; \
	else echo "SKIPPED: npm is not installed; the GraphQL-over-HTTP audit and OpenID Connect tests will be skipped" >&2; fi

# SQLite always, and at the same time PostgreSQL whenever it is reachable
# (scripts/test-both-databases.sh). With GONGKAI_REQUIRE_POSTGRES=1 (CI) an unreachable
# PostgreSQL fails the run instead of skipping it.
test: lint audit-deps
	$(BIN)/python -m mutation.run publishers/rules.py --ci 12 --fail-under 100
	scripts/test-both-databases.sh $(BIN) $(PG_SERVER)

# Refresh GraphiQL's vendored scripts and styles (api/static/graphiql/) from npm; commit them.
graphiql-assets:
	scripts/vendor-graphiql.sh

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache $(AUDIT)/node_modules $(OIDC)/node_modules
