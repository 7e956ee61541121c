"""The critical path on real simulated calls: every answering turn's stages, built from
livekit's raw spans, tile user stop → first audio and add up to livekit's own e2e.

The built-in scenario has a say() greeting, a tool round that is silent until the tool's
answer, an interrupted reply, and a spoken round that also calls a tool; it runs with
preemptive generation on and off, on every installed livekit version.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest

from lk_otel import _compat
from lk_otel import semconv as sc
from lk_otel.enrich.critical_path import Stage, critical_path, turn_path_attributes
from lk_otel.enrich.timeline import TurnTimeline
from support.timeline_from_spans import timelines_from_spans

SimulatedCall = Any  # conftest.SimulatedCall

TILE_TOL_NS = 5_000_000  # critical stages tile response_latency within 5 ms
E2E_TOL = 0.020  # s: the path's sum vs livekit's e2e
CATCH_ALL_MAX_NS = 20_000_000  # an untracked stage stays at most 20 ms
SPEED = 4.0


@pytest.fixture(scope="module", params=[True, False], ids=["preemptive", "no-preemptive"])
def call(request: pytest.FixtureRequest, simulated_call: Any) -> SimulatedCall:
    return asyncio.run(simulated_call(None, speed=SPEED, preemptive_generation=request.param))


def _turns(call: SimulatedCall) -> list[tuple[Any, TurnTimeline, list[Stage]]]:
    """(turn span, timeline, stages) of every answering turn, in start order."""
    by_id = {s.context.span_id: s for s in call.spans}
    timelines = timelines_from_spans(call.spans)
    out = [(by_id[i], tl, critical_path(tl)) for i, tl in timelines.items()]
    return sorted(out, key=lambda row: row[0].start_time)


def _critical(stages: list[Stage]) -> list[Stage]:
    return [s for s in stages if s.critical]


def _livekit_e2e(call: SimulatedCall, turn: Any, timeline: TurnTimeline) -> float:
    """livekit's e2e of the turn: its ``lk.e2e_latency`` (1.8), else first audio minus the
    EOU metric's last speaking time (1.2 puts no latency on its spans)."""
    attrs = dict(turn.attributes or {})
    if sc.LK_E2E_LATENCY in attrs:
        return attrs[sc.LK_E2E_LATENCY]
    eou = {m.speech_id: m for m in call.result.metrics_of("EOUMetrics")}
    last_speaking = eou[attrs[sc.LK_SPEECH_ID]].last_speaking_time
    return timeline.audio_start_ns / 1e9 - last_speaking


def test_every_answering_turn_has_a_path(call: SimulatedCall) -> None:
    turns = _turns(call)
    assert len(turns) == len(call.result.scenario.turns)  # the say() greeting answers no one
    for _, timeline, stages in turns:
        assert _critical(stages), timeline


def test_critical_stages_tile_user_stop_to_first_audio(call: SimulatedCall) -> None:
    for turn, timeline, stages in _turns(call):
        crit = _critical(stages)
        assert abs(crit[0].start_ns - timeline.user_stop_ns) <= TILE_TOL_NS
        assert abs(crit[-1].end_ns - timeline.audio_start_ns) <= TILE_TOL_NS
        for a, b in itertools.pairwise(crit):
            assert abs(b.start_ns - a.end_ns) <= TILE_TOL_NS, (turn.name, a, b)
            assert b.start_ns >= a.end_ns  # never overlapping
        for s in stages:  # nothing drawn outside response_latency
            assert timeline.user_stop_ns <= s.start_ns <= s.end_ns <= timeline.audio_start_ns


def test_the_path_adds_up_to_livekits_e2e(call: SimulatedCall) -> None:
    for turn, timeline, stages in _turns(call):
        total = sum(s.duration_ns for s in _critical(stages)) / 1e9
        assert total == pytest.approx(_livekit_e2e(call, turn, timeline), abs=E2E_TOL)
        attrs = turn_path_attributes(stages, timeline)
        assert attrs[sc.TURN_CRITICAL_PATH] == pytest.approx(total, abs=1e-9)


def test_no_untracked_stage_is_over_20_ms(call: SimulatedCall) -> None:
    untracked = [
        s.duration_ns for _, _, st in _turns(call) for s in st if s.name == sc.STAGE_UNTRACKED
    ]
    assert max(untracked, default=0) <= CATCH_ALL_MAX_NS, untracked


