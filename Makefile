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
