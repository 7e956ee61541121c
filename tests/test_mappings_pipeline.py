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
    assert sum(costs) == pytest.approx(session[sc.SESSION_COST], rel=1e-9)
    spoken = [t for t in call.named(sc.SPAN_TTS_REQUEST) if sc.LK_TTS_METRICS in t.attributes]
    heard = [
        u for u in call.named(sc.SPAN_USER_TURN) if u.attributes.get(sc.USER_STT_AUDIO_DURATION)
    ]
    assert len(costs) == len(call.named(sc.SPAN_LLM_REQUEST)) + len(spoken) + len(heard)
    assert len(spoken) == len(call.result.scenario.turns) + 2  # greeting + 2 tool follow-ups


def test_user_turns_name_their_stt_model(call: TracedCall) -> None:
    """livekit 1.2 names no STT model on user_turn: lk_otel takes it from the session's usage."""
    for u in call.named(sc.SPAN_USER_TURN):
        a = u.attributes
        model = a.get(sc.GEN_AI_REQUEST_MODEL) or a.get(sc.USER_STT_MODEL)
        assert model == "nova-3", dict(a)
    if not _compat.has_session_usage():
        assert all(
            u.attributes[sc.USER_STT_PROVIDER] == "deepgram" for u in call.named(sc.SPAN_USER_TURN)
        )


def test_trace_input_and_output_are_what_was_said(call: TracedCall) -> None:
    session = call.session().attributes
    turns = call.result.scenario.turns
    assert session[sc.LANGFUSE_TRACE_INPUT] == turns[0].user.text
    last_reply = [c.text for c in turns[-1].llm if c.text][-1]
    assert session[sc.LANGFUSE_TRACE_OUTPUT] == last_reply
    assert session[sc.OI_INPUT_VALUE] == turns[0].user.text


def test_no_content_reaches_the_trace_without_pii() -> None:
    call = asyncio.run(traced_call(speed=8.0, allow_pii=False))
    session = call.session().attributes
    for key in (
        sc.SESSION_FIRST_USER_TEXT,
        sc.SESSION_LAST_AGENT_TEXT,
        sc.LANGFUSE_TRACE_INPUT,
        sc.LANGFUSE_TRACE_OUTPUT,
        sc.OI_INPUT_VALUE,
        sc.OI_OUTPUT_VALUE,
    ):
        assert key not in session, key
    said = {t.user.text for t in call.result.scenario.turns}
    assert not [s.name for s in call.spans for v in (s.attributes or {}).values() if v in said]
