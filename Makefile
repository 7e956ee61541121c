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

# --- benchmark (issue 9) -------------------------------------------------------------
# `make bench` runs in its own venv: lk_otel and the newest livekit-agents, plus the peer it
# is measured against (traceai-livekit), which is never a dependency of the package. A peer
# that does not install leaves the venv usable: its rows then say "unavailable" and why.
VENV_BENCH := .venv-bench
LK_NEWEST := 1.8.9
BENCH_PEERS := traceai-livekit

$(VENV_BENCH)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV_BENCH)
	$(VENV_BENCH)/bin/pip install $(PIP_FLAGS) -e ".[test]" "livekit-agents==$(LK_NEWEST)"
	-$(VENV_BENCH)/bin/pip install $(PIP_FLAGS) $(BENCH_PEERS) "livekit-agents==$(LK_NEWEST)"
	touch $@

bench: $(VENV_BENCH)/.installed
	$(VENV_BENCH)/bin/python benchmarks/pipeline_overhead.py
# --- end of benchmark ------------------------------------------------------------------

clean:
	rm -rf $(VENV) $(VENV_OLD) .venv-phoenix $(VENV_BENCH)
