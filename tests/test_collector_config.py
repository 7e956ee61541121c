"""Offline checks of collector-config/: structure, component types, env docs, PII stripping.

No collector runs here (tests/test_collector_run.py runs the built one); each check is a
function returning a list of problems, and the last tests feed deliberately broken configs to
show every check can fail. The strip rules are checked key for key against
``lk_otel.content_keys`` for every supported livekit release.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from lk_otel import content_keys as ck

CONFIG_DIR = Path(__file__).resolve().parent.parent / "collector-config"
README = CONFIG_DIR / "README.md"
KINDS = ("receivers", "processors", "exporters", "connectors", "extensions")
SIGNALS = ("traces", "metrics", "logs")

# Component types of otelcol-contrib 0.161.0 (a subset of its manifest: the types a gateway or
# agent for voice-agent telemetry plausibly uses; 0.161 names the OTLP exporters otlp_grpc and
# otlp_http, with otlp / otlphttp as deprecated aliases). A type missing here is a typo or
# needs a different distribution.
# fmt: off
CONTRIB_TYPES: dict[str, frozenset[str]] = {
    "receivers": frozenset({
        "otlp", "prometheus", "hostmetrics", "filelog", "jaeger", "zipkin", "kafka",
        "otlpjsonfile", "nop", "k8s_cluster", "kubeletstats", "journald",
    }),
    "processors": frozenset({
        "batch", "memory_limiter", "attributes", "transform", "filter", "redaction", "resource",
        "resourcedetection", "k8sattributes", "tail_sampling", "probabilistic_sampler",
        "groupbytrace", "groupbyattrs", "span", "cumulativetodelta", "deltatocumulative",
        "metricstransform", "interval",
    }),
    "exporters": frozenset({
        "otlp_grpc", "otlp_http", "debug", "nop", "file", "load_balancing", "prometheus",
        "prometheusremotewrite", "kafka", "zipkin", "elasticsearch", "clickhouse", "datadog",
        "awsxray", "googlecloud", "azuremonitor",
    }),
    "connectors": frozenset({
        "forward", "routing", "failover", "roundrobin", "count", "spanmetrics", "servicegraph",
        "exceptions", "sum", "signaltometrics", "otlpjson",
    }),
    "extensions": frozenset({
        "health_check", "pprof", "zpages", "basicauth", "bearertokenauth", "oauth2client",
        "oidc", "headers_setter", "file_storage", "opamp",
    }),
}
# fmt: on

ENV_PLACEHOLDER = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-[^}]*)?\}")
ANY_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
COMPOSE_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-?+][^}]*)?\}")

# Attribute keys the Langfuse pipeline must drop (every release's list, plus keys the prefix and
# `pii`-segment rules cover), and keys it must keep.
PII_KEYS = sorted(
    ck.all_content_keys()
    | {
        "gen_ai.prompt.0.content",
        "gen_ai.prompt.variable.city",
        "llm.input_messages.0.message.content",
    }
    | {"lk_otel.turn.pii.user_text", "lk.pii.some_future_key"}
)
KEPT_KEYS = [
    "lk_otel.turn.e2e_latency", "lk.e2e_latency", "lk.speech_id", "lk.response.ttft",
    "gen_ai.usage.input_tokens", "gen_ai.request.model", "gen_ai.tool.name",
    "gen_ai.operation.name", "lk.llm_metrics", "llm.token_count.prompt", "input.mime_type",
    "lk.pipeline", "session.id",
]  # fmt: skip


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict), f"{path.name}: top level is not a mapping"
    return data


MANIFEST = CONFIG_DIR / "builder-manifest.yaml"  # builds the collector; no config
YAML_FILES = sorted(
    p for p in CONFIG_DIR.iterdir() if p.suffix in (".yaml", ".yml") and p != MANIFEST
)
COLLECTOR_FILES = [p for p in YAML_FILES if "service" in _load(p)]
COMPOSE_FILES = [p for p in YAML_FILES if "services" in _load(p)]


def _type(component_id: str) -> str:
    return component_id.split("/", 1)[0]


# --- checks (each returns a list of problems) ------------------------------------------------


def pipeline_problems(config: dict[str, Any]) -> list[str]:
    """Pipelines name only defined components; connectors are wired both ways; nothing unused."""
    problems: list[str] = []
    defined = {kind: set(config.get(kind) or {}) for kind in KINDS}
    pipelines = (config.get("service") or {}).get("pipelines") or {}
    if not pipelines:
        return ["service.pipelines is empty"]
    used: dict[str, set[str]] = {kind: set() for kind in KINDS}
    connector_as_exporter: set[str] = set()
    connector_as_receiver: set[str] = set()
    for pipeline_id, pipeline in pipelines.items():
        if _type(pipeline_id) not in SIGNALS:
            problems.append(f"pipeline {pipeline_id}: signal must be one of {SIGNALS}")
        pipeline = pipeline or {}
        for role in ("receivers", "exporters"):
            if not pipeline.get(role):
                problems.append(f"pipeline {pipeline_id}: no {role}")
        for role in ("receivers", "processors", "exporters"):
            for component in pipeline.get(role) or []:
                if component in defined[role]:
                    used[role].add(component)
                elif role != "processors" and component in defined["connectors"]:
                    used["connectors"].add(component)
                    side = connector_as_receiver if role == "receivers" else connector_as_exporter
                    side.add(component)
                else:
                    problems.append(f"pipeline {pipeline_id}: {role[:-1]} {component} undefined")
        processors = pipeline.get("processors") or []
        if "memory_limiter" in processors and processors[0] != "memory_limiter":
            problems.append(f"pipeline {pipeline_id}: memory_limiter must come first")
        if len(set(processors)) != len(processors):
            problems.append(f"pipeline {pipeline_id}: a processor is listed twice")
    for connector in connector_as_exporter ^ connector_as_receiver:
        problems.append(f"connector {connector} must feed one pipeline from another")
    for kind in ("receivers", "processors", "exporters", "connectors"):
        for component in sorted(defined[kind] - used[kind]):
            problems.append(f"{kind[:-1]} {component} is defined but in no pipeline")
    return problems


def extension_problems(config: dict[str, Any]) -> list[str]:
    """service.extensions lists only defined extensions, and every defined one is enabled."""
    defined = set(config.get("extensions") or {})
    enabled = list((config.get("service") or {}).get("extensions") or [])
    problems = [f"extension {e} enabled but not defined" for e in enabled if e not in defined]
    problems += [f"extension {e} defined but not enabled" for e in sorted(defined - set(enabled))]
    return problems


def type_problems(config: dict[str, Any]) -> list[str]:
    """Every component id's type (before any '/name') is a contrib component of that kind."""
    return [
        f"{kind[:-1]} {component}: type {_type(component)!r} is not in otelcol-contrib"
        for kind in KINDS
        for component in config.get(kind) or {}
        if _type(component) not in CONTRIB_TYPES[kind]
    ]


