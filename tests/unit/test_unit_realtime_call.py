"""call_figures: which span's keys and timestamps feed which figure (exact values)."""

from __future__ import annotations

import json

import pytest

from lk_otel import semconv as sc
from lk_otel.enrich import handoff
from lk_otel.enrich.cost import PriceTable
from lk_otel.enrich.realtime_call import PlainSpan, call_figures

PRICES = PriceTable.parse({"openai/gpt-rt": {"input_per_1m": 1.0, "output_per_1m": 2.0}})


def _metrics(request_id: str) -> str:
    return json.dumps(
        {
            "type": "realtime_model_metrics",
            "request_id": request_id,
            "ttft": 0.4,
            "input_tokens": 30,
            "output_tokens": 20,
            "input_token_details": {"text_tokens": 30},
            "output_token_details": {"text_tokens": 20},
            "metadata": {"model_name": "gpt-rt", "model_provider": "openai"},
        }
    )


def _span(name: str, sid: int, parent: int | None, start: float, end: float, **attrs) -> PlainSpan:
    return PlainSpan(name, sid, parent, start, end, attrs)


SPANS = [
    _span("agent_session", 1, None, 0.0, 20.0),
    # a turn before any agent activity: no agent, and not interrupted although the user
    # started inside its audio (a pipeline turn says so itself)
    _span("agent_turn", 20, 1, 0.5, 0.9),
    _span("agent_speaking", 21, 20, 0.6, 0.8),
    _span("user_speaking", 22, 1, 0.7, 0.75),
    _span("user_speaking", 3, 1, 1.0, 2.0),
    _span("start_agent_activity", 2, 1, 2.0, 2.05, **{"lk.agent_label": "front"}),
    _span(
        "agent_turn",
        4,
        1,
        2.0,
        6.0,
        **{"lk.e2e_latency": 0.7, "lk.interrupted": True, "lk.playout.position": 0.4},
    ),
    _span("realtime_inference", 5, 4, 2.0, 2.5, **{sc.LK_REALTIME_MODEL_METRICS: _metrics("a")}),
    _span("agent_turn", 7, 4, 2.1, 2.2),  # nested in a turn: not a turn of its own
    _span(
        "function_tool", 8, 4, 2.5, 3.0, **{"gen_ai.tool.name": "", "lk.function_tool.name": "book"}
    ),
    _span("function_tool", 9, 4, 2.6, 2.7, **{"gen_ai.tool.name": "zed"}),
    _span(
        "update_agent",
        10,
        1,
        3.0,
        3.1,
        **{"lk.previous_agent_label": "front", "lk.agent_label": "back"},
    ),
    _span("agent_speaking", 6, 4, 2.9, 4.0),
    # a realtime turn that livekit did not mark interrupted, cut by the user inside its audio
    _span("realtime_assistant_turn", 30, 1, 10.0, 14.0),
    _span(
        "realtime_inference", 33, 30, 10.0, 10.4, **{sc.LK_REALTIME_MODEL_METRICS: _metrics("b")}
    ),
    _span("agent_speaking", 31, 30, 10.5, 12.0),
    _span("user_speaking", 32, 1, 11.0, 11.5),
]


def test_call_figures_exactly() -> None:
    figures = call_figures(SPANS, prices=PRICES)
    a = figures.attributes
    one = (30 * 1.0 + 20 * 2.0) / 1e6
    assert a[20] == {}
    assert 7 not in a
    assert a[4][sc.TURN_AGENT] == "front"
    assert a[4][sc.TURN_E2E_LATENCY] == 0.7  # livekit's own figure wins
    assert a[4][sc.TURN_PLAYED_DURATION] == 0.4  # the playout position, not the spans
    assert sc.TURN_BARGE_IN_STOP_LATENCY not in a[4]
    assert a[4][sc.TURN_COST] == pytest.approx(one, rel=1e-12)
    assert a[5][sc.REALTIME_COST] == pytest.approx(one, rel=1e-12)
    assert a[30][sc.TURN_BARGE_IN_STOP_LATENCY] == pytest.approx(1.0)  # 12.0 - 11.0
    assert a[30][sc.TURN_PLAYED_DURATION] == pytest.approx(0.5)  # 1.5 played - 1.0 over
    assert sc.TURN_E2E_LATENCY not in a[30]  # the user's speech before it was answered
    assert a[1][sc.SESSION_COST] == pytest.approx(2 * one, rel=1e-12)
    assert a[1][sc.SESSION_AGENTS] == ("front", "back")
    assert figures.handoffs == [handoff.Handoff("front", "back", "book", 3.0)]


def test_without_prices_no_cost() -> None:
    a = call_figures(SPANS).attributes
    assert sc.TURN_COST not in a[4] and sc.REALTIME_COST not in a[5]
    assert sc.SESSION_COST not in a[1]


def test_a_turn_nested_deeper_in_a_turn_is_not_a_turn() -> None:
    spans = [
        _span("agent_session", 1, None, 0.0, 9.0),
        _span("agent_turn", 4, 1, 2.0, 6.0),
        _span(
            "realtime_inference", 5, 4, 2.0, 2.5, **{sc.LK_REALTIME_MODEL_METRICS: _metrics("a")}
        ),
        _span("agent_turn", 40, 5, 2.1, 2.2, **{"gen_ai.agent.name": "x"}),
    ]
    assert 40 not in call_figures(spans).attributes


def test_a_single_agent_session_and_a_handoff_without_a_tool() -> None:
    solo = [
        _span("agent_session", 1, None, 0.0, 9.0),
        _span("start_agent_activity", 2, 1, 0.0, 0.1, **{"lk.agent_label": "solo"}),
    ]
    assert call_figures(solo).attributes[1][sc.SESSION_AGENTS] == ("solo",)
    spans = [
        *solo,
        _span(
            "update_agent",
            3,
            1,
            1.0,
            1.1,
            **{"lk.previous_agent_label": "solo", "lk.agent_label": "b"},
        ),
    ]
    assert call_figures(spans).handoffs == [handoff.Handoff("solo", "b", None, 1.0)]


def test_the_users_speech_ending_at_the_first_audio_is_answered_by_it() -> None:
    spans = [
        _span("agent_session", 1, None, 0.0, 9.0),
        _span("user_speaking", 3, 1, 1.0, 2.0),
        _span("agent_turn", 4, 1, 1.5, 6.0),
        _span(
            "realtime_inference", 5, 4, 1.5, 2.5, **{sc.LK_REALTIME_MODEL_METRICS: _metrics("a")}
        ),
        _span("agent_speaking", 6, 4, 2.0, 3.0),
    ]
    assert call_figures(spans).attributes[4][sc.TURN_E2E_LATENCY] == 0.0
