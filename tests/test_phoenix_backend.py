"""Smoke test against a real Arize Phoenix: OTLP/HTTP and OTLP/gRPC spans arrive intact."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
    OTLPSpanExporter as GrpcSpanExporter,
)
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as HttpSpanExporter,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from support.phoenix_server import PhoenixServer, Span

pytest_plugins = ["support.phoenix_fixtures"]

pytestmark = pytest.mark.phoenix

PROJECT_KEY = "openinference.project.name"
SPAN_KIND_KEY = "openinference.span.kind"


def _exporter(phoenix: PhoenixServer, transport: str) -> SpanExporter:
    if transport == "http":
        return HttpSpanExporter(endpoint=phoenix.traces_endpoint, timeout=10)
    return GrpcSpanExporter(endpoint=phoenix.grpc_endpoint, insecure=True, timeout=10)


def _record_turn(
    project: str, session_id: str
) -> tuple[list[ReadableSpan], dict[str, dict[str, Any]]]:
    """Make an agent_turn with an llm_request child and an untyped tts_node child.

    Returns the finished SDK spans and, per span name, the attributes set on it.
    """
    attributes: dict[str, dict[str, Any]] = {
        "agent_turn": {
            SPAN_KIND_KEY: "AGENT",
            "session.id": session_id,
            "lk.speech_id": "speech_3f2a",
            "lk.generation_count": 2,
            "lk.e2e_latency": 1.25,
            "lk.speech.queue_wait": 0.0,
            "lk.interrupted": False,
            "lk.function_tools": ["lookup_weather", "end_call"],
        },
        "llm_request": {
            SPAN_KIND_KEY: "LLM",
            "session.id": session_id,
            "llm.model_name": "fake-llm-1",
            "llm.token_count.prompt": 1234,
            "llm.token_count.completion": 56,
            "gen_ai.response.time_to_first_chunk": 0.321,
            "lk.cached": True,
            "lk.token_ids": [7, 0, -3],
            "lk.scores": [0.5, 2.0],
            "lk.flags": [True, False],
        },
        "tts_node": {"lk.response.ttfb": 0.087, "lk.tts.label": "fake-tts"},
    }
    memory = InMemorySpanExporter()
    provider = TracerProvider(
        resource=Resource.create({"service.name": "lk-otel-tests", PROJECT_KEY: project})
    )
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("lk-otel-tests")
    with tracer.start_as_current_span("agent_turn", attributes=attributes["agent_turn"]):
        with tracer.start_as_current_span("llm_request", attributes=attributes["llm_request"]):
            pass
        with tracer.start_as_current_span("tts_node", attributes=attributes["tts_node"]):
            pass
    provider.shutdown()
    return list(memory.get_finished_spans()), attributes


def _typed(value: Any) -> Any:
    """Value with its type attached, so True != 1 and 2.0 != 2 in comparisons."""
    if isinstance(value, list | tuple):
        return [_typed(item) for item in value]
    return (type(value).__name__, value)


def _by_name(spans: Sequence[Span]) -> dict[str, Span]:
    by_name = {span["name"]: span for span in spans}
    assert len(by_name) == len(spans), f"duplicate span names: {[s['name'] for s in spans]}"
    return by_name


@pytest.mark.parametrize("transport", ["http", "grpc"])
def test_spans_arrive_intact(
    phoenix: PhoenixServer, transport: str, record_property: Any, capsys: Any
) -> None:
    project = f"lk-otel-{transport}-{uuid.uuid4().hex[:12]}"
    session_id = f"session-{uuid.uuid4().hex[:8]}"
    sdk_spans, sent = _record_turn(project, session_id)
    assert phoenix.spans(project) == []

    exporter = _exporter(phoenix, transport)
    try:
        assert exporter.export(sdk_spans) is SpanExportResult.SUCCESS
    finally:
        exporter.shutdown()
    exported_at = time.monotonic()
    phoenix.wait_for_spans(project, 1, timeout=30)
    first_after = time.monotonic() - exported_at
    stored = phoenix.wait_for_spans(project, len(sdk_spans), timeout=30)
    all_after = time.monotonic() - exported_at
    record_property("first_span_queryable_s", round(first_after, 3))
    with capsys.disabled():
        print(
            f"\n[{transport}] first span queryable after {first_after:.3f}s, "
            f"all {len(sdk_spans)} after {all_after:.3f}s"
        )

    assert len(stored) == len(sdk_spans)
    got = _by_name(stored)
    assert set(got) == {"agent_turn", "llm_request", "tts_node"}
    ids = {s.name: s.get_span_context() for s in sdk_spans}
    trace_id = format(ids["agent_turn"].trace_id, "032x")
    for name, span in got.items():
        assert span["context"] == {
            "trace_id": trace_id,
            "span_id": format(ids[name].span_id, "016x"),
        }, name
    parent_id = got["agent_turn"]["context"]["span_id"]
    assert got["agent_turn"]["parent_id"] is None
    assert got["llm_request"]["parent_id"] == parent_id
    assert got["tts_node"]["parent_id"] == parent_id

    # Phoenix lifts openinference.span.kind out of the attributes into span_kind.
    assert {name: span["span_kind"] for name, span in got.items()} == {
        "agent_turn": "AGENT",
        "llm_request": "LLM",
        "tts_node": "UNKNOWN",
    }
    for name, span in got.items():
        expected = {k: v for k, v in sent[name].items() if k != SPAN_KIND_KEY}
        assert {k: _typed(v) for k, v in span["attributes"].items()} == {
            k: _typed(v) for k, v in expected.items()
        }, name


def test_spans_client_filters_and_paginates(phoenix: PhoenixServer) -> None:
    project = f"lk-otel-query-{uuid.uuid4().hex[:12]}"
    session_id = f"session-{uuid.uuid4().hex[:8]}"
    sdk_spans, _ = _record_turn(project, session_id)
    exporter = _exporter(phoenix, "http")
    try:
        assert exporter.export(sdk_spans) is SpanExportResult.SUCCESS
    finally:
        exporter.shutdown()
    every = phoenix.wait_for_spans(
        project,
        lambda spans: {s["name"] for s in spans} == {"agent_turn", "llm_request", "tts_node"},
    )
    assert [s["name"] for s in every] == [s.name for s in sdk_spans]  # insertion order

    assert phoenix.spans(project, page_size=1) == every
    assert phoenix.spans(project, limit=2, page_size=1) == every[:2]
    assert phoenix.spans(project, order="desc") == every[::-1]
    assert [s["name"] for s in phoenix.spans(project, span_kind="LLM")] == ["llm_request"]
    assert [s["name"] for s in phoenix.spans(project, name=["tts_node", "agent_turn"])] == [
        "tts_node",
        "agent_turn",
    ]
    assert [s["name"] for s in phoenix.spans(project, parent_id="null")] == ["agent_turn"]
    by_attr = phoenix.spans(project, attribute={"session.id": session_id, "lk.cached": True})
    assert [s["name"] for s in by_attr] == ["llm_request"]
    assert phoenix.spans(project, attribute={"llm.token_count.prompt": "1234"}) == []
    assert phoenix.spans(f"{project}-absent") == []
    with pytest.raises(TypeError, match="unknown span filter"):
        phoenix.spans(project, kind="LLM")
    with pytest.raises(TimeoutError, match="wanted at least 4 span"):
        phoenix.wait_for_spans(project, 4, timeout=0.5)
