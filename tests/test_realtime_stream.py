"""The streaming issue-13 wiring (``RealtimeTracker``) on plain records, exact values: what
it adds to the correlator's releases, and the session merge with livekit's usage rows."""

from __future__ import annotations

import json

from lk_otel import semconv as sc
from lk_otel.enrich.cost import PriceTable
from lk_otel.enrich.realtime_stream import RealtimeTracker
from lk_otel.enrich.records import (
    FalseInterruption,
    FalseInterruptionReported,
    HandoffDone,
    InterruptedTurn,
    Release,
    ResponseDone,
    SpanEnded,
    UsageUpdated,
)

S = 1_000_000_000  # ns per s
SESSION, TURN, INFERENCE, SPEAKING, USER, TOOL, UPDATE = range(1, 8)
PRICES = PriceTable.parse(
    {
        "openai/rt": {"input_per_1m": 1.0, "output_per_1m": 2.0, "output_audio_per_1m": 10.0},
        "cartesia/tts": {"characters_per_1k": 1.0},
    }
)


def metrics(request_id: str, ttft: float, audio_out: int, text_in: int) -> str:
    return json.dumps(
        {
            "type": "realtime_model_metrics",
            "request_id": request_id,
            "ttft": ttft,
            "duration": 1.0,
            "input_tokens": text_in,
            "output_tokens": audio_out,
            "input_token_details": {"text_tokens": text_in},
            "output_token_details": {"audio_tokens": audio_out},
            "metadata": {"model_name": "rt", "model_provider": "openai"},
        }
    )


def end(tracker, span_id, name, start, stop, session=SESSION, turn=None, **attrs):
    rec = SpanEnded(span_id, name, int(start * S), int(stop * S), attrs)
    return tracker.ended(rec, session, turn, [Release(span_id, {}, 0)])


