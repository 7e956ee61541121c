"""Helpers shared by the collector tests: each config's environment on free loopback ports,
and one simulated call traced through ``setup_tracing()`` to an agent collector."""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import lk_otel
from lk_otel import semconv as sc
from lk_otel.simulation import Scenario, load_scenario, run_scenario
from support.otlp_receiver import OtlpReceiver
from support.ports import free_port

SLOW_SECONDS = 0.35  # the gateway's LK_OTEL_SLOW_TURN_SECONDS in these tests
SLOW_SPEED, FAST_SPEED = 4.0, 16.0  # session e2e max measured: 0.65 s and 0.14 s


def short_call() -> Scenario:
    """The built-in scenario's greeting and first turn (a tool call, then the reply)."""
    scenario = load_scenario(None)
    return scenario.model_copy(update={"turns": scenario.turns[:1]})


def gateway_env(
    langfuse: OtlpReceiver, jaeger: OtlpReceiver, grpc_listen: str = ""
) -> tuple[dict[str, str], int]:
    """gateway.yaml's environment: sinks ``langfuse`` (HTTP) and ``jaeger`` (gRPC), the slow
    rule at SLOW_SECONDS, 0 % of the rest; (env, health port)."""
    health = free_port()
    env = {
        "LK_OTEL_HEALTH_ENDPOINT": f"127.0.0.1:{health}",
        "LK_OTEL_PPROF_ENDPOINT": f"127.0.0.1:{free_port()}",
        "LK_OTEL_ZPAGES_ENDPOINT": f"127.0.0.1:{free_port()}",
        "LK_OTEL_TELEMETRY_PORT": str(free_port()),
        "LK_OTEL_GATEWAY_GRPC_LISTEN": grpc_listen or f"127.0.0.1:{free_port()}",
        "LK_OTEL_GATEWAY_HTTP_LISTEN": f"127.0.0.1:{free_port()}",
        "LK_OTEL_PROMETHEUS_ENDPOINT": f"127.0.0.1:{free_port()}",
        "LK_OTEL_SLOW_TURN_SECONDS": str(SLOW_SECONDS),
        "LK_OTEL_SAMPLE_PERCENT": "0",
        "LK_OTEL_TAIL_ROOT_WAIT_SECONDS": "1",
        "LK_OTEL_TAIL_DECISION_WAIT_MINUTES": "5",
        "JAEGER_OTLP_ENDPOINT": f"127.0.0.1:{jaeger.grpc_port}",
        "LANGFUSE_HOST": langfuse.http_endpoint,
        "LANGFUSE_AUTH": "cGstbGYtdGVzdDpzay1sZi10ZXN0",
    }
    return env, health


def agent_env(config_env: dict[str, str]) -> tuple[dict[str, str], int, int]:
    """An agent config's environment plus ``config_env``; (env, health port, OTLP/gRPC port)."""
    health, grpc = free_port(), free_port()
    env = {
        "LK_OTEL_HEALTH_ENDPOINT": f"127.0.0.1:{health}",
        "LK_OTEL_TELEMETRY_PORT": str(free_port()),
        "LK_OTEL_AGENT_GRPC_ENDPOINT": f"127.0.0.1:{grpc}",
        "LK_OTEL_AGENT_HTTP_ENDPOINT": f"127.0.0.1:{free_port()}",
        **config_env,
    }
    return env, health, grpc


async def traced_call(agent_grpc: int, speed: float) -> tuple[str, list[Any]]:
    """One call through setup_tracing() to the agent collector; (trace id, spans as sent)."""
    sent = InMemorySpanExporter()
    endpoint = f"http://127.0.0.1:{agent_grpc}"
    handle = lk_otel.setup_tracing(
        [lk_otel.OTLP(endpoint=endpoint, protocol="grpc"), sent],
        allow_pii=True,
        schedule_delay=0.05,
    )
    try:
        await run_scenario(short_call(), speed=speed)
        assert handle.force_flush(10)
    finally:
        handle.shutdown(5)
    spans = list(sent.get_finished_spans())
    (root,) = [s for s in spans if s.name == sc.SPAN_AGENT_SESSION]
    return f"{root.context.trace_id:032x}", spans
