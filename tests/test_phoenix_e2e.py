"""A simulated call through ``setup_tracing()`` into a real Arize Phoenix, over HTTP and gRPC,
read back through Phoenix's REST API: enriched attributes, span kinds, session id, and what
was said on turns and user turns (input/output) intact."""

from __future__ import annotations

import uuid

import pytest

import lk_otel
from lk_otel import _compat
from lk_otel import semconv as sc
from lk_otel.simulation import load_scenario, run_scenario
from support.phoenix_server import PhoenixServer

pytest_plugins = ["support.phoenix_fixtures"]
pytestmark = pytest.mark.phoenix


@pytest.mark.parametrize("protocol", ["http/protobuf", "grpc"])
async def test_simulated_call_arrives_enriched(phoenix: PhoenixServer, protocol: str) -> None:
    project = f"lk-otel-{protocol.split('/')[0]}-{uuid.uuid4().hex[:8]}"
    endpoint = phoenix.http_endpoint if protocol != "grpc" else phoenix.grpc_endpoint
    handle = lk_otel.setup_tracing(
        lk_otel.OTLP(endpoint=endpoint, protocol=protocol),  # type: ignore[arg-type]
        resource_attributes={sc.OPENINFERENCE_PROJECT: project},
        schedule_delay=0.05,
    )
    try:
        result = await run_scenario(load_scenario(None), speed=8.0)
        assert handle.force_flush(10)
    finally:
        handle.shutdown(5)
    turn_name = _compat.agent_turn_span_name()
    spans = phoenix.wait_for_spans(
        project, lambda got: any(s["name"] == sc.SPAN_AGENT_SESSION for s in got), timeout=30
    )
    by_name: dict[str, list[dict]] = {}
    for span in spans:
        by_name.setdefault(span["name"], []).append(span)

    (session,) = by_name[sc.SPAN_AGENT_SESSION]
    attrs = session["attributes"]
    session_id = attrs[sc.SESSION_ID]
    assert attrs[sc.OI_SESSION_ID] == session_id == attrs[sc.LANGFUSE_SESSION_ID]
    assert attrs[sc.SESSION_TURNS] >= len(result.scenario.turns)
    assert isinstance(attrs[sc.SESSION_E2E_P95], float)
    assert isinstance(attrs[sc.SESSION_INPUT_TOKENS], int)

    turns = [t for t in by_name[turn_name] if sc.TURN_INDEX in t["attributes"]]
    replies = [t for t in turns if t["attributes"][sc.TURN_KIND] == "reply"]
    assert len(replies) == len(result.scenario.turns)
    for turn in turns:
        assert turn["span_kind"] == "AGENT"
        assert turn["attributes"][sc.TURN_SESSION_ID] == session_id
    for turn in replies:
        a = turn["attributes"]
        assert isinstance(a[sc.TURN_E2E_LATENCY], float) and a[sc.TURN_E2E_LATENCY] > 0
        assert a[sc.TURN_LATENCY_SUM] == pytest.approx(
            a[sc.TURN_END_OF_TURN_DELAY] + a[sc.TURN_LLM_TTFT] + a[sc.TURN_TTS_TTFB]
        )
    assert {s["span_kind"] for s in by_name[sc.SPAN_LLM_REQUEST]} == {"LLM"}
    # only model calls are LLM spans: Phoenix would make every span with a model key one
    assert {s["name"] for s in spans if s["span_kind"] == "LLM"} == {sc.SPAN_LLM_REQUEST}
    for name in (sc.SPAN_TTS_REQUEST, sc.SPAN_USER_TURN, sc.SPAN_TTS_NODE, sc.SPAN_LLM_NODE):
        assert {s["span_kind"] for s in by_name[name]} == {"CHAIN"}, name
    # what was said, in the scenario's words (PII allowed: livekit's default)
    scripted = result.scenario.turns
    said = [r["attributes"].get(sc.OI_INPUT_VALUE) for r in sorted(replies, key=_index)]
    assert said == [t.user.text for t in scripted]
    outputs = [t["attributes"].get(sc.OI_OUTPUT_VALUE) for t in by_name[turn_name]]
    for turn in scripted:  # the last text of each reply (a prefix where it was interrupted)
        last = [c.text for c in turn.llm if c.text][-1]
        assert any(o and last.startswith(o) for o in outputs), last
    heard = [u["attributes"].get(sc.OI_INPUT_VALUE) for u in by_name[sc.SPAN_USER_TURN]]
    assert sorted(h for h in heard if h) == sorted(t.user.text for t in scripted)
    llm_requests = by_name[sc.SPAN_LLM_REQUEST]
    assert all(isinstance(s["attributes"][sc.OI_TOKEN_CACHE_READ], int) for s in llm_requests)
    assert sum(s["attributes"][sc.OI_TOKEN_CACHE_READ] for s in llm_requests) == sum(
        c.cached_input_tokens for t in scripted for c in t.llm
    )
    assert {s["span_kind"] for s in by_name[sc.SPAN_FUNCTION_TOOL]} == {"TOOL"}
    assert all(sc.LLM_TTFT in s["attributes"] for s in by_name[sc.SPAN_LLM_NODE])
    # the critical path hangs under the reply turns, stage spans under it
    reply_ids = {t["context"]["span_id"] for t in replies}
    waterfalls = by_name[sc.SPAN_RESPONSE_LATENCY]
    assert {w["parent_id"] for w in waterfalls} == reply_ids
    stages = [
        s
        for spans in by_name.values()
        for s in spans
        if s["attributes"].get(sc.STAGE_NAME) == sc.STAGE_LLM
    ]
    assert {s["parent_id"] for s in stages} == {w["context"]["span_id"] for w in waterfalls}
    assert all(isinstance(s["attributes"][sc.STAGE_CRITICAL], bool) for s in stages)


def _index(span: dict) -> int:
    return span["attributes"][sc.TURN_INDEX]
