"""Exact unit tests of the pure issue-13 functions (realtime, handoff, barge-in, cost)."""

from __future__ import annotations

import json

import pytest

from lk_otel import semconv as sc
from lk_otel.enrich import barge_in, handoff, realtime
from lk_otel.enrich.cost import PriceTable
from lk_otel.enrich.realtime_call import PlainSpan, call_figures
from lk_otel.errors import ConfigError


def metrics(**over):
    base = {
        "type": "realtime_model_metrics",
        "request_id": "resp-1",
        "timestamp": 100.0,
        "duration": 1.25,
        "session_duration": 0.0,
        "ttft": 0.4,
        "input_tokens": 30,
        "output_tokens": 21,
        "input_token_details": {
            "audio_tokens": 10,
            "text_tokens": 17,
            "image_tokens": 3,
            "cached_tokens": 9,
            "cached_tokens_details": {"audio_tokens": 4, "text_tokens": 5, "image_tokens": 0},
        },
        "output_token_details": {"audio_tokens": 13, "text_tokens": 8, "image_tokens": 0},
        "metadata": {"model_name": "gpt-rt", "model_provider": "openai"},
    }
    base.update(over)
    return base


def test_parse_reads_every_field_from_json_and_dict() -> None:
    for value in (metrics(), json.dumps(metrics())):
        r = realtime.parse_realtime_metrics(value)
        assert r == realtime.RealtimeResponse(
            request_id="resp-1",
            ttft=0.4,
            duration=1.25,
            session_duration=0.0,
            input_audio=10,
            input_text=17,
            input_image=3,
            cached_audio=4,
            cached_text=5,
            cached_image=0,
            cached_total=9,
            output_audio=13,
            output_text=8,
            input_tokens=30,
            output_tokens=21,
            model="gpt-rt",
            provider="openai",
        )


def test_parse_no_audio_ttft_and_rejects_other_things() -> None:
    r = realtime.parse_realtime_metrics(metrics(ttft=-1))
    assert r is not None and r.ttft is None
    assert realtime.parse_realtime_metrics(metrics(ttft=0.0)).ttft == 0.0
    assert realtime.parse_realtime_metrics(None) is None
    assert realtime.parse_realtime_metrics("{not json") is None
    assert realtime.parse_realtime_metrics({"type": "llm_metrics"}) is None
    assert realtime.parse_realtime_metrics("[1]") is None
    bare = realtime.parse_realtime_metrics({"type": "realtime_model_metrics"})
    assert bare is not None
    assert (bare.request_id, bare.ttft, bare.input_audio, bare.model) == ("", None, 0, None)
    assert bare.is_connection_report
    odd = realtime.parse_realtime_metrics(metrics(input_tokens=True, duration="x"))
    assert (odd.input_tokens, odd.duration) == (0, 0.0)


def _r(**over):
    return realtime.parse_realtime_metrics(metrics(**over))


def test_turn_attributes_sum_modalities_and_take_first_audio() -> None:
    a = _r(ttft=-1, duration=0.5)
    b = _r(request_id="resp-2", ttft=0.3, duration=1.0)
    c = _r(request_id="resp-3", ttft=0.7, duration=2.0)
    attrs = realtime.turn_attributes([a, b, c])
    assert attrs == {
        sc.TURN_INPUT_TOKENS: 90,
        sc.TURN_OUTPUT_TOKENS: 63,
        sc.TURN_CACHED_INPUT_TOKENS: 27,
        sc.TURN_INPUT_AUDIO_TOKENS: 30,
        sc.TURN_INPUT_TEXT_TOKENS: 51,
        sc.TURN_INPUT_IMAGE_TOKENS: 9,
        sc.TURN_CACHED_INPUT_AUDIO_TOKENS: 12,
        sc.TURN_CACHED_INPUT_TEXT_TOKENS: 15,
        sc.TURN_OUTPUT_AUDIO_TOKENS: 39,
        sc.TURN_OUTPUT_TEXT_TOKENS: 24,
        sc.TURN_REALTIME_RESPONSES: 3,
        sc.TURN_REALTIME_DURATION: 3.5,
        sc.TURN_LLM_TTFT: 0.3,
    }
    assert sc.TURN_LLM_TTFT not in realtime.turn_attributes([a])
    assert realtime.turn_attributes([]) == {}
    assert realtime.turn_attributes([_r(request_id="")]) == {}