def test_the_tool_turn_holds_the_tool_and_both_llm_rounds(call: SimulatedCall) -> None:
    turn, timeline, stages = _turns(call)[0]  # check_availability, then the spoken answer
    speech_id = dict(turn.attributes or {})[sc.LK_SPEECH_ID]
    first, second = [m for m in call.result.metrics_of("LLMMetrics") if m.speech_id == speech_id]
    crit = _critical(stages)
    names = [s.name for s in crit]
    tools = [s for s in crit if s.name == sc.STAGE_TOOL_RUN]
    assert [s.tool for s in tools] == ["check_availability"]
    assert sorted({s.round for s in crit if s.name == sc.STAGE_LLM}) == [1, 2]
    assert names.index(sc.STAGE_TOOL_RUN) < max(
        i for i, s in enumerate(crit) if s.name == sc.STAGE_LLM and s.round == 2
    )
    attrs = turn_path_attributes(stages, timeline)
    assert attrs[sc.TURN_LLM_ROUNDS] == 2
    # the TTFT the caller waited for is the second round's, not the tool call's (livekit's
    # TTFT runs from the request, the round from its llm_node: 1 ms later on 1.8, up to
    # ~15 ms on 1.2)
    spoken = attrs[sc.TURN_SPOKEN_LLM_TTFT]
    assert second.ttft <= spoken + 1e-6
    assert spoken == pytest.approx(second.ttft, abs=CATCH_ALL_MAX_NS / 1e9)
    assert abs(spoken - first.ttft) > abs(spoken - second.ttft)
    round2 = [s for s in crit if s.name == sc.STAGE_LLM and s.round == 2]
    assert round2[0].seconds == pytest.approx(spoken, abs=TILE_TOL_NS / 1e9)


def test_stages_equal_livekits_raw_metrics(call: SimulatedCall) -> None:
    """End of turn, transcription and TTS equal the EOU and TTS metrics of the same run."""
    eou = {m.speech_id: m for m in call.result.metrics_of("EOUMetrics")}
    first_tts: dict[str, Any] = {}
    for m in call.result.metrics_of("TTSMetrics"):
        first_tts.setdefault(m.speech_id, m)
    for turn, _, stages in _turns(call):
        speech_id = dict(turn.attributes or {})[sc.LK_SPEECH_ID]
        by_name: dict[str, list[Stage]] = {}
        for s in stages:
            by_name.setdefault(s.name, []).append(s)
        (end_of_turn,) = by_name[sc.STAGE_END_OF_TURN]
        (transcription,) = by_name[sc.STAGE_TRANSCRIPTION]
        (tts,) = [s for s in by_name[sc.STAGE_TTS] if s.critical]
        assert end_of_turn.critical and not transcription.critical
        assert end_of_turn.seconds == pytest.approx(eou[speech_id].end_of_utterance_delay, abs=1e-6)
        assert transcription.seconds == pytest.approx(eou[speech_id].transcription_delay, abs=1e-6)
        assert tts.seconds == pytest.approx(first_tts[speech_id].ttfb, abs=1e-6)


def test_preemptive_generation_runs_off_the_path(
    call: SimulatedCall, request: pytest.FixtureRequest
) -> None:
    """With preemptive generation the first LLM round of a reply (livekit skips it for some)
    starts at the final transcript, well before the end of turn: that part is off the path.
    Without it every round starts at the end of turn (up to the skew between livekit's
    clocks: 1.2 times the end of turn from the EOU metric, the stop from ``user_speaking``)."""
    preemptive = [s for _, _, st in _turns(call) for s in st if s.name == sc.STAGE_PREEMPTIVE_LLM]
    assert all(not s.critical for s in preemptive)
    longest = max((s.duration_ns for s in preemptive), default=0)
    if request.node.callspec.params["call"]:
        assert longest > CATCH_ALL_MAX_NS
    else:
        assert longest <= CATCH_ALL_MAX_NS
        for _, timeline, _ in _turns(call):
            assert timeline.llm[0].start_ns >= timeline.end_of_turn_ns - CATCH_ALL_MAX_NS


def test_the_interrupted_reply_has_its_whole_path(call: SimulatedCall) -> None:
    turns = _turns(call)
    interrupted = [t for t in turns if (t[0].attributes or {}).get(sc.LK_INTERRUPTED)]
    assert len(interrupted) == 1
    _, _, stages = interrupted[0]
    names = [s.name for s in _critical(stages)]
    # playout is absent when the first byte and the audio coincide
    assert names[-2:] == [sc.STAGE_TTS, sc.STAGE_PLAYOUT] or names[-1] == sc.STAGE_TTS
    assert sc.STAGE_END_OF_TURN in names and sc.STAGE_LLM in names


def test_on_user_turn_completed_is_a_stage_where_livekit_times_it(call: SimulatedCall) -> None:
    has_span = bool(call.spans_named(sc.SPAN_ON_USER_TURN_COMPLETED))
    assert has_span == _compat.has_session_usage()  # 1.8 yes, 1.2 no
    for _, _, stages in _turns(call):
        names = {s.name for s in _critical(stages)}
        assert (sc.STAGE_ON_USER_TURN_COMPLETED in names) == has_span
