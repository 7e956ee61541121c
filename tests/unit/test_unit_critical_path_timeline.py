"""The report's timeline builder on hand-made span records of both livekit releases."""

from __future__ import annotations

import json
from typing import Any

from lk_otel import semconv as sc
from lk_otel.enrich.timeline import LlmRound, ToolRun, TtsRun, TurnTimeline
from lk_otel.report.records import SpanRecord
from lk_otel.report.timeline import timelines_from_records

T0 = 1_700_000_000_000_000_000
MS = 1_000_000
TRACE = "a" * 32


def t(ms: float) -> int:
    return T0 + round(ms * MS)


class Spans:
    def __init__(self) -> None:
        self.records: list[SpanRecord] = []

    def add(self, name: str, parent: str | None, start: float, end: float, **attrs: Any) -> str:
        span_id = f"{len(self.records) + 1:016x}"
        self.records.append(SpanRecord(TRACE, span_id, parent, name, t(start), t(end), attrs))
        return span_id


def llm(spans: Spans, parent: str, start: float, end: float, ttft: float, **node: Any) -> None:
    node_id = spans.add(sc.SPAN_LLM_NODE, parent, start, end, **node)
    metrics = json.dumps({"ttft": ttft, "cancelled": False})
    spans.add(sc.SPAN_LLM_REQUEST, node_id, start + 1, end, **{sc.LK_LLM_METRICS: metrics})


def tts(spans: Spans, parent: str, start: float, end: float, ttfb: float | None) -> None:
    node_id = spans.add(sc.SPAN_TTS_NODE, parent, start, end)
    attrs = {sc.LK_TTS_METRICS: json.dumps({"ttfb": ttfb})} if ttfb is not None else {}
    spans.add(sc.SPAN_TTS_REQUEST, node_id, start, end, **attrs)


def test_a_livekit_1_8_reply_with_a_tool_round() -> None:
    s = Spans()
    session = s.add(sc.SPAN_AGENT_SESSION, None, 0, 9000)
    greeting = s.add(sc.SPAN_AGENT_TURN, session, 10, 900)
    s.add(sc.SPAN_AGENT_SPEAKING, greeting, 100, 900)
    user = s.add(
        sc.SPAN_USER_TURN, session, 1000, 2150, **{sc.LK_TRANSCRIPTION_DELAY: 0.9}
    )  # the user turn's own keys lose to the turn's
    s.add(sc.SPAN_USER_SPEAKING, user, 1000, 2000)
    s.add(sc.SPAN_ON_USER_TURN_COMPLETED, user, 2501, 2502)
    turn = s.add(
        sc.SPAN_AGENT_TURN,
        session,
        2300,
        4000,
        **{
            sc.LK_E2E_LATENCY: 1.2,
            sc.LK_END_OF_TURN_DELAY: 0.5,
            sc.LK_TRANSCRIPTION_DELAY: 0.3,
            sc.TURN_KIND: "reply",
        },
    )
    llm(s, turn, 2310, 2900, ttft=0.2)
    s.add(sc.SPAN_FUNCTION_TOOL, turn, 2512, 2515, **{sc.GEN_AI_TOOL_NAME: "find_slot"})
    llm(s, turn, 2920, 3300, ttft=0.1)
    tts(s, turn, 3021, 3300, ttfb=0.15)
    s.add(sc.SPAN_AGENT_SPEAKING, turn, 3200, 4000)
    (key, timeline), *rest = timelines_from_records(s.records).items()
    assert not rest  # the greeting answers no user turn
    assert key == (TRACE, turn)
    assert timeline == TurnTimeline(
        user_stop_ns=t(2000),
        audio_start_ns=t(3200),
        end_of_turn_ns=t(2500),
        transcript_ns=t(2300),
        on_user_turn_completed_ns=(t(2501), t(2502)),
        llm=(LlmRound(t(2310), t(2900), t(2511)), LlmRound(t(2920), t(3300), t(3021))),
        tools=(ToolRun("find_slot", t(2512), t(2515)),),
        tts=(TtsRun(t(3021), t(3300), t(3171)),),
    )