def test_session_attributes_count_connection_reports_only_for_billed_time() -> None:
    conn = _r(request_id="", session_duration=2.5, input_tokens=999)
    a = _r(session_duration=10.0)
    attrs = realtime.session_attributes([conn, a])
    assert attrs[sc.SESSION_INPUT_TOKENS] == 30
    assert attrs[sc.SESSION_OUTPUT_AUDIO_TOKENS] == 13
    assert attrs[sc.SESSION_CACHED_INPUT_TEXT_TOKENS] == 5
    assert attrs[sc.SESSION_REALTIME_SESSION_DURATION] == 12.5
    assert sc.SESSION_REALTIME_SESSION_DURATION not in realtime.session_attributes([_r()])
    assert realtime.session_attributes([]) == {}
    only_conn = realtime.session_attributes([_r(request_id="")])
    assert only_conn[sc.SESSION_INPUT_TOKENS] == 0


def test_usage_totals() -> None:
    totals = realtime.usage_totals([_r(), _r(request_id="b"), _r(request_id="")])
    assert totals["input_tokens"] == 60 and totals["output_audio"] == 26
    assert totals["cached_total"] == 18


def test_response_attributes() -> None:
    assert realtime.response_attributes(_r()) == {
        sc.REALTIME_DURATION: 1.25,
        sc.REALTIME_TTFT: 0.4,
    }
    assert realtime.response_attributes(_r(ttft=-1)) == {sc.REALTIME_DURATION: 1.25}


def test_e2e_latency() -> None:
    assert realtime.e2e_latency(0.9, 10.0, 11.0) == 0.9
    assert realtime.e2e_latency(None, 10.0, 10.75) == 0.75
    assert realtime.e2e_latency(None, 10.0, 10.0) == 0.0
    assert realtime.e2e_latency(None, 11.0, 10.0) is None
    assert realtime.e2e_latency(None, None, 10.0) is None
    assert realtime.e2e_latency(None, 10.0, None) is None


PRICES = {
    "openai/gpt-rt": {
        "input_per_1m": 4.0,
        "cached_input_per_1m": 0.5,
        "output_per_1m": 16.0,
        "input_audio_per_1m": 32.0,
        "cached_input_audio_per_1m": 1.0,
        "output_audio_per_1m": 64.0,
    },
    "grok-voice": {"session_per_minute": 3.0},
    "plain": {"input_per_1m": 2.0, "output_per_1m": 8.0, "input_audio_per_1m": 10.0},
}


def test_realtime_cost_bills_each_modality_at_its_rate() -> None:
    table = PriceTable.parse(PRICES)
    # text in 17+3 image (5 cached), audio in 10 (4 cached), out 8 text, 13 audio
    expected = ((20 - 5) * 4.0 + 5 * 0.5 + (10 - 4) * 32.0 + 4 * 1.0 + 8 * 16.0 + 13 * 64.0) / 1e6
    assert realtime.realtime_cost(table, _r()) == pytest.approx(expected, rel=1e-15)
    billed = _r(session_duration=90.0, metadata={"model_name": "grok-voice"})
    assert realtime.realtime_cost(table, billed) == pytest.approx(4.5, rel=1e-15)
    assert realtime.realtime_cost(table, _r(metadata={"model_name": "nope"})) is None
    # no cached rates: cached tokens at the full rates
    plain = _r(metadata={"model_name": "plain"})
    full = (20 * 2.0 + 10 * 10.0 + 8 * 8.0) / 1e6
    assert realtime.realtime_cost(table, plain) == pytest.approx(full, rel=1e-15)


def test_turn_and_session_cost_and_response_cost() -> None:
    table = PriceTable.parse(PRICES)
    one = realtime.realtime_cost(table, _r())
    assert realtime.turn_attributes([_r(), _r()], table)[sc.TURN_COST] == pytest.approx(2 * one)
    assert realtime.session_attributes([_r()], table)[sc.SESSION_COST] == pytest.approx(one)
    assert realtime.response_attributes(_r(), table)[sc.REALTIME_COST] == pytest.approx(one)
    unpriced = _r(metadata={"model_name": "nope"})
    assert sc.TURN_COST not in realtime.turn_attributes([unpriced], table)
    assert sc.SESSION_COST not in realtime.session_attributes([unpriced], table)
    assert sc.REALTIME_COST not in realtime.response_attributes(unpriced, table)


