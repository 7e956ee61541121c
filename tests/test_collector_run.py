"""collector-config/ run for real: the collector built by ``make otelcol`` (.tools/otelcol-lk).

``validate`` on every config; then a simulated call exported by ``setup_tracing()`` → the agent
config → the gateway config → sinks on loopback: the in-process OTLP receiver stands in for
Langfuse's endpoint (OTLP/HTTP) and for Jaeger (OTLP/gRPC), the gateway's Prometheus exporter
is scraped over HTTP. Two gateways behind agent-loadbalancing.yaml each get whole traces.
Without the binary these tests skip, except on CI (CI=true), where they fail.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from lk_otel import content_keys as ck
from lk_otel import semconv as sc
from lk_otel.simulation import Scenario
from support.collector import (
    CONFIG_DIR,
    Collector,
    CollectorError,
    collector_binary,
    validate,
)
from support.collector_calls import (
    FAST_SPEED,
    SLOW_SECONDS,
    SLOW_SPEED,
    agent_env,
    gateway_env,
    short_call,
    traced_call,
)
from support.otlp_receiver import OtlpReceiver, SpanRecord
from support.ports import free_port

CONFIGS = ["agent.yaml", "agent-loadbalancing.yaml", "gateway.yaml"]
REQUIRED_ENV = {  # the variables without a default, set to something valid
    "LK_OTEL_GATEWAY_ENDPOINT": "127.0.0.1:4317",
    "LK_OTEL_GATEWAY_DNS_NAME": "localhost",
    "LANGFUSE_AUTH": "cGs6c2s=",
}
LB_CALLS = 8  # traces over two gateways: all on one has probability 2 * 0.5**8 < 1 %


def _installed_release() -> str:
    from livekit.agents import __version__

    return __version__


def _content_keys() -> ck.ContentKeys:
    release = _installed_release()
    if release in ck.SUPPORTED_RELEASES:
        return ck.content_keys(release)
    return ck.ContentKeys(release, ck.all_content_keys())


def _content_strings(scenario: Scenario) -> set[str]:
    """Text the call's people and models produced: none of it may reach Langfuse."""
    texts = {scenario.instructions}
    for turn in scenario.turns:
        texts.add(turn.user.text)
        texts |= {call.text for call in turn.llm if call.text}
    return {t for t in texts if len(t) > 12}


def _values(span: SpanRecord) -> str:
    """Every attribute value of the span and its events, as one string."""
    parts = [json.dumps(span.attributes, default=str)]
    parts += [json.dumps(e.attributes, default=str) for e in span.events]
    return "\n".join(parts)


# --- validate ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", CONFIGS)
def test_the_collector_accepts_every_config(name: str) -> None:
    done = validate(CONFIG_DIR / name, REQUIRED_ENV)
    assert done.returncode == 0, f"otelcol-lk rejected {name}:\n{done.stderr}{done.stdout}"


