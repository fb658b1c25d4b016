# errkb: the two set-up commands are `make search Q="..."` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
Q      ?= 支付宝 身份信息过期

.PHONY: search test test-slow index check lint eval bench clean help

help:
	@echo 'make search Q="pasted error"   set up .venv, build the index, search'
	@echo 'make test                      set up .venv with test tools, run the fast tests'
	@echo 'make test-slow                 the slow fault, race and fresh-clone tests (CI runs both)'
	@echo 'make index | check | lint | eval | bench | clean'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Runtime install: reinstalled whenever pyproject.toml changes.
$(VENV)/.runtime: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

# Test tools on top of the runtime install.
$(VENV)/.test: pyproject.toml $(VENV)/.runtime
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

# The query reaches kb as it was typed: $(value Q) is Q unexpanded by make,
# and the shell sees only "$$ERRKB_MAKE_Q", so `$HOME`, `$(...)` and
# backticks in Q stay text.
search: export ERRKB_MAKE_Q = $(value Q)
search: $(VENV)/.runtime
	$(BIN)/kb index
	$(BIN)/kb search -- "$$ERRKB_MAKE_Q"

# The fast suite: offline, under a minute. The slow tests (real processes,
# faults, races, a fresh clone) are marked `slow`; .ci/run runs them too.
test: $(VENV)/.test
	$(BIN)/python -m pytest -m "not slow"

test-slow: $(VENV)/.test
	$(BIN)/python -m pytest -m slow

index: $(VENV)/.runtime
	$(BIN)/kb index

lint: $(VENV)/.test
	$(BIN)/ruff check src tests scripts
	$(BIN)/mypy --strict

check: lint
	$(BIN)/kb check

eval: $(VENV)/.runtime
	$(BIN)/python scripts/eval.py

bench: $(VENV)/.runtime
	$(BIN)/python scripts/bench.py $(BENCH_ARGS)
	$(BIN)/python scripts/bench_server.py $(BENCH_SERVER_ARGS)

# Only errkb's own outputs: index generations (gen-<digits>), its pointer and
# the pointer's temp files, the build lock; build/; tool caches; bytecode of
# errkb's own code. Never anything else a user keeps in index/ or kb/.
clean:
	-find index -mindepth 1 -maxdepth 1 -type d -regextype posix-extended -regex 'index/gen-[0-9]+' -exec rm -rf {} +
	rm -f index/errkb-index.json index/.build.lock index/.errkb-index.json.*.tmp
	rm -rf build .pytest_cache .mypy_cache .ruff_cache .hypothesis
	-find src tests scripts -type d -name __pycache__ -prune -exec rm -rf {} +