def test_price_table_takes_the_new_keys_and_rejects_bad_ones() -> None:
    PriceTable.parse({"m": {"output_audio_per_1m": 1, "session_per_minute": 0}})
    with pytest.raises(ConfigError, match="unknown field 'audio_per_1m'"):
        PriceTable.parse({"m": {"audio_per_1m": 1}})
    with pytest.raises(ConfigError, match="not negative"):
        PriceTable.parse({"m": {"input_audio_per_1m": -1}})


# --- barge-in ----------------------------------------------------------------------------


def test_audio_played() -> None:
    assert barge_in.audio_played(1.5, [(0.0, 9.0)]) == 1.5
    assert barge_in.audio_played(-0.1, []) == 0.0
    assert barge_in.audio_played(None, [(1.0, 2.5), (3.0, 3.25)]) == 1.75
    assert barge_in.audio_played(None, [(2.0, 1.0)]) == 0.0
    assert barge_in.audio_played(None, []) is None


def test_barge_in_stop_latency() -> None:
    speaking = [(10.0, 11.0), (12.0, 13.5)]
    assert barge_in.barge_in_stop_latency(speaking, [9.0, 13.0, 13.25]) == 0.5
    assert barge_in.barge_in_stop_latency(speaking, [10.0]) == 3.5
    assert barge_in.barge_in_stop_latency(speaking, [13.5]) == 0.0
    assert barge_in.barge_in_stop_latency(speaking, [9.9, 13.6]) is None
    assert barge_in.barge_in_stop_latency([], [1.0]) is None


def test_turn_attributes_of_an_interrupted_turn() -> None:
    kw = {"playout_position": None, "agent_speaking": [(10.0, 12.0)]}
    assert barge_in.turn_attributes(interrupted=False, user_speech_starts=[11.0], **kw) == {}
    assert barge_in.turn_attributes(interrupted=True, user_speech_starts=[11.5], **kw) == {
        sc.TURN_PLAYED_DURATION: 1.5,
        sc.TURN_BARGE_IN_STOP_LATENCY: 0.5,
    }
    # interrupted by the program, nobody spoke: all that played, no latency
    assert barge_in.turn_attributes(interrupted=True, user_speech_starts=[], **kw) == {
        sc.TURN_PLAYED_DURATION: 2.0
    }
    # livekit's playout position wins over the span
    out = barge_in.turn_attributes(
        interrupted=True,
        playout_position=1.75,
        agent_speaking=[(10.0, 12.0)],
        user_speech_starts=[11.5],
    )
    assert out == {sc.TURN_PLAYED_DURATION: 1.25, sc.TURN_BARGE_IN_STOP_LATENCY: 0.5}
    assert barge_in.turn_attributes(
        interrupted=True,
        playout_position=0.25,
        agent_speaking=[(10.0, 12.0)],
        user_speech_starts=[10.0],
    ) == {sc.TURN_PLAYED_DURATION: 0.0, sc.TURN_BARGE_IN_STOP_LATENCY: 2.0}
    # nothing played at all
    assert (
        barge_in.turn_attributes(
            interrupted=True, playout_position=None, agent_speaking=[], user_speech_starts=[1.0]
        )
        == {}
    )


def test_false_interruption_counts() -> None:
    assert barge_in.session_attributes([True, False, True]) == {
        sc.SESSION_FALSE_INTERRUPTIONS: 3,
        sc.SESSION_RESUMED_INTERRUPTIONS: 2,
    }
    assert barge_in.session_attributes([]) == {
        sc.SESSION_FALSE_INTERRUPTIONS: 0,
        sc.SESSION_RESUMED_INTERRUPTIONS: 0,
    }


# --- handoffs ----------------------------------------------------------------------------


def test_turn_agent() -> None:
    assert handoff.turn_agent({"gen_ai.agent.name": "a", "lk.agent_label": "b"}) == "a"
    assert handoff.turn_agent({"gen_ai.agent.name": "", "lk.agent_label": "b"}) == "b"
    assert handoff.turn_agent({"gen_ai.agent.name": 3}) is None
    assert handoff.turn_attributes({}, "fallback") == {sc.TURN_AGENT: "fallback"}
    assert handoff.turn_attributes({"lk.agent_label": "x"}, "fallback") == {sc.TURN_AGENT: "x"}
    assert handoff.turn_attributes({}, None) == {}


