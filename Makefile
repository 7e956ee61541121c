# Everything a fresh machine needs: `make demo` runs the offline simulated call,
# `make test` runs the whole suite (livekit-agents newest and oldest, and Arize Phoenix), and
# the release matrix (below) on every minor in between.
PYTHON ?= python3
VENV := .venv
VENV_OLD := .venv-lk12
LK_OLDEST := 1.2.18
PIP_FLAGS := --quiet --disable-pip-version-check

.PHONY: demo test test-fast test-oldest test-matrix lint bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install $(PIP_FLAGS) -e ".[test,report,json-file]"
	touch $@

$(VENV_OLD)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV_OLD)
	# 1.2.18 imports httpx, which newer openai releases no longer pull in
	$(VENV_OLD)/bin/pip install $(PIP_FLAGS) -e ".[test,report,json-file]" "livekit-agents==$(LK_OLDEST)" httpx
	touch $@

.venv-phoenix/bin/phoenix: scripts/install-phoenix
	PHOENIX_VENV=.venv-phoenix scripts/install-phoenix

demo: $(VENV)/.installed
	$(VENV)/bin/lk-otel demo

test: $(VENV)/.installed $(VENV_OLD)/.installed .venv-phoenix/bin/phoenix lint
	PHOENIX_BIN=$(CURDIR)/.venv-phoenix/bin/phoenix $(VENV)/bin/python -m pytest
	$(VENV_OLD)/bin/python -m pytest -m "not phoenix"
	$(MAKE) --no-print-directory test-matrix

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
	rm -rf $(VENV) $(VENV_OLD) .venv-phoenix $(LK_MATRIX_VENVS:/.installed=) $(VENV_SDK_OLD) $(VENV_BENCH) \
		.venv-mutation mutants mutation-survivors.txt mutation-run.log

# every agent example, offline (scripted call through its own agent; traces in out/ + report)
EXAMPLES := langfuse_agent jaeger_agent otlp_vendor_agent two_backends_agent metrics_agent
.PHONY: examples
examples: $(VENV)/.installed
	mkdir -p out
	for name in $(EXAMPLES); do \
		$(VENV)/bin/python examples/$$name.py simulate --speed 4 --out out/$$name.jsonl || exit 1; \
	done
	$(VENV)/bin/python examples/simulated_call.py --speed 4 --out out/simulated-call.jsonl

# --- OpenTelemetry Collector for collector-config/ (issue 18; the "collector" helper's block) ---
# `make otelcol` builds .tools/otelcol-lk from the Go module proxy with the OpenTelemetry
# Collector Builder: exactly the components collector-config/ uses, pinned in
# collector-config/builder-manifest.yaml. Rebuilt only when the manifest changes; Go's module
# and build caches (GOMODCACHE, GOCACHE) make a rebuild cheap. The collector tests
# (tests/test_collector_*.py) run this binary; on CI (CI=true) they fail when it is missing.
GO ?= $(or $(shell command -v go 2>/dev/null),/usr/local/go/bin/go)
OTELCOL_BUILDER_VERSION := v0.161.0
OTELCOL := .tools/otelcol-lk

.PHONY: otelcol
otelcol: $(OTELCOL)

$(OTELCOL): collector-config/builder-manifest.yaml
	mkdir -p .tools
	GOBIN=$(CURDIR)/.tools/bin $(GO) install go.opentelemetry.io/collector/cmd/builder@$(OTELCOL_BUILDER_VERSION)
	PATH="$(dir $(GO)):$$PATH" GOFLAGS=-buildvcs=false .tools/bin/builder --config=collector-config/builder-manifest.yaml
	cp .tools/otelcol-lk-build/otelcol-lk $@

# Jaeger v2.13.0 (its Go module keeps the v1 tag line: v1.76.0). `go install
# github.com/jaegertracing/jaeger/cmd/jaeger@v1.76.0` is refused ("The go.mod file for the module
# providing named packages contains one or more replace directives"; jaeger's go.mod replaces
# github.com/Shopify/sarama), so the module's source is fetched from the proxy with
# `go mod download` and built as the main module, where its replace applies.
JAEGER_MODULE_VERSION := v1.76.0
JAEGER := .tools/jaeger-$(JAEGER_MODULE_VERSION)

.PHONY: jaeger
jaeger: $(JAEGER)

