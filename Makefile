# openclaw-edge: `make dev` runs the whole system on this machine (no cloud account),
# `make test` runs every check and test. Both set up what they need first.
SHELL := /bin/bash
.DEFAULT_GOAL := help
RUN := scripts/with-toolchain
PY := .venv/bin/python
STAMP_PY := .venv/.installed
STAMP_NODE := worker/node_modules/.installed
STACK ?= dev
ARGS ?=

help:
	@echo "make dev     run the whole system locally (Worker, gateway, Access/LLM/R2 stand-ins)"
	@echo "make test    lint, type-check and run every test (Python, Worker, container, e2e)"
	@echo "make plan    offline plan of Pulumi.<STACK>.yaml (STACK=dev by default; not pulumi preview)"
	@echo "make migrate-plan ARGS='--existing moltworker.json'  steps to move in from moltworker"
	@echo "make setup   install the toolchain only (Debian packages, .venv, Node 24, npm deps)"
	@echo "make bench   run the benchmarks and print their tables (ARGS=--quick: a shorter run)"
	@echo "make verify  check the live deployment (pulumi stack output --json | make verify)"

setup: system $(STAMP_PY) $(STAMP_NODE) openclaw

system:
	@scripts/setup-system

$(STAMP_PY): requirements.txt requirements-dev.txt dev/requirements.txt ops/requirements.txt
	python3 -m venv .venv
	.venv/bin/pip install --quiet --upgrade pip
	.venv/bin/pip install --quiet -r requirements-dev.txt
	@touch $@

$(STAMP_NODE): $(STAMP_PY) worker/package.json worker/package-lock.json
	cd worker && ../$(RUN) npm ci --no-audit --no-fund --loglevel=error
	@touch $@

openclaw: $(STAMP_PY)
	@scripts/install-openclaw

lint: setup
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy
	$(RUN) hadolint container/Dockerfile
	$(RUN) actionlint
	$(RUN) bash -c 'shellcheck scripts/* .ci/run $$(find container dev -name "*.sh")'
	cd worker && ../$(RUN) npm run --silent lint
	cd worker && ../$(RUN) npm run --silent typecheck

test: lint
	cd worker && ../$(RUN) npm test --silent
	$(RUN) python -m pytest

# The offline plan needs only the Python environment (no apt packages, npm or OpenClaw).
plan: $(STAMP_PY)
	$(RUN) python -m infra.offline_plan --stack $(STACK) $(ARGS)

migrate-plan: $(STAMP_PY)
	$(RUN) python -m ops.migrate_plan $(ARGS)

# make dev DEV_FLAGS=--channels also starts the Discord/Telegram fakes (dev/README.md).
dev: setup
	$(RUN) python -m dev.run $(DEV_FLAGS)

bench: setup
	$(RUN) python -m bench.run $(ARGS)

# Outputs on stdin (OUTPUTS=- by default) or from a file; VERIFY_ARGS e.g. "--write --json v.json".
# Only the Python and npm installs as prerequisites: nothing else may read the piped outputs.
OUTPUTS ?= -
verify: $(STAMP_PY) $(STAMP_NODE)
	$(RUN) python -m ops.verify --outputs $(OUTPUTS) $(VERIFY_ARGS)

.PHONY: help setup system openclaw lint test plan migrate-plan dev bench verify