def env_problems(text: str, readme: str) -> list[str]:
    """Only ${env:VAR} placeholders, each documented as `VAR` in the README."""
    problems = [
        f"placeholder ${{{body}}} is not ${{env:NAME}} or ${{env:NAME:-default}}"
        for body in ANY_PLACEHOLDER.findall(text)
        if not ENV_PLACEHOLDER.fullmatch(f"${{{body}}}")
    ]
    for name in sorted(set(ENV_PLACEHOLDER.findall(text))):
        if f"`{name}`" not in readme:
            problems.append(f"${{env:{name}}} is not documented in collector-config/README.md")
    return problems


def _ottl_string_args(statement: str) -> list[str]:
    return re.findall(r'"((?:[^"\\]|\\.)*)"', statement)


_WHERE_NAME = re.compile(r'^(.*) where IsMatch\(name, "((?:[^"\\]|\\.)*)"\)$')


def strip_keys(
    config: dict[str, Any],
    processor_id: str,
    keys: list[str],
    context: str = "span",
    event_name: str = "",
) -> set[str]:
    """Apply a context's delete_key / delete_matching_keys to ``keys``; return what stays.

    A statement with ``where IsMatch(name, RE)`` (span events) applies when ``event_name``
    matches RE; any other ``where`` is not understood here and fails the check.
    """
    remaining = set(keys)
    for group in config["processors"][processor_id].get("trace_statements") or []:
        if group.get("context") != context:
            continue
        for statement in group.get("statements") or []:
            if " where " in statement:
                match = _WHERE_NAME.match(statement)
                assert match, f"condition not understood by this check: {statement}"
                statement, name_pattern = match.groups()
                if not re.search(name_pattern, event_name):
                    continue
            args = _ottl_string_args(statement)
            if statement.startswith("delete_key(attributes,"):
                remaining.discard(args[0])
            elif statement.startswith("delete_matching_keys(attributes,"):
                pattern = re.compile(args[0])
                remaining = {k for k in remaining if not pattern.search(k)}
            else:
                raise AssertionError(f"statement not understood by this check: {statement}")
    return remaining


