"""A call through agent.yaml → gateway.yaml → a real Jaeger v2, read back via its query API.

Jaeger is built from its Go module by ``make jaeger`` (``.tools/jaeger``); the collector by
``make otelcol``. Without them these tests skip, except on CI (CI=true), where they fail.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from typing import Any

import pytest

from lk_otel import _compat
from lk_otel import semconv as sc
from support.collector import (
    CONFIG_DIR,
    JAEGER_CONFIG,
    Collector,
    collector_binary,
    jaeger_binary,
)
from support.collector_calls import SLOW_SECONDS, SLOW_SPEED, agent_env, gateway_env, traced_call
from support.otlp_receiver import OtlpReceiver
from support.ports import free_port

pytestmark = pytest.mark.slow

STAGES = (sc.STAGE_END_OF_TURN, sc.STAGE_TRANSCRIPTION, sc.STAGE_LLM, sc.STAGE_TTS)


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def jaeger_trace() -> tuple[list[Any], dict[str, Any]]:
    """(spans as sent, the trace as Jaeger's query API returns it)."""
    collector_binary()
    binary = jaeger_binary()
    query, otlp = free_port(), free_port()
    env = {
        "JAEGER_TEST_QUERY_PORT": str(query),
        "JAEGER_TEST_QUERY_GRPC_PORT": str(free_port()),
        "JAEGER_TEST_OTLP_GRPC_PORT": str(otlp),
    }
    jaeger = Collector(
        JAEGER_CONFIG, env, query, binary=binary, ready_path="/api/services", name="jaeger"
    )
    with jaeger, OtlpReceiver() as langfuse, OtlpReceiver() as unused:
        genv, ghealth = gateway_env(langfuse, unused)
        genv["JAEGER_OTLP_ENDPOINT"] = f"127.0.0.1:{otlp}"
        with Collector(CONFIG_DIR / "gateway.yaml", genv, ghealth, name="gateway"):
            aenv, ahealth, agrpc = agent_env(
                {"LK_OTEL_GATEWAY_ENDPOINT": genv["LK_OTEL_GATEWAY_GRPC_LISTEN"]}
            )
            with Collector(CONFIG_DIR / "agent.yaml", aenv, ahealth, name="agent"):
                trace_id, sent = asyncio.run(traced_call(agrpc, SLOW_SPEED))
                url = f"http://127.0.0.1:{query}/api/traces/{trace_id}"
                deadline = time.monotonic() + 30
                data: dict[str, Any] = {}
                while time.monotonic() < deadline:
                    try:
                        found = _get(url)["data"]
                    except OSError:  # 404 until the trace is there
                        found = []
                    if found and len(found[0]["spans"]) >= len(sent):
                        data = found
                        break
                    time.sleep(0.5)
                assert data, f"trace {trace_id} not complete in Jaeger: {jaeger.log[-2000:]}"
    return sent, data


def _tags(span: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["key"]: t for t in span["tags"]}


def test_jaeger_holds_the_call_as_one_trace_with_every_span(
    jaeger_trace: tuple[list[Any], dict[str, Any]],
) -> None:
    sent, data = jaeger_trace
    assert len(data) == 1
    spans = data[0]["spans"]
    assert {s["spanID"] for s in spans} == {f"{s.context.span_id:016x}" for s in sent}
    assert len(spans) == len(sent)
    assert {s["traceID"] for s in spans} == {data[0]["traceID"]}


def test_lk_otel_figures_are_numbers_in_jaeger(
    jaeger_trace: tuple[list[Any], dict[str, Any]],
) -> None:
    _, data = jaeger_trace
    spans = data[0]["spans"]
    (session,) = [s for s in spans if s["operationName"] == sc.SPAN_AGENT_SESSION]
    tags = _tags(session)
    assert tags[sc.SESSION_E2E_MAX]["type"] == "float64"
    assert tags[sc.SESSION_E2E_MAX]["value"] > SLOW_SECONDS
    assert tags[sc.SESSION_INPUT_TOKENS]["type"] == "int64"
    numeric = [
        (s["operationName"], t["key"], t["type"])
        for s in spans
        for t in s["tags"]
        if t["key"].startswith("lk_otel.")
        and ".pii." not in t["key"]  # the call's first/last text: content, not a figure
        and t["key"] not in (sc.SESSION_ID, sc.TURN_SESSION_ID, sc.SESSION_USAGE)
        and not t["key"].endswith(  # the names among the figures
            (".kind", ".model", ".provider", ".stage", ".slowest_stage", ".tool", "_model")
        )
        and not t["key"].endswith(("_provider", ".path_missing", ".missing", ".agent", ".agents"))
    ]
    assert numeric
    assert not [n for n in numeric if n[2] not in ("float64", "int64", "bool")]


def test_the_critical_path_hangs_under_its_turn_in_jaeger(
    jaeger_trace: tuple[list[Any], dict[str, Any]],
) -> None:
    _, data = jaeger_trace
    spans = data[0]["spans"]
    by_id = {s["spanID"]: s for s in spans}

    def parent(span: dict[str, Any]) -> dict[str, Any]:
        (ref,) = [r for r in span["references"] if r["refType"] == "CHILD_OF"]
        return by_id[ref["spanID"]]

    turn_name = _compat.agent_turn_span_name()
    (waterfall,) = [s for s in spans if s["operationName"] == sc.SPAN_RESPONSE_LATENCY]
    assert parent(waterfall)["operationName"] == turn_name
    assert _tags(parent(waterfall))[sc.TURN_KIND]["value"] == "reply"
    children = [s for s in spans if parent_is(s, waterfall)]
    stages = {_tags(s)[sc.STAGE_NAME]["value"]: s for s in children}
    assert set(STAGES) <= set(stages)
    for name in STAGES:
        stage = stages[name]
        assert stage["startTime"] >= waterfall["startTime"] - 1000  # µs; clock rounding
        assert _tags(stage)[sc.STAGE_DURATION]["type"] == "float64"
        assert _tags(stage)[sc.STAGE_CRITICAL]["type"] == "bool"
    critical = sorted(
        (s for s in children if _tags(s)[sc.STAGE_CRITICAL]["value"]),
        key=lambda s: s["startTime"],
    )  # the path read back from Jaeger tiles response_latency (µs, 5 ms)
    assert abs(critical[0]["startTime"] - waterfall["startTime"]) <= 5000
    end = waterfall["startTime"] + waterfall["duration"]
    assert abs(critical[-1]["startTime"] + critical[-1]["duration"] - end) <= 5000


def parent_is(span: dict[str, Any], other: dict[str, Any]) -> bool:
    return any(
        r["refType"] == "CHILD_OF" and r["spanID"] == other["spanID"] for r in span["references"]
    )
