"""The timing real calls have (issue 17), through a real AgentSession: speech anchored to
the agent's previous reply, blips, scripted interims, LLM/TTS errors, tool calls that end
the turn, parallel tool calls. Each compared with livekit's raw spans/events and with the
injected ground truth (``SimulationResult.truth``)."""

from __future__ import annotations

from typing import Any

import pytest
import pytest_asyncio
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

from lk_otel import _compat
from lk_otel.simulation.vad import ScriptedVAD
from support.simulated import SimulatedCall

TURN_SPAN = _compat.agent_turn_span_name()
NEWER = TURN_SPAN == "agent_turn"  # livekit 1.3+ (1.8 measured); else 1.2
# 1.8 back-dates user_speaking to the start of the speech VAD detected; 1.2 opens it when
# the VAD reports START_OF_SPEECH, min_speech_duration later, and ends it at END_OF_SPEECH
VAD_START_LAG = 0.0 if NEWER else ScriptedVAD(min_silence_duration=0.1).min_speech_duration
TOLERANCE = 0.020
SPEED = 2.0

TIMING: dict[str, Any] = {
    "greeting": {"text": "Hello, how can I help?", "tts": {"ttfb": 0.2, "audio_duration": 1.0}},
    "turns": [
        {
            "user": {
                "text": "What time is it in Tokyo?",
                "speech_duration": 1.2,
                "interim": [{"at": 0.3, "text": "What"}, {"at": 0.9, "text": "What time is"}],
            },
            "llm": [{"ttft": 1.2, "duration": 1.5, "text": "It is nine in the morning."}],
        },
        {
            # the user talks again while the LLM still thinks about turn 0
            "user": {
                "text": "Sorry, I meant Osaka.",
                "speech_duration": 1.0,
                "start": {"after": "llm_request_start", "offset": 0.3},
            },
            "llm": [{"ttft": 0.3, "text": "Osaka is in the same time zone, so it is nine too."}],
            "tts": {"ttfb": 0.2, "audio_duration": 3.0},
            "blips": [{"at": 0.8, "duration": 0.2}],
        },
        {
            # back to back: the user starts the moment the agent's audio ends
            "user": {
                "text": "Thanks.",
                "speech_duration": 0.8,
                "start": {"after": "agent_audio_end", "offset": 0.0},
            },
            "llm": [{"ttft": 0.3, "text": "You're welcome."}],
        },
    ],
}

FAILURES: dict[str, Any] = {
    "turns": [
        {"user": {"text": "Book me a taxi."}, "llm": [{"ttft": 0.3, "error": {"at": 0.4}}]},
        {
            "user": {"text": "Hello?"},
            "llm": [{"ttft": 0.3, "text": "Sorry, I am here."}],
            "tts": {"error": {"at": 0.1}},
        },
        {
            "user": {"text": "Just hang up."},
            "llm": [{"ttft": 0.3, "tool_call": {"name": "end_call", "result": None}}],
        },
        {
            "user": {"text": "Weather and time in Rome?"},
            "llm": [
                {
                    "ttft": 0.3,
                    "tool_calls": [
                        {"name": "get_weather", "arguments": {"city": "Rome"}, "duration": 0.2},
                        {"name": "get_time", "arguments": {"city": "Rome"}, "duration": 0.3},
                    ],
                },
                {"ttft": 0.3, "text": "Sunny, and it is ten."},
            ],
        },
    ]
}


def _seconds(ns: int | None) -> float:
    assert ns is not None
    return ns / 1e9


def _span_at(spans: list[ReadableSpan], start: float) -> ReadableSpan:
    """The span starting closest to wall-clock ``start``."""
    return min(spans, key=lambda s: abs(_seconds(s.start_time) - start))


class _Transcripts:
    def __init__(self) -> None:
        self.events: list[tuple[str, bool]] = []

    def __call__(self, session: Any) -> None:
        session.on(
            "user_input_transcribed",
            lambda ev: self.events.append((ev.transcript, ev.is_final)),
        )


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def timing_call(simulated_call: Any) -> tuple[SimulatedCall, _Transcripts]:
    heard = _Transcripts()
    return await simulated_call(TIMING, speed=SPEED, on_session=heard), heard


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def failures_call(simulated_call: Any) -> SimulatedCall:
    return await simulated_call(FAILURES, speed=SPEED)