def deleted_by_name(config: dict[str, Any], processor_id: str, context: str) -> set[str]:
    """The keys a context's unconditional ``delete_key`` statements name."""
    return {
        _ottl_string_args(s)[0]
        for group in config["processors"][processor_id]["trace_statements"]
        if group["context"] == context
        for s in group["statements"]
        if s.startswith("delete_key(attributes,") and " where " not in s
    }


def langfuse_problems(config: dict[str, Any]) -> list[str]:
    """Every pipeline exporting to Langfuse strips PII first; the stripper really strips."""
    problems: list[str] = []
    exporters = config.get("exporters") or {}
    langfuse = [e for e in exporters if "langfuse" in e]
    if not langfuse:
        return ["no Langfuse exporter"]
    pipelines = config["service"]["pipelines"]
    for pipeline_id, pipeline in pipelines.items():
        if not set(pipeline.get("exporters") or []) & set(langfuse):
            continue
        strippers = [p for p in pipeline.get("processors") or [] if _type(p) == "transform"]
        if not strippers:
            problems.append(f"pipeline {pipeline_id} exports to Langfuse without stripping PII")
            continue
        left = set(PII_KEYS)
        for stripper in strippers:
            left &= strip_keys(config, stripper, PII_KEYS)
        problems += [f"pipeline {pipeline_id} leaves {key} for Langfuse" for key in sorted(left)]
        lost = set(KEPT_KEYS) - set.intersection(
            *(strip_keys(config, s, KEPT_KEYS) for s in strippers)
        )
        problems += [f"pipeline {pipeline_id} strips non-PII {key}" for key in sorted(lost)]
    return problems


# --- tests ---------------------------------------------------------------------------------


def test_config_dir_has_the_expected_files() -> None:
    names = {p.name for p in YAML_FILES}
    assert {"agent.yaml", "agent-loadbalancing.yaml", "gateway.yaml"} <= names
    assert [p.name for p in COMPOSE_FILES] == ["docker-compose.yaml"]
    assert set(YAML_FILES) == set(COLLECTOR_FILES) | set(COMPOSE_FILES)
    assert README.is_file()
    assert MANIFEST.is_file()


def test_manifest_pins_one_release_and_one_module_per_component_type() -> None:
    """Every component module at 0.161.0 (providers at its stable 1.67.0); one per type used."""
    manifest = _load(MANIFEST)
    used: dict[str, set[str]] = {kind: set() for kind in KINDS}
    for path in COLLECTOR_FILES:
        for kind in KINDS:
            used[kind] |= {_type(c) for c in _load(path).get(kind) or {}}
    for kind in KINDS:
        modules = [entry["gomod"].split() for entry in manifest[kind]]
        assert {version for _, version in modules} == {"v0.161.0"}, kind
        assert len(modules) == len(used[kind]), (kind, sorted(used[kind]))
    assert {e["gomod"].split()[1] for e in manifest["providers"]} == {"v1.67.0"}


@pytest.mark.parametrize("path", COLLECTOR_FILES, ids=lambda p: p.name)
def test_pipelines_name_defined_components(path: Path) -> None:
    assert pipeline_problems(_load(path)) == []


