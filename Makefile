# The two commands a newcomer runs: `make run` and `make test` (see README.md).
PY      ?= python3
VENV    := .venv
STAMP   := $(VENV)/.installed
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: setup system run test test-fast check check-types clean-venv

setup: system $(STAMP)

system:
	@bash scripts/setup-system.sh

# Reinstalls only when pyproject.toml changes. torch comes first, pinned to the
# CPU build on disk; an unpinned torch would pull a multi-GB CUDA build.
$(STAMP): pyproject.toml
	@test -x $(VENV)/bin/python || $(PY) -m venv $(VENV)
	$(VENV)/bin/pip install -q torch==2.13.0
	$(VENV)/bin/pip install -q -e '.[dev]'
	$(VENV)/bin/dgm model install
	@touch $(STAMP)

run: setup
	$(VENV)/bin/dgm run

# Lint and types before the tests (.ci/run runs it first): ruff and mypy (on dgm/) must pass.
check: $(STAMP)
	$(VENV)/bin/ruff check dgm tests bench evaluators agents image
	$(VENV)/bin/mypy

check-types: $(STAMP)
	$(VENV)/bin/mypy

test: setup
	@bash scripts/engine-up.sh
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

test-fast: $(STAMP)
	$(VENV)/bin/python -m pytest -m "not slow and not docker and not browser and not ray and not model" $(PYTEST_ARGS)

clean-venv:
	rm -rf $(VENV)