def test_user_speech_starts_at_its_anchor(timing_call: tuple[SimulatedCall, Any]) -> None:
    call, _ = timing_call
    truth = call.result.truth
    assert call.result.anomalies == []
    speech = truth.of("user_speech")
    assert [e.turn for e in speech] == [0, 1, 2]
    injected = call.result.injected.turns
    [thinking] = truth.of("llm_request", 0)
    # turn 1 starts 0.3 s (scaled) after the LLM request of the reply to turn 0
    assert speech[1].detail["anchor_at"] == thinking.start
    offset = injected[1].user.start.offset
    assert speech[1].start - thinking.start == pytest.approx(offset, abs=TOLERANCE)
    # livekit's user_speaking spans start when the injected speech does
    speaking = call.spans_named("user_speaking")
    for event in speech:
        span = _span_at(speaking, event.start)
        lag = _seconds(span.start_time) - event.start
        assert lag == pytest.approx(VAD_START_LAG, abs=TOLERANCE)
        if NEWER:  # 1.2 ends it at END_OF_SPEECH, min_silence_duration after the speech
            assert _seconds(span.end_time) - _seconds(span.start_time) == pytest.approx(
                event.duration, abs=TOLERANCE
            )


def test_speech_while_the_llm_thinks_interrupts_before_any_audio(
    timing_call: tuple[SimulatedCall, Any],
) -> None:
    call, _ = timing_call
    truth = call.result.truth
    [thinking] = truth.of("llm_request", 0)
    interrupting = truth.of("user_speech", 1)[0]
    assert (
        thinking.start
        < interrupting.start
        < thinking.start + call.result.injected.turns[0].llm[0].ttft
    )
    replies = [s for s in call.spans_named(TURN_SPAN) if s.attributes.get("lk.interrupted")]
    [reply] = replies
    assert _seconds(reply.start_time) <= thinking.start
    by_parent = [s for s in call.spans if s.parent and s.parent.span_id == reply.context.span_id]
    playout = [s for s in by_parent if s.name == "agent_speaking"]
    if NEWER:  # 1.8 interrupts at the user's speech: it never played
        assert playout == []
    else:  # 1.2 starts playing it and cuts it at the interrupting turn's end
        interrupting_turn = _span_at(call.spans_named("user_turn"), interrupting.start)
        assert all(s.end_time <= interrupting_turn.end_time for s in playout)
    said = [i.text_content for i in call.result.chat_items if getattr(i, "role", "") == "assistant"]
    assert "It is nine in the morning." not in said


def test_back_to_back_speech_starts_when_the_audio_ends(
    timing_call: tuple[SimulatedCall, Any],
) -> None:
    call, _ = timing_call
    speech = call.result.truth.of("user_speech", 2)[0]
    audio = [
        s for s in call.spans_named("agent_speaking") if _seconds(s.end_time) <= speech.start + 0.05
    ]
    assert _seconds(audio[-1].end_time) == pytest.approx(speech.start, abs=TOLERANCE)


def test_a_blip_does_not_interrupt(timing_call: tuple[SimulatedCall, Any]) -> None:
    call, _ = timing_call
    result = call.result
    [blip] = result.truth.of("blip", 1)
    audio = _span_at(call.spans_named("agent_speaking"), blip.start - 0.8 / SPEED)
    assert _seconds(audio.start_time) < blip.start < blip.end < _seconds(audio.end_time)
    assert blip.start - _seconds(audio.start_time) == pytest.approx(0.8 / SPEED, abs=TOLERANCE)
    # livekit heard it (a user_speaking span of the blip's length) but did not interrupt
    heard = _span_at(call.spans_named("user_speaking"), blip.start)
    assert _seconds(heard.start_time) - blip.start == pytest.approx(VAD_START_LAG, abs=TOLERANCE)
    reply = _span_at(call.spans_named(TURN_SPAN), _seconds(audio.start_time))
    assert reply.attributes.get("lk.interrupted") is False
    users = [i.text_content for i in result.chat_items if getattr(i, "role", "") == "user"]
    assert users == [t.user.text for t in result.scenario.turns]
    assistant = [i for i in result.chat_items if getattr(i, "role", "") == "assistant"]
    assert not any(i.interrupted for i in assistant)