def test_a_livekit_1_2_reply_with_a_nested_follow_up() -> None:
    s = Spans()
    session = s.add(sc.SPAN_AGENT_SESSION, None, 0, 9000)
    user = s.add(
        sc.SPAN_USER_TURN,
        session,
        1000,
        2500,
        **{sc.LK_END_OF_UTTERANCE_DELAY: 0.5, sc.LK_TRANSCRIPTION_DELAY: 0.25},
    )
    # the span ends when VAD silence is confirmed; lk.end_time is when the user stopped
    s.add(sc.SPAN_USER_SPEAKING, user, 1000, 2070, **{sc.LK_END_TIME: t(2000) / 1e9})
    turn = s.add(sc.SPAN_ASSISTANT_TURN, session, 2502, 3000)
    calls = json.dumps([{"name": "find_slot"}])
    llm(s, turn, 2503, 2800, ttft=0.1, **{sc.LK_RESPONSE_FUNCTION_CALLS: calls})
    tts(s, turn, 2504, 2801, ttfb=None)  # 1.2 opens a TTS node for the silent round
    s.add(sc.SPAN_FUNCTION_TOOL, turn, 2802, 2803, **{sc.LK_FUNCTION_TOOL_NAME: "find_slot"})
    follow_up = s.add(sc.SPAN_ASSISTANT_TURN, turn, 2805, 4000)
    llm(s, follow_up, 2806, 3200, ttft=0.2)
    tts(s, follow_up, 2807, 3300, ttfb=0.1)
    s.add(sc.SPAN_AGENT_SPEAKING, follow_up, 3120, 4000, **{sc.LK_END_TIME: 4.0})
    timelines = timelines_from_records(s.records)
    assert list(timelines) == [(TRACE, turn)]  # the nested follow-up is part of its turn
    timeline = timelines[(TRACE, turn)]
    assert timeline == TurnTimeline(
        user_stop_ns=t(2000),
        audio_start_ns=t(3120),
        end_of_turn_ns=t(2500),
        transcript_ns=t(2250),
        on_user_turn_completed_ns=None,  # no span on 1.2
        llm=(
            LlmRound(t(2503), t(2800), t(2604), tool_calls=("find_slot",)),
            LlmRound(t(2806), t(3200), t(3007)),
        ),
        tools=(ToolRun("find_slot", t(2802), t(2803)),),
        tts=(TtsRun(t(2504), t(2801), None), TtsRun(t(2807), t(3300), t(2907))),
    )


def test_without_user_speaking_the_stop_is_first_audio_minus_e2e() -> None:
    s = Spans()
    session = s.add(sc.SPAN_AGENT_SESSION, None, 0, 9000)
    s.add(sc.SPAN_USER_TURN, session, 1000, 2100)
    turn = s.add(sc.SPAN_AGENT_TURN, session, 2200, 4000, **{sc.TURN_E2E_LATENCY: 0.75})
    s.add(sc.SPAN_AGENT_SPEAKING, turn, 2800, 4000)
    (timeline,) = timelines_from_records(s.records).values()
    assert (timeline.user_stop_ns, timeline.audio_start_ns) == (t(2050), t(2800))
    assert timeline.end_of_turn_ns is None and timeline.transcript_ns is None


def test_a_turn_interrupted_before_audio_has_no_ends() -> None:
    s = Spans()
    session = s.add(sc.SPAN_AGENT_SESSION, None, 0, 9000)
    user = s.add(sc.SPAN_USER_TURN, session, 1000, 2100)
    s.add(sc.SPAN_USER_SPEAKING, user, 1000, 2000)
    s.add(sc.SPAN_AGENT_TURN, session, 2200, 2400, **{sc.LK_INTERRUPTED: True})
    (timeline,) = timelines_from_records(s.records).values()
    assert (timeline.user_stop_ns, timeline.audio_start_ns) == (None, None)


def test_a_say_after_a_reply_answers_no_one() -> None:
    s = Spans()
    session = s.add(sc.SPAN_AGENT_SESSION, None, 0, 9000)
    user = s.add(sc.SPAN_USER_TURN, session, 1000, 2100)
    s.add(sc.SPAN_USER_SPEAKING, user, 1000, 2000)
    reply = s.add(sc.SPAN_AGENT_TURN, session, 2200, 3000)
    s.add(sc.SPAN_AGENT_TURN, session, 3100, 3500, **{sc.TURN_KIND: "say"})
    assert list(timelines_from_records(s.records)) == [(TRACE, reply)]