@pytest.mark.parametrize("path", COLLECTOR_FILES, ids=lambda p: p.name)
def test_extensions_are_defined_and_enabled(path: Path) -> None:
    assert extension_problems(_load(path)) == []


@pytest.mark.parametrize("path", COLLECTOR_FILES, ids=lambda p: p.name)
def test_component_types_exist_in_contrib(path: Path) -> None:
    assert type_problems(_load(path)) == []


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: p.name)
def test_env_placeholders_are_documented(path: Path) -> None:
    text, readme = path.read_text(), README.read_text()
    if path in COMPOSE_FILES:  # compose interpolates ${VAR}, ${VAR:-default} from the shell
        missing = {n for n in COMPOSE_PLACEHOLDER.findall(text) if f"`{n}`" not in readme}
        assert missing == set()
    else:
        assert env_problems(text, readme) == []


def test_compose_mounts_existing_configs_and_runs_them() -> None:
    compose = _load(CONFIG_DIR / "docker-compose.yaml")
    services = compose["services"]
    collectors = {n: s for n, s in services.items() if "opentelemetry-collector" in s["image"]}
    assert {"gateway", "agent"} <= set(collectors)
    assert services["jaeger"]["image"] == "jaegertracing/jaeger:2.13.0"
    for service in collectors.values():  # the release the configs are tested with
        assert service["image"] == "otel/opentelemetry-collector-contrib:0.161.0"
    mounted_configs: set[str] = set()
    for name, service in collectors.items():
        mounts = {}
        for volume in service.get("volumes", []):
            source, target = volume.split(":")[:2]
            assert (CONFIG_DIR / source).is_file(), f"{name} mounts missing {source}"
            mounts[target] = Path(source).name
        [config_arg] = [a for a in service["command"] if a.startswith("--config=")]
        target = config_arg.removeprefix("--config=")
        assert target in mounts, f"{name} runs {target}, which is not mounted"
        mounted_configs.add(mounts[target])
    assert mounted_configs == {p.name for p in COLLECTOR_FILES}
    agent_env = collectors["agent"]["environment"]
    assert agent_env["LK_OTEL_GATEWAY_ENDPOINT"].split(":")[0] == "gateway"
    assert collectors["agent-lb"]["environment"]["LK_OTEL_GATEWAY_DNS_NAME"] == "gateway"
    assert collectors["gateway"]["environment"]["JAEGER_OTLP_ENDPOINT"].startswith("jaeger:")


def test_agent_forwards_to_the_gateway_endpoint() -> None:
    agent = _load(CONFIG_DIR / "agent.yaml")
    [exporter_id] = agent["exporters"]
    assert _type(exporter_id) == "otlp_grpc"
    assert agent["exporters"][exporter_id]["endpoint"] == "${env:LK_OTEL_GATEWAY_ENDPOINT}"
    pipelines = agent["service"]["pipelines"]
    assert {"traces", "metrics"} <= set(pipelines)
    for pipeline in pipelines.values():
        assert pipeline["processors"] == ["memory_limiter", "batch"]
    protocols = agent["receivers"]["otlp"]["protocols"]
    assert protocols["grpc"]["endpoint"].endswith(":4317}")
    assert protocols["http"]["endpoint"].endswith(":4318}")


def test_load_balancing_agent_routes_traces_by_trace_id() -> None:
    agent = _load(CONFIG_DIR / "agent-loadbalancing.yaml")
    pipelines = agent["service"]["pipelines"]
    [traces_exporter] = pipelines["traces"]["exporters"]
    assert _type(traces_exporter) == "load_balancing"
    assert agent["exporters"][traces_exporter]["routing_key"] == "traceID"
    [metrics_exporter] = pipelines["metrics"]["exporters"]
    assert agent["exporters"][metrics_exporter]["routing_key"] in {"resource", "service"}


