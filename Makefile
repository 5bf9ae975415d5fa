# The same commands serve a developer's shell, the README and CI.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint typecheck pytest format clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

## run: install, create (or refresh) the demo organisation, and serve on http://$(HOST):$(PORT)
run: install
	$(BIN)/agentstatus demo --base-url http://$(HOST):$(PORT)
	$(BIN)/agentstatus serve --host $(HOST) --port $(PORT)

## test: install, then lint, type-check and run the whole suite (Chromium for the web's tests)
test: install browser node lint typecheck pytest

## browser: Debian's Chromium for the browser tests (apt-get, as root); without it they skip
.PHONY: browser
browser:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } || \
	  echo "note: no chromium (apt-get install chromium): the browser tests will skip"

## node: the real socket.io clients the monitor socket's tests drive and the OpenID provider
## of the single sign-on tests (npm ci, from the lock
## file, again whenever it changes); without Node (apt-get install nodejs npm) those tests skip
.PHONY: node
NODE_STAMP := tests/node/node_modules/.installed
node:
	@if command -v npm >/dev/null; then \
	  { [ -f $(NODE_STAMP) ] && [ $(NODE_STAMP) -nt tests/node/package-lock.json ]; } || \
	  { npm ci --prefix tests/node --no-audit --no-fund --loglevel=error && touch $(NODE_STAMP); }; \
	else echo "note: no npm (apt-get install nodejs npm): the monitor socket's client and single sign-on tests will skip"; fi

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: install
	$(BIN)/mypy

# Four workers (xdist), each whole modules (--dist loadfile): a module's shared server and
# database stay in one worker. Four on two cores, because much of the suite waits (servers
# starting, streams, the browser): 12m55s against 15m49s with two, on this 2-core machine.
# PYTEST_WORKERS=0 runs in this process.
PYTEST_WORKERS ?= 4
pytest: install node
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=15

format: install
	$(BIN)/ruff format src tests
	$(BIN)/ruff check --fix src tests

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

## bench: the benchmark of docs/performance.md (loopback only, about 10 minutes); installs wrk
.PHONY: bench bench-smoke bench-deps
bench: install bench-deps
	$(BIN)/python -m bench.run

## bench-smoke: the same harness on tiny data (about a minute; no figure means anything)
bench-smoke: install bench-deps
	$(BIN)/python -m bench.run --smoke

bench-deps:
	@command -v wrk >/dev/null || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }

## soak: the reliability tests made large (AGENTSTATUS_SOAK=1, about 10 minutes), then their figures
.PHONY: soak
SOAK_FIGURES ?= /tmp/agentstatus-reliability
soak: install
	rm -rf $(SOAK_FIGURES)
	AGENTSTATUS_SOAK=1 AGENTSTATUS_FIGURES_DIR=$(SOAK_FIGURES) $(BIN)/pytest tests/reliability -p no:cacheprovider -q -s --timeout=1800
	@echo "== soak figures =="; cat $(SOAK_FIGURES)/*.json

## i18n: extract the pages' strings and merge them into the catalogues (then translate the new ones)
.PHONY: i18n
LOCALES := src/agentstatus/web/locales
i18n: install
	$(BIN)/pybabel extract -F babel.cfg -k _ -k gettext -k N_ --no-location --sort-output -o $(LOCALES)/messages.pot .
	$(BIN)/pybabel update -i $(LOCALES)/messages.pot -d $(LOCALES) -D messages --no-fuzzy-matching --ignore-obsolete