# built once per version; the tests run .tools/jaeger (a link to it)
$(JAEGER):
	mkdir -p .tools
	rm -rf .tools/jaeger-src
	src=$$($(GO) mod download -json github.com/jaegertracing/jaeger@$(JAEGER_MODULE_VERSION) | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$$/\1/p') && \
		cp -r "$$src" .tools/jaeger-src && chmod -R u+w .tools/jaeger-src
	cd .tools/jaeger-src && GOFLAGS=-buildvcs=false $(GO) build -trimpath -ldflags="-s -w" -o ../$(notdir $@) ./cmd/jaeger
	rm -rf .tools/jaeger-src
	ln -sf $(notdir $@) .tools/jaeger

test: $(OTELCOL) $(JAEGER)


# --- livekit-agents release matrix (issue 14) ------------------------------------------
# The last patch of every minor between the oldest and the newest, one venv each, plus the
# oldest release next to the lowest opentelemetry-sdk lk_otel supports (1.39: livekit 1.3-1.5
# pin it). All venvs share pip's cache (~/.cache/pip). livekit-agents 1.3-1.5 import httpx
# without requiring it. On each, the enrichment, simulation, setup and release-facts tests
# run (the whole suite runs on $(VENV) and $(VENV_OLD) above); on the lowest SDK also the
# delivery and diagnostics tests, which depend on how the SDK's exporters fail. pytest exits
# 5 when a selection collects no test: not a failure here (the selections name files, so a
# missing file still fails).
LK_MINORS := 1.3.12 1.4.6 1.5.17 1.6.10 1.7.1
SDK_OLDEST := 1.39.1
VENV_SDK_OLD := .venv-lk12-sdk
LK_MATRIX_TESTS := tests/test_enrichment.py tests/test_simulation.py tests/test_setup_tracing.py \
	tests/test_versions.py tests/test_compat.py tests/test_mapping_selection.py
# Delivery under faults is tested on the lowest SDK too. How SDK 1.39's exporters *log* a
# failure differs (a refused gRPC connection reads as UNAVAILABLE), so lk-otel check's cause
# lines and the wording of the one warning per outage are tested on SDK >= 1.44 only: a known
# gap, stated in the README's Compatibility section.
SDK_OLDEST_TESTS := $(LK_MATRIX_TESTS) tests/test_faults.py \
	--deselect tests/test_faults.py::test_a_backend_failing_the_same_way_warns_once
# issue 16: a call of each release, PII on, through the real agent + gateway collectors: the
# Langfuse-bound copy keeps none of its content (a slow test: run by name)
LK_MATRIX_CONTENT_TEST := tests/test_collector_run.py::test_langfuse_gets_none_of_the_content_and_jaeger_all_of_it
lk_venv = .venv-lk$(subst .,,$(basename $(1)))
LK_MATRIX_VENVS := $(foreach v,$(LK_MINORS),$(call lk_venv,$(v))/.installed)
matrix_pytest = $(1)/bin/python -m pytest -q -m "not phoenix and not slow" $(2) || test $$? -eq 5

define lk_matrix_venv
$(call lk_venv,$(1))/.installed: pyproject.toml
	$$(PYTHON) -m venv $(call lk_venv,$(1))
	$(call lk_venv,$(1))/bin/pip install $$(PIP_FLAGS) -e ".[test]" "livekit-agents==$(1)" httpx
	touch $$@
endef
$(foreach v,$(LK_MINORS),$(eval $(call lk_matrix_venv,$(v))))

$(VENV_SDK_OLD)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV_SDK_OLD)
	$(VENV_SDK_OLD)/bin/pip install $(PIP_FLAGS) -e ".[test]" "livekit-agents==$(LK_OLDEST)" \
		httpx "opentelemetry-sdk==$(SDK_OLDEST)"
	touch $@

versions = $(1)/bin/python -c 'import importlib.metadata as m, sys; \
	print("==", sys.argv[1], "livekit-agents", m.version("livekit-agents"), \
	"opentelemetry-sdk", m.version("opentelemetry-sdk"))' $(1)

# every venv runs even when one fails; the target fails if any did
test-matrix: $(LK_MATRIX_VENVS) $(VENV_SDK_OLD)/.installed $(OTELCOL)
	@failed=""; for venv in $(LK_MATRIX_VENVS:/.installed=); do \
		$(call versions,$$venv); \
		$(call matrix_pytest,$$venv,$(LK_MATRIX_TESTS)) || failed="$$failed $$venv"; \
		$$venv/bin/python -m pytest -q $(LK_MATRIX_CONTENT_TEST) || failed="$$failed $$venv(content)"; \
	done; \
	$(call versions,$(VENV_SDK_OLD)); \
	$(call matrix_pytest,$(VENV_SDK_OLD),$(SDK_OLDEST_TESTS)) || failed="$$failed $(VENV_SDK_OLD)"; \
	if [ -n "$$failed" ]; then echo "release matrix failed on:$$failed"; exit 1; fi

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