def test_handoff_from_span_and_event() -> None:
    h = handoff.handoff_from_span(
        {"lk.previous_agent_label": "a", "lk.agent_label": "b"}, 5.0, "transfer"
    )
    assert h == handoff.Handoff("a", "b", "transfer", 5.0)
    assert h.event_attributes() == {
        sc.HANDOFF_FROM: "a",
        sc.HANDOFF_TO: "b",
        sc.HANDOFF_TOOL: "transfer",
    }
    bare = handoff.handoff_from_span(
        {"lk.agent_label": "b", "lk.previous_agent_label": ""}, 1, None
    )
    assert bare.event_attributes() == {sc.HANDOFF_TO: "b"}
    assert handoff.handoff_from_span({"lk.previous_agent_label": "a"}, 1.0, None) is None


def test_session_handoff_attributes() -> None:
    hs = [handoff.Handoff("a", "b", None, 1.0), handoff.Handoff("b", "a", None, 2.0)]
    assert handoff.session_attributes(["a"], hs) == {
        sc.SESSION_HANDOFFS: 2,
        sc.SESSION_AGENTS: ("a", "b"),
    }
    assert handoff.session_attributes([], [handoff.Handoff(None, "c", None, 0.0)]) == {
        sc.SESSION_HANDOFFS: 1,
        sc.SESSION_AGENTS: ("c",),
    }
    assert handoff.session_attributes(["a", "a"], []) == {
        sc.SESSION_HANDOFFS: 0,
        sc.SESSION_AGENTS: ("a",),
    }
    assert handoff.session_attributes([], []) == {sc.SESSION_HANDOFFS: 0}


def test_agent_usage() -> None:
    turns = [
        {sc.TURN_AGENT: "a", sc.TURN_INPUT_TOKENS: 10, sc.TURN_COST: 0.5},
        {sc.TURN_AGENT: "b", sc.TURN_INPUT_TOKENS: 7, sc.TURN_OUTPUT_AUDIO_TOKENS: 3},
        {sc.TURN_AGENT: "a", sc.TURN_INPUT_TOKENS: 5, sc.TURN_INTERRUPTED: True},
        {sc.TURN_INPUT_TOKENS: 100},
    ]
    assert handoff.agent_usage(turns) == [
        {"agent": "a", "turns": 2, "input_tokens": 15, "cost": 0.5},
        {"agent": "b", "turns": 1, "input_tokens": 7, "output_audio_tokens": 3},
    ]
    attrs = handoff.agent_usage_attributes(turns)
    assert json.loads(attrs[sc.SESSION_AGENT_USAGE])[1]["agent"] == "b"
    assert handoff.agent_usage_attributes(turns[:1]) == {}
    assert handoff.agent_usage([{sc.TURN_AGENT: "a", sc.TURN_INPUT_TOKENS: True}]) == [
        {"agent": "a", "turns": 1}
    ]


# --- composition over plain spans --------------------------------------------------------


def _span(name, sid, parent, start, end, **attrs):
    return PlainSpan(name, sid, parent, start, end, attrs)