def test_a_realtime_turn_and_its_session() -> None:
    t = RealtimeTracker()
    t.started(SESSION, sc.SPAN_AGENT_SESSION, 0, None, None, prices=PRICES, feed_key=9)
    t.feed(UsageUpdated(9, ({"type": "tts_usage", "provider": "cartesia", "model": "tts"},)))
    end(t, 20, sc.SPAN_START_AGENT_ACTIVITY, 0.5, 0.6, **{sc.LK_AGENT_LABEL: "front"})
    t.started(USER, sc.SPAN_USER_SPEAKING, 1 * S, SESSION, None)
    end(t, USER, sc.SPAN_USER_SPEAKING, 1.0, 2.0)
    t.started(TURN, "agent_turn", int(2.0 * S), SESSION, TURN)
    (release, notice) = end(
        t,
        INFERENCE,
        sc.SPAN_REALTIME_INFERENCE,
        2.0,
        3.0,
        turn=TURN,
        **{sc.LK_REALTIME_MODEL_METRICS: metrics("r1", 0.25, 100, 40)},
    )
    assert release.added == {
        sc.REALTIME_DURATION: 1.0,
        sc.REALTIME_TTFT: 0.25,
        sc.REALTIME_COST: (100 * 10.0 + 40 * 1.0) / 1e6,
    }
    assert isinstance(notice, ResponseDone) and notice.agent_name == "front"
    t.started(40, sc.SPAN_USER_SPEAKING, int(3.0 * S), SESSION, None)  # barges in, still open
    end(t, SPEAKING, sc.SPAN_AGENT_SPEAKING, 2.3, 3.2, turn=TURN)
    turn_release = Release(TURN, {sc.TURN_KIND: "greeting", sc.TURN_COST: 0.5}, 0)
    rec = SpanEnded(TURN, "agent_turn", 2 * S, int(3.3 * S), {sc.LK_INTERRUPTED: True})
    out = t.ended(rec, SESSION, TURN, [turn_release])
    added = out[0].added
    assert added[sc.TURN_KIND] == "reply"  # the user spoke before it, no user_turn span
    assert added[sc.TURN_AGENT] == "front"
    assert added[sc.TURN_E2E_LATENCY] == 2.3 - 2.0
    assert added[sc.TURN_LLM_TTFT] == 0.25
    assert added[sc.TURN_OUTPUT_AUDIO_TOKENS] == 100
    assert added[sc.TURN_COST] == 0.5 + (100 * 10.0 + 40 * 1.0) / 1e6  # + the pipeline's
    assert abs(added[sc.TURN_BARGE_IN_STOP_LATENCY] - 0.2) < 1e-9
    assert abs(added[sc.TURN_PLAYED_DURATION] - 0.7) < 1e-9
    assert isinstance(out[1], InterruptedTurn)

    end(t, TOOL, sc.SPAN_FUNCTION_TOOL, 3.4, 3.5, **{"gen_ai.tool.name": "to_back"})
    (_, handoff) = end(
        t,
        UPDATE,
        sc.SPAN_UPDATE_AGENT,
        3.6,
        3.7,
        **{sc.LK_AGENT_LABEL: "back", sc.LK_PREVIOUS_AGENT_LABEL: "front"},
    )
    assert isinstance(handoff, HandoffDone) and handoff.handoff.tool == "to_back"
    assert t.feed(FalseInterruptionReported(9, True)) == [FalseInterruption(True, "front")]

    # livekit's usage rows (1.8) count the realtime model too: one source, not both
    rows = (
        {
            "type": "llm_usage",
            "provider": "openai",
            "model": "rt",
            "input_tokens": 40,
            "output_tokens": 100,
            "input_cached_tokens": 0,
        },
        {"type": "tts_usage", "provider": "cartesia", "model": "tts", "characters_count": 10},
    )
    t.feed(UsageUpdated(9, rows))
    pipeline = {
        sc.SESSION_INPUT_TOKENS: 40 + 7,  # + another LLM's 7
        sc.SESSION_OUTPUT_TOKENS: 100,
        sc.SESSION_CACHED_INPUT_TOKENS: 0,
        sc.SESSION_COST: PRICES.llm("openai", "rt", 40, 100, 0) + 10 / 1e3,
    }
    rec = SpanEnded(SESSION, sc.SPAN_AGENT_SESSION, 0, 5 * S, {})
    (session,) = t.ended(rec, SESSION, None, [Release(SESSION, pipeline, 0)])
    s = session.added
    assert s[sc.SESSION_INPUT_TOKENS] == 47
    assert s[sc.SESSION_OUTPUT_TOKENS] == 100
    assert s[sc.SESSION_OUTPUT_AUDIO_TOKENS] == 100
    assert abs(s[sc.SESSION_COST] - (10 / 1e3 + (100 * 10.0 + 40 * 1.0) / 1e6)) < 1e-15
    assert s[sc.SESSION_HANDOFFS] == 1 and s[sc.SESSION_AGENTS] == ("front", "back")
    assert s[sc.SESSION_FALSE_INTERRUPTIONS] == 1 and s[sc.SESSION_RESUMED_INTERRUPTIONS] == 1
    assert session.events == (
        (
            sc.EVENT_HANDOFF,
            round(3.6 * S),
            {sc.HANDOFF_TO: "back", sc.HANDOFF_FROM: "front", sc.HANDOFF_TOOL: "to_back"},
        ),
    )
    assert t.tracked() == dict.fromkeys(t.tracked(), 0)


def test_without_update_agent_handoffs_come_from_the_activities() -> None:
    t = RealtimeTracker()
    t.started(SESSION, sc.SPAN_AGENT_SESSION, 0, None, None)
    end(t, 20, sc.SPAN_START_AGENT_ACTIVITY, 0.5, 0.6, **{sc.LK_AGENT_LABEL: "a.Front"})
    end(t, TOOL, sc.SPAN_FUNCTION_TOOL, 1.0, 1.1, **{"lk.function_tool.name": "to_back"})
    end(t, 21, sc.SPAN_START_AGENT_ACTIVITY, 1.2, 1.3, **{sc.LK_AGENT_LABEL: "a.Back"})
    rec = SpanEnded(SESSION, sc.SPAN_AGENT_SESSION, 0, 2 * S, {})
    (session, notice) = t.ended(rec, SESSION, None, [Release(SESSION, {}, 0)])
    assert session.added == {
        sc.SESSION_HANDOFFS: 1,
        sc.SESSION_AGENTS: ("a.Front", "a.Back"),
    }  # no feed: false interruptions not watched, no count
    assert isinstance(notice, HandoffDone) and notice.handoff.tool == "to_back"