def test_the_built_collector_has_exactly_the_components_the_configs_use() -> None:
    done = subprocess.run(
        [str(collector_binary()), "components"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    built = yaml.safe_load(done.stdout)
    used: dict[str, set[str]] = {}
    for name in CONFIGS:
        config = yaml.safe_load((CONFIG_DIR / name).read_text())
        for kind in ("receivers", "processors", "exporters", "connectors", "extensions"):
            used.setdefault(kind, set()).update(c.split("/")[0] for c in config.get(kind) or {})
    for kind, types in used.items():
        assert {c["name"] for c in built[kind]} == types, kind


@pytest.mark.parametrize(
    ("variable", "message"),
    [
        ("LK_OTEL_TAIL_DECISION_WAIT_MINUTES", "'decision_wait' time: invalid duration"),
        ("LK_OTEL_TAIL_ROOT_WAIT_SECONDS", "'decision_wait_after_root_received' time: invalid"),
        ("JAEGER_OTLP_ENDPOINT", 'otlp_grpc/jaeger: requires a non-empty "endpoint"'),
    ],
)
def test_an_empty_variable_is_rejected_by_validate(variable: str, message: str) -> None:
    done = validate(CONFIG_DIR / "gateway.yaml", {**REQUIRED_ENV, variable: ""})
    assert done.returncode != 0
    assert message in done.stderr


def test_an_empty_slow_turn_threshold_stops_the_gateway_at_startup() -> None:
    with OtlpReceiver() as langfuse, OtlpReceiver() as jaeger:
        env, health = gateway_env(langfuse, jaeger)
        env["LK_OTEL_SLOW_TURN_SECONDS"] = ""
        gateway = Collector(CONFIG_DIR / "gateway.yaml", env, health, name="gateway-empty")
        with pytest.raises(CollectorError) as failed:
            gateway.start(timeout=20)
        gateway.stop()
    log = str(failed.value)
    assert "references empty environment variable" in log
    assert "LK_OTEL_SLOW_TURN_SECONDS" in log
    assert 'failed to create policy evaluator for "keep-slow-calls"' in log
    assert "condition has invalid syntax" in log


# --- the pipeline ----------------------------------------------------------------------------


@dataclasses.dataclass
class Stack:
    """Receivers standing in for Langfuse and Jaeger, a gateway, an agent collector."""

    langfuse: OtlpReceiver
    jaeger: OtlpReceiver
    gateway_env: dict[str, str]
    agent_grpc: int
    gateway: Collector


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    collector_binary()
    with OtlpReceiver() as langfuse, OtlpReceiver() as jaeger:
        genv, ghealth = gateway_env(langfuse, jaeger)
        with Collector(CONFIG_DIR / "gateway.yaml", genv, ghealth, name="gateway") as gateway:
            aenv, ahealth, agrpc = agent_env(
                {"LK_OTEL_GATEWAY_ENDPOINT": genv["LK_OTEL_GATEWAY_GRPC_LISTEN"]}
            )
            with Collector(CONFIG_DIR / "agent.yaml", aenv, ahealth, name="agent"):
                yield Stack(langfuse, jaeger, genv, agrpc, gateway)


def _session_max(spans: list[Any]) -> float:
    (root,) = [s for s in spans if s.name == sc.SPAN_AGENT_SESSION]
    return float(root.attributes[sc.SESSION_E2E_MAX])


@pytest.fixture(scope="module")
def calls(stack: Stack) -> dict[str, tuple[str, list[Any]]]:
    """A fast call, then a slow one, through the stack (the fast one is decided first)."""
    fast = asyncio.run(traced_call(stack.agent_grpc, FAST_SPEED))
    slow = asyncio.run(traced_call(stack.agent_grpc, SLOW_SPEED))
    assert _session_max(fast[1]) < SLOW_SECONDS < _session_max(slow[1]), (
        "the simulated calls did not straddle the threshold: "
        f"fast {_session_max(fast[1]):.3f} s, slow {_session_max(slow[1]):.3f} s"
    )
    slow_id = slow[0]
    for sink in (stack.jaeger, stack.langfuse):
        sink.wait_for_spans(
            lambda s: s.trace_id == slow_id and s.name == sc.SPAN_AGENT_SESSION, timeout=30
        )
    time.sleep(1.5)  # the batch after the root (timeout 2 s, flushed by the root's batch)
    return {"fast": fast, "slow": slow}


def _of_trace(receiver: OtlpReceiver, trace_id: str) -> list[SpanRecord]:
    return [s for s in receiver.spans() if s.trace_id == trace_id]


@pytest.mark.slow
def test_a_call_with_a_slow_turn_arrives_whole_in_jaeger_and_langfuse(
    stack: Stack, calls: dict[str, tuple[str, list[Any]]]
) -> None:
    trace_id, sent = calls["slow"]
    sent_ids = {f"{s.context.span_id:016x}" for s in sent}
    for sink in (stack.jaeger, stack.langfuse):
        got = _of_trace(sink, trace_id)
        assert {s.span_id for s in got} == sent_ids
        assert len(got) == len(sent_ids)  # each span once
    assert {s.transport for s in _of_trace(stack.jaeger, trace_id)} == {"grpc"}
    langfuse_requests = [r for r in stack.langfuse.requests if r.signal == "traces"]
    assert {r.path for r in langfuse_requests} == {"/api/public/otel/v1/traces"}
    assert {r.headers.get("x-langfuse-ingestion-version") for r in langfuse_requests} == {"4"}
    assert {r.headers.get("authorization") for r in langfuse_requests} == {
        "Basic cGstbGYtdGVzdDpzay1sZi10ZXN0"
    }


@pytest.mark.slow
def test_a_fast_call_is_dropped_by_tail_sampling(
    stack: Stack, calls: dict[str, tuple[str, list[Any]]]
) -> None:
    trace_id, sent = calls["fast"]
    assert len(sent) > 10
    assert _of_trace(stack.jaeger, trace_id) == []
    assert _of_trace(stack.langfuse, trace_id) == []


@pytest.mark.slow
def test_langfuse_gets_none_of_the_content_and_jaeger_all_of_it(
    stack: Stack, calls: dict[str, tuple[str, list[Any]]]
) -> None:
    trace_id, sent = calls["slow"]
    keys = _content_keys()
    sent_keys = {k for s in sent for k in (s.attributes or {})}
    content_sent = sorted(k for k in sent_keys if keys.matches(k))
    assert content_sent, "PII on: the call should have carried content keys"
    texts = _content_strings(short_call())

    jaeger = _of_trace(stack.jaeger, trace_id)
    jaeger_keys = {k for s in jaeger for k in s.attributes}
    assert set(content_sent) <= jaeger_keys
    jaeger_text = "\n".join(_values(s) for s in jaeger)
    assert {t for t in texts if t not in jaeger_text} == set()

    langfuse = _of_trace(stack.langfuse, trace_id)
    leaked = sorted({k for s in langfuse for k in s.attributes if keys.matches(k)})
    assert leaked == []
    event_leaks = sorted(
        {
            f"{e.name}:{k}"
            for s in langfuse
            for e in s.events
            for k in e.attributes
            if keys.matches(k) or (e.name in ck.CONTENT_EVENT_NAMES and k in ck.CONTENT_EVENT_KEYS)
        }
    )
    assert event_leaks == []
    langfuse_text = "\n".join(_values(s) for s in langfuse)
    assert sorted(t for t in texts if t in langfuse_text) == []
    # the figures stay
    (root,) = [s for s in langfuse if s.name == sc.SPAN_AGENT_SESSION]
    assert isinstance(root.attributes[sc.SESSION_E2E_MAX], float)
    assert root.attributes[sc.SESSION_E2E_MAX] > SLOW_SECONDS


@pytest.mark.slow
def test_metrics_reach_the_gateways_prometheus_endpoint(stack: Stack) -> None:
    script = Path(__file__).parent / "support" / "metrics_call.py"
    env = {
        **os.environ,
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{stack.agent_grpc}",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
        "OTEL_METRIC_EXPORT_INTERVAL": "500",
        "PYTHONPATH": os.pathsep.join(
            [str(Path(__file__).parents[1]), os.environ.get("PYTHONPATH", "")]
        ),
    }
    done = subprocess.run(
        [sys.executable, str(script), "16"], env=env, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr[-2000:]
    replies = json.loads(done.stdout.strip().splitlines()[-1])["replies"]
    url = f"http://{stack.gateway_env['LK_OTEL_PROMETHEUS_ENDPOINT']}/metrics"
    deadline = time.monotonic() + 20
    count = None
    while time.monotonic() < deadline:
        with urllib.request.urlopen(url, timeout=5) as response:
            text = response.read().decode()
        counts = [
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("lk_otel_turn_e2e_latency_seconds_count")
        ]
        if counts and sum(counts) >= replies:
            count = sum(counts)
            break
        time.sleep(0.5)
    assert count == replies, f"no lk_otel_turn_e2e_latency_seconds_count == {replies} at {url}"
    assert "lk_otel_turn_e2e_latency_seconds_bucket{" in text
    assert "target_info{" in text


# --- two gateways behind the load-balancing agent --------------------------------------------


@pytest.mark.slow
async def test_two_gateways_behind_the_load_balancer_each_get_whole_traces(
    tmp_path: Path,
) -> None:
    """Gateways on 127.0.0.1 and 127.0.0.2 at one port, each with its own Jaeger stand-in; a
    DNS name resolving to both (a private /etc/hosts for the agent collector, in its own mount
    namespace), as a headless Service or Compose service name would."""
    collector_binary()
    port = free_port()
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1 localhost\n127.0.0.1 lk-gateways\n127.0.0.2 lk-gateways\n")
    with OtlpReceiver() as langfuse, OtlpReceiver() as jaeger_1, OtlpReceiver() as jaeger_2:
        jaegers = {"127.0.0.1": jaeger_1, "127.0.0.2": jaeger_2}
        gateways = []
        for address, jaeger in jaegers.items():
            env, health = gateway_env(langfuse, jaeger, grpc_listen=f"{address}:{port}")
            env["LK_OTEL_SLOW_TURN_SECONDS"] = "0"  # keep every call: routing is under test
            gateways.append(Collector(CONFIG_DIR / "gateway.yaml", env, health, name=address))
        aenv, ahealth, agrpc = agent_env(
            {"LK_OTEL_GATEWAY_DNS_NAME": "lk-gateways", "LK_OTEL_GATEWAY_PORT": str(port)}
        )
        agent = Collector(
            CONFIG_DIR / "agent-loadbalancing.yaml", aenv, ahealth, hosts_file=hosts, name="lb"
        )
        try:
            for gateway in gateways:
                gateway.start()
            agent.start()
            calls = [await traced_call(agrpc, 16.0) for _ in range(LB_CALLS)]
            for trace_id, _ in calls:
                langfuse.wait_for_spans(
                    lambda s, t=trace_id: s.trace_id == t and s.name == sc.SPAN_AGENT_SESSION,
                    timeout=30,
                )
            time.sleep(2.5)  # the last batches after each root
        finally:
            agent.stop()
            for gateway in gateways:
                gateway.stop()
        per_gateway = {
            address: {s.trace_id for s in jaeger.spans()} for address, jaeger in jaegers.items()
        }
        for trace_id, sent in calls:
            owners = [a for a, traces in per_gateway.items() if trace_id in traces]
            assert len(owners) == 1, f"trace {trace_id} went through {owners}"
            got = _of_trace(jaegers[owners[0]], trace_id)
            assert {s.span_id for s in got} == {f"{s.context.span_id:016x}" for s in sent}
        assert all(per_gateway.values()), f"one gateway got no trace: {per_gateway}"


@pytest.mark.slow
def test_a_fast_call_with_an_error_span_is_kept_whole(stack: Stack) -> None:
    """Two fast synthetic calls (root ``agent_session`` + two children, e2e max 0.1 s): the one
    with a child of status ERROR is kept, the other dropped."""
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.trace import Status, StatusCode

    exporter = OTLPSpanExporter(endpoint=f"http://127.0.0.1:{stack.agent_grpc}", insecure=True)
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    trace_ids = {}
    for failing in (True, False):
        with tracer.start_as_current_span(sc.SPAN_AGENT_SESSION) as root:
            root.set_attribute(sc.SESSION_E2E_MAX, 0.1)
            with tracer.start_as_current_span("llm_request") as child:
                if failing:
                    child.set_status(Status(StatusCode.ERROR, "provider timed out"))
            with tracer.start_as_current_span("tts_request"):
                pass
        trace_ids[failing] = f"{root.get_span_context().trace_id:032x}"
    provider.shutdown()
    kept = trace_ids[True]
    stack.jaeger.wait_for_spans(
        lambda s: s.trace_id == kept and s.name == sc.SPAN_AGENT_SESSION, timeout=30
    )
    time.sleep(2.5)  # past the other call's decision
    assert len(_of_trace(stack.jaeger, kept)) == 3
    assert len(_of_trace(stack.langfuse, kept)) == 3
    assert _of_trace(stack.jaeger, trace_ids[False]) == []
    assert _of_trace(stack.langfuse, trace_ids[False]) == []
