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

# Lint and types before the tests (.ci/run runs it first). ruff must pass. mypy reports
# its errors; they fail the check once the tree is clean of them (MYPY_FAIL=1 does it now).
MYPY_FAIL ?= 0
check: $(STAMP)
	$(VENV)/bin/ruff check dgm tests bench evaluators agents sandbox
	@$(VENV)/bin/mypy > .mypy.out 2>&1; rc=$$?; tail -n 1 .mypy.out; \
	  if [ $$rc -ne 0 ] && [ "$(MYPY_FAIL)" = 1 ]; then cat .mypy.out; rm -f .mypy.out; exit 1; fi; \
	  if [ $$rc -ne 0 ]; then echo "mypy: not failing the check yet (MYPY_FAIL=1 makes it fatal; make check-types lists them)"; fi; \
	  rm -f .mypy.out

check-types: $(STAMP)
	$(VENV)/bin/mypy

test: setup
	@bash scripts/engine-up.sh
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

test-fast: $(STAMP)
	$(VENV)/bin/python -m pytest -m "not slow and not docker and not browser and not ray and not model" $(PYTEST_ARGS)

clean-venv:
	rm -rf $(VENV)