def test_scripted_interim_transcripts(timing_call: tuple[SimulatedCall, Any]) -> None:
    call, heard = timing_call
    interims = [text for text, final in heard.events if not final]
    assert interims[:2] == ["What", "What time is"]
    truth = call.result.truth
    speech = truth.of("user_speech", 0)[0]
    sent = truth.of("stt_interim", 0)
    assert [e.detail["text"] for e in sent] == ["What", "What time is"]
    for event, scripted in zip(sent, call.result.injected.turns[0].user.interim, strict=True):
        # each goes out with the first 10 ms frame that reaches its offset
        assert event.start - speech.start == pytest.approx(scripted.at, abs=TOLERANCE)


def test_an_llm_error_fails_its_request_and_the_call_goes_on(
    failures_call: SimulatedCall,
) -> None:
    result = failures_call.result
    assert result.anomalies == []
    [failed] = result.truth.of("llm_request", 0)
    assert failed.outcome == "error"
    requests = failures_call.spans_named("llm_request")
    span = _span_at(requests, failed.start)
    assert span.status.status_code == StatusCode.ERROR
    # no LLMMetrics for the failed request: one per request that completed
    done = [e for e in result.truth.of("llm_request") if e.outcome == "done"]
    assert len(result.metrics_of("LLMMetrics")) == len(done) == 4


def test_a_tts_error_fails_its_synthesis_silently(failures_call: SimulatedCall) -> None:
    result = failures_call.result
    # 1.8 gives up at once; 1.2 retries the stream (max_retry) although it is not retryable
    attempts = result.truth.of("tts_request", 1)
    assert len(attempts) == (1 if NEWER else 4)
    assert {e.outcome for e in attempts} == {"error"}
    failed = attempts[0]
    assert failed.end - failed.start == pytest.approx(0.1 / SPEED, abs=TOLERANCE)
    span = _span_at(failures_call.spans_named("tts_request"), failed.start)
    assert span.status.status_code == StatusCode.ERROR
    assert len(result.metrics_of("TTSMetrics")) == 1  # only turn 3's synthesis completed
    said = [i.text_content for i in result.chat_items if getattr(i, "role", "") == "assistant"]
    # 1.2 records the reply's text as said although no audio played
    assert said == (
        ["Sunny, and it is ten."] if NEWER else ["Sorry, I am here.", "Sunny, and it is ten."]
    )


def test_a_tool_call_can_end_the_turn(failures_call: SimulatedCall) -> None:
    result = failures_call.result
    [tool] = result.truth.of("tool", 2)
    assert tool.detail["name"] == "end_call"
    assert [e.detail["index"] for e in result.truth.of("llm_request", 2)] == [0]
    nodes = failures_call.spans_named("llm_node")
    assert len(nodes) == 5  # 1 failed + 1 + 1 (the tool call, no follow-up) + 2
    tools = failures_call.spans_named("function_tool")
    assert tools[0].attributes["lk.function_tool.name"] == "end_call"


def test_parallel_tool_calls_run_at_once(failures_call: SimulatedCall) -> None:
    result = failures_call.result
    truth = result.truth.of("tool", 3)
    assert sorted(e.detail["name"] for e in truth) == ["get_time", "get_weather"]
    spans = [
        s
        for s in failures_call.spans_named("function_tool")
        if s.attributes["lk.function_tool.name"] != "end_call"
    ]
    assert len(spans) == 2
    first, second = spans
    assert _seconds(second.start_time) < _seconds(first.end_time)  # they overlap
    for event in truth:
        span = next(
            s for s in spans if s.attributes["lk.function_tool.name"] == event.detail["name"]
        )
        assert _seconds(span.end_time) - _seconds(span.start_time) >= event.duration - 0.001
    # one follow-up call answers both
    assert [e.detail["index"] for e in result.truth.of("llm_request", 3)] == [0, 1]