def test_gateway_tail_sampling_policies() -> None:
    gateway = _load(CONFIG_DIR / "gateway.yaml")
    policies = {p["type"]: p for p in gateway["processors"]["tail_sampling"]["policies"]}
    assert policies["status_code"]["status_code"]["status_codes"] == ["ERROR"]
    conditions = policies["ottl_condition"]["ottl_condition"]["span"]
    assert conditions == [
        f'attributes["{key}"] > ${{env:LK_OTEL_SLOW_TURN_SECONDS:-1.5}}'
        for key in ("lk_otel.session.e2e_latency.max", "lk_otel.turn.e2e_latency")
    ]
    # the whole call is decided when its root span (agent_session) arrives
    tail = gateway["processors"]["tail_sampling"]
    # a number with the unit appended: an empty variable is an invalid duration, not 0
    assert tail["decision_wait_after_root_received"] == "${env:LK_OTEL_TAIL_ROOT_WAIT_SECONDS:-5}s"
    assert tail["decision_wait"] == "${env:LK_OTEL_TAIL_DECISION_WAIT_MINUTES:-30}m"
    assert "numeric_attribute" not in policies  # integer-only: never fires on float seconds
    assert "sampling_percentage" in policies["probabilistic"]["probabilistic"]
    # sampling happens once, upstream of both trace backends
    pipelines = gateway["service"]["pipelines"]
    assert pipelines["traces"]["processors"] == ["memory_limiter", "tail_sampling"]
    [fan_out] = pipelines["traces"]["exporters"]
    backends = {e for p in pipelines.values() if fan_out in p["receivers"] for e in p["exporters"]}
    assert backends == {"otlp_grpc/jaeger", "otlp_http/langfuse"}


def test_gateway_strips_pii_only_before_langfuse() -> None:
    gateway = _load(CONFIG_DIR / "gateway.yaml")
    assert langfuse_problems(gateway) == []
    pipelines = gateway["service"]["pipelines"]
    langfuse = pipelines["traces/langfuse"]["processors"]
    assert langfuse.index("transform/strip_pii") < langfuse.index("batch")
    assert "transform/strip_pii" not in pipelines["traces/jaeger"]["processors"]  # full spans
    statements = " ".join(
        s
        for group in gateway["processors"]["transform/strip_pii"]["trace_statements"]
        for s in group["statements"]
    )
    assert 'delete_matching_keys(attributes, "(^|[.])pii([.]|$)")' in statements
    assert "IsMatch(name" in statements  # message content in gen_ai.* span events
    event_keys = ["lk.pii.user_input", "gen_ai.input.messages", "lk_otel.pii.text", "gen_ai.x"]
    left = strip_keys(gateway, "transform/strip_pii", event_keys, context="spanevent")
    assert left == {"gen_ai.x"}


@pytest.mark.parametrize("context", ["span", "spanevent"])
def test_strip_rules_name_exactly_the_content_keys(context: str) -> None:
    """The gateway's delete_key list is lk_otel.content_keys' list, key for key."""
    gateway = _load(CONFIG_DIR / "gateway.yaml")
    named = deleted_by_name(gateway, "transform/strip_pii", context)
    unmarked = {k for k in ck.all_content_keys() if "pii" not in k.split(".")}
    assert sorted(named - unmarked) == []  # not on the list: remove it or add it there
    assert sorted(unmarked - named) == []  # on the list, not stripped by name


@pytest.mark.parametrize("release", ck.SUPPORTED_RELEASES)
@pytest.mark.parametrize("context", ["span", "spanevent"])
def test_strip_rules_remove_every_content_key_of_each_release(release: str, context: str) -> None:
    gateway = _load(CONFIG_DIR / "gateway.yaml")
    keys = sorted(ck.content_keys(release).keys | ck.livekit_keys(release))
    assert strip_keys(gateway, "transform/strip_pii", keys, context=context) == set()
    assert strip_keys(gateway, "transform/strip_pii", KEPT_KEYS, context=context) == set(KEPT_KEYS)


@pytest.mark.parametrize("event", sorted(ck.CONTENT_EVENT_NAMES))
def test_strip_rules_empty_the_genai_message_events(event: str) -> None:
    gateway = _load(CONFIG_DIR / "gateway.yaml")
    keys = ["content", "tool_calls", "message", "role", "name", "id"]
    left = strip_keys(gateway, "transform/strip_pii", keys, "spanevent", event_name=event)
    assert left == {"role", "name", "id"}
    # other events keep a `content` attribute (only GenAI message events hold the chat)
    other = strip_keys(gateway, "transform/strip_pii", keys, "spanevent", event_name="exception")
    assert other == set(keys)


