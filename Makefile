# Everything a fresh machine needs: `make demo` runs the offline simulated call,
# `make test` runs the whole suite (livekit-agents newest and oldest, and Arize Phoenix).
PYTHON ?= python3
VENV := .venv
VENV_OLD := .venv-lk12
LK_OLDEST := 1.2.18
PIP_FLAGS := --quiet --disable-pip-version-check

.PHONY: demo test test-fast test-oldest lint bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install $(PIP_FLAGS) -e ".[test,report]"
	touch $@

$(VENV_OLD)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV_OLD)
	# 1.2.18 imports httpx, which newer openai releases no longer pull in
	$(VENV_OLD)/bin/pip install $(PIP_FLAGS) -e ".[test,report]" "livekit-agents==$(LK_OLDEST)" httpx
	touch $@

.venv-phoenix/bin/phoenix: scripts/install-phoenix
	PHOENIX_VENV=.venv-phoenix scripts/install-phoenix

demo: $(VENV)/.installed
	$(VENV)/bin/lk-otel demo

test: $(VENV)/.installed $(VENV_OLD)/.installed .venv-phoenix/bin/phoenix lint
	PHOENIX_BIN=$(CURDIR)/.venv-phoenix/bin/phoenix $(VENV)/bin/python -m pytest
	$(VENV_OLD)/bin/python -m pytest -m "not phoenix"

test-fast: $(VENV)/.installed
	$(VENV)/bin/python -m pytest -m "not phoenix and not slow"

test-oldest: $(VENV_OLD)/.installed
	$(VENV_OLD)/bin/python -m pytest -m "not phoenix"

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .

bench: $(VENV)/.installed
	$(VENV)/bin/python benchmarks/pipeline_overhead.py

clean:
	rm -rf $(VENV) $(VENV_OLD) .venv-phoenix

# --- mutation testing (issue 19; owner: mutation) --------------------------------------
# `make mutation`: mutmut over the pure modules ([tool.mutmut] in pyproject.toml), each
# mutant run against the fast tests under tests/unit/. Not part of `make test` (minutes).
# Always a fresh run; survivors with their diffs go to mutation-survivors.txt.
VENV_MUT := .venv-mutation
MUTMUT_VERSION := 3.8.1
MUTATION_CHILDREN ?= 2

.PHONY: mutation

$(VENV_MUT)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV_MUT)
	$(VENV_MUT)/bin/pip install $(PIP_FLAGS) -e ".[test]" "mutmut==$(MUTMUT_VERSION)"
	touch $@

mutation: $(VENV_MUT)/.installed
	rm -rf mutants
	$(VENV_MUT)/bin/mutmut run --max-children $(MUTATION_CHILDREN) > mutation-run.log 2>&1 \
		|| { tail -40 mutation-run.log; exit 1; }
	$(VENV_MUT)/bin/python scripts/mutation_summary.py
# --- end mutation testing ---------------------------------------------------------------