@pytest.mark.parametrize("name", ["chat", "interruptions", "failures", "tools", "handoff"])
async def test_builtin_scenarios_run_as_scripted(name: str, simulated_call: Any) -> None:
    call = await simulated_call(name, speed=4.0)
    result = call.result
    assert result.anomalies == []
    speech = result.truth.of("user_speech")
    assert [e.turn for e in speech] == list(range(len(result.scenario.turns)))
    users = [i.text_content for i in result.chat_items if getattr(i, "role", "") == "user"]
    assert users == [t.user.text for t in result.scenario.turns]


async def test_a_handoff_switches_the_agent_that_answers(simulated_call: Any) -> None:
    call = await simulated_call("handoff", speed=4.0)
    result = call.result
    assert result.anomalies == []
    [handoff] = result.truth.of("handoff", 0)
    assert (handoff.detail["to"], handoff.detail["tool"]) == ("billing", "transfer_to_billing")
    # the new agent answers the turn with the next scripted call, then every later turn
    assert [e.detail["index"] for e in result.truth.of("llm_request", 0)] == [0, 1]
    said = [i.text_content for i in result.chat_items if getattr(i, "role", "") == "assistant"]
    expected = [result.scenario.greeting.text] + [
        c.text for t in result.scenario.turns for c in t.llm if c.text
    ]
    assert said == expected
    if NEWER:  # 1.8 names the agent on each turn and traces the switch
        agents = [s.attributes["gen_ai.agent.name"] for s in call.spans_named(TURN_SPAN)]
        assert agents == ["lk-otel-sim", "lk-otel-sim", "billing", "billing", "billing"]
        [switch] = call.spans_named("update_agent")
        assert (
            switch.attributes["lk.previous_agent_label"],
            switch.attributes["lk.agent_label"],
        ) == (
            "lk-otel-sim",
            "billing",
        )
        assert _seconds(switch.start_time) >= handoff.start - 0.001


CANCELLED: dict[str, Any] = {
    "turns": [
        {
            "user": {"text": "Check my order please."},
            "llm": [
                {"ttft": 0.3, "tool_call": {"name": "lookup", "result": "shipped"}},
                {
                    "ttft": 0.3,
                    "duration": 3.0,
                    "text": "Your order has shipped and it should arrive within the next three to "
                    "five working days, depending on the carrier and on the weather.",
                },
            ],
            "tts": {"ttfb": 0.2, "audio_duration": 6.0},
        },
        {
            # the user cuts in while the follow-up call still streams its text
            "user": {
                "text": "Okay stop, thanks.",
                "speech_duration": 1.0,
                "start": {"after": "llm_request_start", "call": 1, "offset": 1.2},
            },
            "llm": [{"ttft": 0.3, "text": "Sure."}],
        },
    ]
}


async def test_a_follow_up_call_cancelled_by_the_user(simulated_call: Any) -> None:
    call = await simulated_call(CANCELLED, speed=SPEED)
    result = call.result
    assert result.anomalies == []
    first, follow_up = result.truth.of("llm_request", 0)
    assert (first.outcome, follow_up.outcome) == ("done", "cancelled")
    speech = result.truth.of("user_speech", 1)[0]
    assert speech.start - follow_up.start == pytest.approx(1.2 / SPEED, abs=TOLERANCE)
    # livekit (1.2.18 and 1.8.9) reports the cancelled request too: cancelled, no tokens,
    # its duration up to the cancel
    metrics = result.metrics_of("LLMMetrics")
    assert [m.cancelled for m in metrics] == [False, True, False]
    cancelled = metrics[1]
    assert (cancelled.prompt_tokens, cancelled.completion_tokens) == (0, 0)
    assert cancelled.ttft == pytest.approx(0.3 / SPEED, abs=TOLERANCE)
    assert cancelled.duration == pytest.approx(follow_up.duration, abs=TOLERANCE)
    assert any(s.attributes.get("lk.interrupted") for s in call.spans_named(TURN_SPAN))