def test_gateway_langfuse_exporter_and_metrics() -> None:
    gateway = _load(CONFIG_DIR / "gateway.yaml")
    langfuse = gateway["exporters"]["otlp_http/langfuse"]
    assert re.fullmatch(
        r"\$\{env:LANGFUSE_HOST(:-https://[^}]+)?\}/api/public/otel", langfuse["endpoint"]
    )
    assert langfuse["headers"] == {
        "Authorization": "Basic ${env:LANGFUSE_AUTH}",
        "x-langfuse-ingestion-version": "4",
    }
    assert gateway["exporters"]["prometheus"]["endpoint"].endswith(":8889}")
    assert gateway["service"]["pipelines"]["metrics"]["exporters"] == ["prometheus"]


# --- the checks can fail -------------------------------------------------------------------


@pytest.fixture
def gateway() -> dict[str, Any]:
    return copy.deepcopy(_load(CONFIG_DIR / "gateway.yaml"))


def test_checks_catch_an_undefined_processor(gateway: dict[str, Any]) -> None:
    gateway["service"]["pipelines"]["traces/jaeger"]["processors"].append("attributes/typo")
    assert pipeline_problems(gateway) == [
        "pipeline traces/jaeger: processor attributes/typo undefined"
    ]


def test_checks_catch_wiring_mistakes(gateway: dict[str, Any]) -> None:
    pipelines = gateway["service"]["pipelines"]
    pipelines["traces"]["processors"].reverse()  # memory_limiter no longer first
    del pipelines["traces/jaeger"]  # forward/sampled still wired; otlp_grpc/jaeger unused
    gateway["service"]["extensions"].append("zpages/missing")
    assert set(pipeline_problems(gateway)) == {
        "pipeline traces: memory_limiter must come first",
        "exporter otlp_grpc/jaeger is defined but in no pipeline",
    }
    assert extension_problems(gateway) == ["extension zpages/missing enabled but not defined"]


def test_checks_catch_unknown_types_and_undocumented_env(gateway: dict[str, Any]) -> None:
    gateway["processors"]["tailsampling"] = gateway["processors"].pop("tail_sampling")
    assert type_problems(gateway) == [
        "processor tailsampling: type 'tailsampling' is not in otelcol-contrib"
    ]
    text = "endpoint: ${env:UNDOCUMENTED_VAR}\nold: ${LEGACY}\n"
    assert env_problems(text, README.read_text()) == [
        "placeholder ${LEGACY} is not ${env:NAME} or ${env:NAME:-default}",
        "${env:UNDOCUMENTED_VAR} is not documented in collector-config/README.md",
    ]


def test_checks_catch_pii_reaching_langfuse(gateway: dict[str, Any]) -> None:
    statements = gateway["processors"]["transform/strip_pii"]["trace_statements"][0]["statements"]
    statements.remove('delete_matching_keys(attributes, "(^|[.])pii([.]|$)")')
    statements.remove('delete_key(attributes, "lk.chat_ctx")')
    problems = langfuse_problems(gateway)
    assert "pipeline traces/langfuse leaves lk.chat_ctx for Langfuse" in problems
    assert "pipeline traces/langfuse leaves lk.pii.chat_ctx for Langfuse" in problems
    assert "pipeline traces/langfuse leaves lk_otel.turn.pii.user_text for Langfuse" in problems
    assert "pipeline traces/langfuse leaves gen_ai.input.messages for Langfuse" not in problems
    statements.append('delete_matching_keys(attributes, "^lk[.]")')
    assert "pipeline traces/langfuse strips non-PII lk.speech_id" in langfuse_problems(gateway)
    gateway["service"]["pipelines"]["traces/langfuse"]["processors"] = ["batch"]
    assert langfuse_problems(gateway) == [
        "pipeline traces/langfuse exports to Langfuse without stripping PII"
    ]