def test_call_figures_wire_each_function_to_its_spans() -> None:
    spans = [
        _span("agent_session", 1, None, 0.0, 20.0),
        _span("start_agent_activity", 2, 1, 0.0, 0.1, **{"lk.agent_label": "front"}),
        _span("user_speaking", 3, 1, 1.0, 2.0),
        _span("agent_turn", 4, 1, 2.0, 6.0, **{"gen_ai.agent.name": "front"}),
        _span(
            "realtime_inference",
            5,
            4,
            2.0,
            2.5,
            **{sc.LK_REALTIME_MODEL_METRICS: json.dumps(metrics(ttft=-1))},
        ),
        _span("function_tool", 6, 4, 2.5, 2.6, **{"gen_ai.tool.name": "to_back"}),
        _span(
            "update_agent",
            7,
            1,
            2.7,
            2.8,
            **{"lk.previous_agent_label": "front", "lk.agent_label": "back"},
        ),
        _span(
            "agent_turn", 8, 1, 2.8, 6.0, **{"gen_ai.agent.name": "back", "lk.interrupted": True}
        ),
        _span(
            "realtime_inference",
            9,
            8,
            2.8,
            6.0,
            **{sc.LK_REALTIME_MODEL_METRICS: json.dumps(metrics(request_id="r2", ttft=0.5))},
        ),
        _span("agent_speaking", 10, 8, 3.3, 5.0),
        _span("user_speaking", 11, 1, 4.5, 5.5),
    ]
    figures = call_figures(spans, false_interruptions=[True])
    a = figures.attributes
    assert a[4][sc.TURN_AGENT] == "front" and sc.TURN_E2E_LATENCY not in a[4]
    assert a[8][sc.TURN_AGENT] == "back"
    assert a[8][sc.TURN_E2E_LATENCY] == pytest.approx(1.3)  # 3.3 - 2.0
    assert a[8][sc.TURN_LLM_TTFT] == 0.5
    assert a[8][sc.TURN_PLAYED_DURATION] == pytest.approx(1.2)  # 4.5 - 3.3
    assert a[8][sc.TURN_BARGE_IN_STOP_LATENCY] == pytest.approx(0.5)
    assert a[5] == {sc.REALTIME_DURATION: 1.25}
    s = a[1]
    assert s[sc.SESSION_HANDOFFS] == 1 and s[sc.SESSION_AGENTS] == ("front", "back")
    assert s[sc.SESSION_INPUT_TOKENS] == 60
    assert s[sc.SESSION_FALSE_INTERRUPTIONS] == 1
    assert json.loads(s[sc.SESSION_AGENT_USAGE])[0]["input_tokens"] == 30
    assert figures.handoffs == [handoff.Handoff("front", "back", "to_back", 2.7)]
    # without the event source: no false-interruption count at all
    assert sc.SESSION_FALSE_INTERRUPTIONS not in call_figures(spans).attributes[1]


def test_handoffs_from_activities_on_releases_without_update_agent() -> None:
    acts = [("a", 0.0), ("b", 5.0), ("a", 9.0)]
    tools = [("lookup", 1.0), ("to_b", 4.9), ("late", 6.0), (None, 8.0)]
    assert handoff.handoffs_from_activities(acts, tools) == [
        handoff.Handoff("a", "b", "to_b", 5.0),
        handoff.Handoff("b", "a", None, 9.0),
    ]
    assert handoff.handoffs_from_activities(acts[:1], tools) == []
    assert handoff.handoffs_from_activities(acts[:2], [("x", 5.0)]) == [
        handoff.Handoff("a", "b", "x", 5.0)
    ]


def test_call_figures_on_a_12_realtime_call() -> None:
    """1.2: metrics on realtime_assistant_turn itself, no update_agent, no agent on turns."""
    m = json.dumps(metrics(ttft=0.25))
    spans = [
        _span("agent_session", 1, None, 0.0, 20.0),
        _span("start_agent_activity", 2, 1, 0.0, 0.1, **{"lk.agent_label": "pkg.A"}),
        _span("on_enter", 3, 2, 0.1, 0.1),
        _span("realtime_assistant_turn", 4, 3, 0.2, 2.0, **{sc.LK_REALTIME_MODEL_METRICS: m}),
        _span("agent_speaking", 5, 4, 0.45, 2.0),
        _span("function_tool", 6, 4, 1.9, 1.95, **{"lk.function_tool.name": "go_b"}),
        _span("start_agent_activity", 7, 1, 2.1, 2.2, **{"lk.agent_label": "pkg.B"}),
        _span("realtime_assistant_turn", 8, 1, 2.2, 3.0, **{sc.LK_REALTIME_MODEL_METRICS: m}),
    ]
    figures = call_figures(spans)
    a = figures.attributes
    assert a[4][sc.TURN_AGENT] == "pkg.A" and a[8][sc.TURN_AGENT] == "pkg.B"
    assert a[4][sc.TURN_LLM_TTFT] == 0.25 and a[4][sc.TURN_INPUT_TOKENS] == 30
    assert figures.handoffs == [handoff.Handoff("pkg.A", "pkg.B", "go_b", 2.1)]
    assert a[1][sc.SESSION_AGENTS] == ("pkg.A", "pkg.B")
    assert a[1][sc.SESSION_INPUT_TOKENS] == 60
