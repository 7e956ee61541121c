"""The backend mappings on a real simulated call through ``setup_tracing()`` (any installed
livekit): Langfuse would see no empty generation, and its trace cost is the session's."""

from __future__ import annotations

import asyncio
import json

import pytest

from lk_otel import _compat
from lk_otel import semconv as sc
from support.tracing_helpers import TracedCall, traced_call

PRICES = {
    "openai/gpt-4o-mini": {
        "input_per_1m": 0.15,
        "cached_input_per_1m": 0.075,
        "output_per_1m": 0.6,
    },
    "cartesia/sonic-2": {"characters_per_1k": 0.05},
    "deepgram/nova-3": {"stt_per_minute": 0.0043},
}


@pytest.fixture(scope="module")
def call() -> TracedCall:
    return asyncio.run(traced_call(speed=8.0, prices=PRICES))


def test_generations_are_exactly_the_model_calls_with_usage(call: TracedCall) -> None:
    generations = [
        s
        for s in call.spans
        if (s.attributes or {}).get(sc.LANGFUSE_OBSERVATION_TYPE) == "generation"
    ]
    assert {s.name for s in generations} == {
        sc.SPAN_LLM_REQUEST,
        sc.SPAN_TTS_REQUEST,
        sc.SPAN_USER_TURN,
    }
    assert all(json.loads(s.attributes[sc.LANGFUSE_USAGE_DETAILS]) for s in generations)
    for name in (
        sc.SPAN_LLM_REQUEST_RUN,
        sc.SPAN_TTS_REQUEST_RUN,
        sc.SPAN_LLM_NODE,
        sc.SPAN_TTS_NODE,
    ):
        assert {s.attributes[sc.LANGFUSE_OBSERVATION_TYPE] for s in call.named(name)} == {"span"}
    assert {s.attributes[sc.LANGFUSE_OBSERVATION_LEVEL] for s in call.named(sc.SPAN_TTS_NODE)} == {
        "DEFAULT"
    }


def test_langfuse_trace_cost_is_the_session_cost(call: TracedCall) -> None:
    costs = [
        json.loads(s.attributes[sc.LANGFUSE_COST_DETAILS])["total"]
        for s in call.spans
        if sc.LANGFUSE_COST_DETAILS in (s.attributes or {})
    ]
    session = call.session().attributes
    expected = session[sc.SESSION_COST]
    if not _compat.has_session_usage():
        # livekit 1.2 names the STT model on no span: its share comes once the enrichment
        # sets lk_otel.user.stt_model / .stt_provider on the user turn (asked of it)
        expected -= session[sc.SESSION_STT_AUDIO_DURATION] / 60 * 0.0043
    assert sum(costs) == pytest.approx(expected, rel=1e-9)
    spoken = [t for t in call.named(sc.SPAN_TTS_REQUEST) if sc.LK_TTS_METRICS in t.attributes]
    heard = [
        u for u in call.named(sc.SPAN_USER_TURN) if u.attributes.get(sc.USER_STT_AUDIO_DURATION)
    ]
    priced_stt = len(heard) if _compat.has_session_usage() else 0
    assert len(costs) == len(call.named(sc.SPAN_LLM_REQUEST)) + len(spoken) + priced_stt
    assert len(spoken) == len(call.result.scenario.turns) + 2  # greeting + 2 tool follow-ups
