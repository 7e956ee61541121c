"""Barge-in on the package's scripted pipeline call (VAD, STT, LLM, TTS): livekit's
``lk.playout.position`` and span times against the scenario's injected interruption."""

from __future__ import annotations

import asyncio
import time

from lk_otel import _compat
from lk_otel import semconv as sc
from lk_otel.enrich.realtime_call import call_figures
from lk_otel.simulation.scenario import MIN_INTERRUPTION_DURATION
from support.otlp_receiver import OtlpReceiver
from support.realtime_calls import exported_figures, pipeline_call

SPEED = 2.0


def test_pipeline_barge_in_against_the_scripted_interruption() -> None:
    with OtlpReceiver() as r:
        result, spans, plain = asyncio.run(pipeline_call(r, speed=SPEED))
    figures = call_figures(plain).attributes
    turn_name = _compat.agent_turn_span_name()
    turns = sorted((s for s in spans if s.name == turn_name), key=lambda s: s.start_ns)
    interrupted = [t for t in turns if t.attributes.get("lk.interrupted")]
    planned = [t for t in result.injected.turns if t.interrupt_after is not None]
    assert len(interrupted) == len(planned) == 1
    turn, plan = interrupted[0], planned[0]
    attrs = figures[turn.span_id]
    assert abs(attrs[sc.TURN_PLAYED_DURATION] - plan.interrupt_after) < 0.100
    # VAD interruption: the agent goes on over the user for the minimum interruption time
    # (1.8; measured 0.199 s instead of 0.250 on 1.2, whose VAD counts it differently)
    latency = attrs[sc.TURN_BARGE_IN_STOP_LATENCY]
    if _compat.has_session_usage():
        assert abs(latency - MIN_INTERRUPTION_DURATION / SPEED) < 0.040
    else:
        assert 0.0 < latency < MIN_INTERRUPTION_DURATION / SPEED + 0.040
    position = turn.attributes.get("lk.playout.position")
    if position is not None:  # 1.8: livekit's own playback position when the reply was cut
        total = attrs[sc.TURN_PLAYED_DURATION] + attrs[sc.TURN_BARGE_IN_STOP_LATENCY]
        assert abs(total - position) < 1e-9
    for other in turns:
        if other is not turn:
            assert sc.TURN_PLAYED_DURATION not in figures.get(other.span_id, {})
    # what setup_tracing() exported on the turn: the same figures
    exported = exported_figures(spans).attributes
    assert exported[turn.span_id][sc.TURN_PLAYED_DURATION] == attrs[sc.TURN_PLAYED_DURATION]
    assert abs(exported[turn.span_id][sc.TURN_PLAYED_DURATION] - plan.interrupt_after) < 0.100
    assert exported[turn.span_id][sc.TURN_BARGE_IN_STOP_LATENCY] == latency
    assert [t.span_id for t in turns if sc.TURN_PLAYED_DURATION in exported[t.span_id]] == [
        turn.span_id
    ]
    outermost = [t for t in turns if sc.TURN_INDEX in exported[t.span_id]]  # 1.2 nests
    assert len(outermost) >= len(result.injected.turns)  # 1.8 also has the greeting's
    assert all(sc.TURN_AGENT in exported[t.span_id] for t in outermost)


NOISE_CODE = 99  # an utterance code the scripted STT has no words for: no transcript


def test_a_noise_over_the_agent_is_a_false_interruption_and_the_agent_resumes() -> None:
    """A noise (VAD speech, no words) 0.3 s into the greeting: livekit pauses the agent,
    finds no transcript, reports ``agent_false_interruption(resumed=True)`` and resumes."""
    events: list[tuple[str, float, bool]] = []

    def on_session(session) -> None:
        microphone = session.input.audio

        async def noise() -> None:
            speaking = asyncio.get_running_loop().create_future()

            def on_state(ev) -> None:
                if ev.new_state == "speaking" and not speaking.done():
                    speaking.set_result(None)

            session.on("agent_state_changed", on_state)
            await speaking
            await asyncio.sleep(0.3 / SPEED)
            await microphone.speak(NOISE_CODE, 1.0 / SPEED)

        def on_false(ev) -> None:
            events.append(("false_interruption", time.time(), ev.resumed))

        session.on("agent_false_interruption", on_false)
        asyncio.get_running_loop().create_task(noise())

    with OtlpReceiver() as r:
        result, spans, plain = asyncio.run(pipeline_call(r, speed=SPEED, on_session=on_session))
    assert result.anomalies == []
    flags = [resumed for _, _, resumed in events]
    figures = call_figures(plain, false_interruptions=flags).attributes
    (session,) = [s for s in spans if s.name == "agent_session"]
    assert flags == [True]  # both releases resume a paused reply by default
    assert figures[session.span_id][sc.SESSION_FALSE_INTERRUPTIONS] == 1
    assert figures[session.span_id][sc.SESSION_RESUMED_INTERRUPTIONS] == 1
    # setup_tracing() heard the same events through its session feed
    assert session.attributes[sc.SESSION_FALSE_INTERRUPTIONS] == 1
    assert session.attributes[sc.SESSION_RESUMED_INTERRUPTIONS] == 1
    # resumed: the greeting was not cut, so only the scripted interruption has barge-in figures
    turn_name = _compat.agent_turn_span_name()
    cut = [
        s
        for s in spans
        if s.name == turn_name and sc.TURN_PLAYED_DURATION in figures.get(s.span_id, {})
    ]
    assert len(cut) == len([t for t in result.injected.turns if t.interrupt_after is not None])
