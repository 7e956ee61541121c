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

# every agent example, offline (scripted call through its own agent; traces in out/ + report)
EXAMPLES := langfuse_agent jaeger_agent otlp_vendor_agent two_backends_agent metrics_agent
.PHONY: examples
examples: $(VENV)/.installed
	mkdir -p out
	for name in $(EXAMPLES); do \
		$(VENV)/bin/python examples/$$name.py simulate --speed 4 --out out/$$name.jsonl || exit 1; \
	done
	$(VENV)/bin/python examples/simulated_call.py --speed 4 --out out/simulated-call.jsonl
