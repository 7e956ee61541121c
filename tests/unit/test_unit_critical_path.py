"""critical_path and its attribute helpers on hand-built timelines, with exact values."""

from __future__ import annotations

import dataclasses
import itertools

import pytest

from lk_otel import semconv as sc
from lk_otel.enrich.critical_path import (
    Stage,
    critical_path,
    path_missing,
    response_latency_attributes,
    stage_attributes,
    stage_totals,
    turn_path_attributes,
)
from lk_otel.enrich.timeline import LlmRound, ToolRun, TtsRun, TurnTimeline

T0 = 1_700_000_000_000_000_000  # an epoch in ns
MS = 1_000_000


def t(ms: float) -> int:
    return T0 + round(ms * MS)


def rows(stages: list[Stage]) -> list[tuple]:
    """(name, start ms, end ms, critical, round, tool) relative to T0."""
    return [
        (s.name, (s.start_ns - T0) / MS, (s.end_ns - T0) / MS, s.critical, s.round, s.tool)
        for s in stages
    ]


def path(stages: list[Stage]) -> list[tuple]:
    return [r for r in rows(stages) if r[3]]


def off(stages: list[Stage]) -> list[tuple]:
    return [r for r in rows(stages) if not r[3]]


def assert_tiles(stages: list[Stage], timeline: TurnTimeline) -> None:
    crit = [s for s in stages if s.critical]
    assert crit[0].start_ns == timeline.user_stop_ns
    assert crit[-1].end_ns == timeline.audio_start_ns
    for a, b in itertools.pairwise(crit):
        assert a.end_ns == b.start_ns
    for s in stages:
        assert timeline.user_stop_ns <= s.start_ns <= s.end_ns <= timeline.audio_start_ns


def base(**changes) -> TurnTimeline:
    """A reply without preemptive generation: EOT 500, hook 505-506, LLM 510 (token 800),
    TTS from 800 (ttfb 250), audio at 1060."""
    timeline = TurnTimeline(
        user_stop_ns=t(0),
        audio_start_ns=t(1060),
        end_of_turn_ns=t(500),
        transcript_ns=t(300),
        on_user_turn_completed_ns=(t(505), t(506)),
        llm=(LlmRound(t(510), t(900), t(800)),),
        tts=(TtsRun(t(800), t(1100), t(1050)),),
    )
    return dataclasses.replace(timeline, **changes)


def test_a_plain_reply_tiles_user_stop_to_first_audio() -> None:
    timeline = base()
    stages = critical_path(timeline)
    assert path(stages) == [
        ("end_of_turn", 0, 500, True, None, None),
        ("untracked", 500, 505, True, None, None),
        ("on_user_turn_completed", 505, 506, True, None, None),
        ("untracked", 506, 510, True, None, None),
        ("llm", 510, 800, True, 1, None),
        ("tts", 800, 1050, True, None, None),
        ("playout", 1050, 1060, True, None, None),
    ]
    assert off(stages) == [("transcription", 0, 300, False, None, None)]
    assert_tiles(stages, timeline)
    # ordered by start; the critical stage first at the same instant
    assert [s.name for s in stages][:2] == ["end_of_turn", "transcription"]


def test_preemptive_generation_before_the_end_of_turn_is_off_the_path() -> None:
    timeline = base(llm=(LlmRound(t(350), t(900), t(600)),), tts=(TtsRun(t(600), t(900), t(850)),))
    stages = critical_path(timeline)
    assert path(stages) == [
        ("end_of_turn", 0, 500, True, None, None),
        ("untracked", 500, 505, True, None, None),
        ("on_user_turn_completed", 505, 506, True, None, None),
        ("llm", 506, 600, True, 1, None),
        ("tts", 600, 850, True, None, None),
        ("playout", 850, 1060, True, None, None),
    ]
    assert off(stages) == [
        ("transcription", 0, 300, False, None, None),
        ("preemptive_llm", 350, 506, False, 1, None),
    ]
    assert_tiles(stages, timeline)
    attrs = turn_path_attributes(stages, timeline)
    assert attrs[sc.TURN_STAGE_PREFIX + "llm"] == pytest.approx(0.094, abs=1e-12)
    assert attrs[sc.TURN_SPOKEN_LLM_TTFT] == pytest.approx(0.25, abs=1e-12)


def test_a_first_token_before_the_end_of_turn_leaves_no_llm_stage_on_the_path() -> None:
    timeline = base(
        llm=(LlmRound(t(350), t(480), t(450)),),
        tts=(TtsRun(t(506), t(900), t(756)),),
        audio_start_ns=t(760),
    )
    stages = critical_path(timeline)
    assert path(stages) == [
        ("end_of_turn", 0, 500, True, None, None),
        ("untracked", 500, 505, True, None, None),
        ("on_user_turn_completed", 505, 506, True, None, None),
        ("tts", 506, 756, True, None, None),
        ("playout", 756, 760, True, None, None),
    ]
    assert ("preemptive_llm", 350, 450, False, 1, None) in off(stages)  # to its token
    attrs = turn_path_attributes(stages, timeline)
    assert attrs[sc.TURN_LLM_ROUNDS] == 1
    assert sc.TURN_STAGE_PREFIX + "llm" not in attrs
    assert attrs[sc.TURN_SPOKEN_LLM_TTFT] == pytest.approx(0.1, abs=1e-12)


def tool_turn(**changes) -> TurnTimeline:
    """Round 1 calls check (tool 705-707, stream to 900), round 2 from 920 speaks at 1400."""
    fields = {
        "llm": (
            LlmRound(t(510), t(900), t(700), tool_calls=("check",)),
            LlmRound(t(920), t(1500), t(1400)),
        ),
        "tools": (ToolRun("check", t(705), t(707)),),
        "tts": (TtsRun(t(1400), t(1700), t(1640)),),
        "audio_start_ns": t(1650),
    }
    return base(**{**fields, **changes})


def test_a_tool_round_puts_the_tool_and_both_llm_rounds_on_the_path() -> None:
    timeline = tool_turn()
    stages = critical_path(timeline)
    assert path(stages)[4:] == [
        ("llm", 510, 705, True, 1, None),
        ("tool", 705, 707, True, None, "check"),
        ("llm_finish", 707, 900, True, 1, None),
        ("tool_handoff", 900, 920, True, None, None),
        ("llm", 920, 1400, True, 2, None),
        ("tts", 1400, 1640, True, None, None),
        ("playout", 1640, 1650, True, None, None),
    ]
    assert_tiles(stages, timeline)
    attrs = turn_path_attributes(stages, timeline)
    assert attrs[sc.TURN_LLM_ROUNDS] == 2
    assert attrs[sc.TURN_STAGE_PREFIX + "llm"] == pytest.approx(0.675, abs=1e-12)
    assert attrs[sc.TURN_STAGE_PREFIX + "tool"] == pytest.approx(0.002, abs=1e-12)
    assert attrs[sc.TURN_STAGE_PREFIX + "tool_handoff"] == pytest.approx(0.02, abs=1e-12)
    assert attrs[sc.TURN_SPOKEN_LLM_TTFT] == pytest.approx(0.48, abs=1e-12)
    assert attrs[sc.TURN_SLOWEST_STAGE] == "llm"
    assert attrs[sc.TURN_CRITICAL_PATH] == pytest.approx(1.65, abs=1e-12)


def test_a_tool_run_after_its_rounds_stream_ended_follows_it() -> None:
    # livekit 1.2 runs the tool once the LLM stream is over
    timeline = tool_turn(tools=(ToolRun("check", t(902), t(903)),))
    assert path(critical_path(timeline))[4:8] == [
        ("llm", 510, 900, True, 1, None),
        ("untracked", 900, 902, True, None, None),
        ("tool", 902, 903, True, None, "check"),
        ("tool_handoff", 903, 920, True, None, None),
    ]


def test_parallel_tools_put_only_the_last_to_finish_on_the_path() -> None:
    timeline = tool_turn(tools=(ToolRun("a", t(705), t(710)), ToolRun("b", t(705), t(720))))
    stages = critical_path(timeline)
    assert path(stages)[5:7] == [
        ("tool", 705, 720, True, None, "b"),
        ("llm_finish", 720, 900, True, 1, None),
    ]
    assert ("tool", 705, 710, False, None, "a") in off(stages)
    assert_tiles(stages, timeline)


def test_sequential_tools_are_both_on_the_path() -> None:
    timeline = tool_turn(tools=(ToolRun("a", t(705), t(710)), ToolRun("b", t(712), t(720))))
    assert path(critical_path(timeline))[4:8] == [
        ("llm", 510, 705, True, 1, None),
        ("tool", 705, 710, True, None, "a"),
        ("untracked", 710, 712, True, None, None),
        ("tool", 712, 720, True, None, "b"),
    ]


def test_a_tool_that_outlasts_its_llm_stream_leads_to_the_handoff() -> None:
    timeline = tool_turn(tools=(ToolRun("slow", t(705), t(910)),))
    assert path(critical_path(timeline))[5:7] == [
        ("tool", 705, 910, True, None, "slow"),
        ("tool_handoff", 910, 920, True, None, None),
    ]


def test_a_spoken_round_that_also_calls_a_tool_ends_the_path_at_its_audio() -> None:
    # "Sure, let me change that." is heard; the tool and the follow-up come after the audio
    timeline = base(
        llm=(
            LlmRound(t(510), t(900), t(600), tool_calls=("update",), spoken=True),
            LlmRound(t(1200), t(1400), t(1300)),
        ),
        tools=(ToolRun("update", t(905), t(906)),),
        tts=(TtsRun(t(600), t(900), t(850), spoken=True), TtsRun(t(1300), t(1500), t(1350))),
        audio_start_ns=t(860),
    )
    stages = critical_path(timeline)
    assert path(stages)[4:] == [
        ("llm", 510, 600, True, 1, None),
        ("tts", 600, 850, True, None, None),
        ("playout", 850, 860, True, None, None),
    ]
    assert off(stages) == [("transcription", 0, 300, False, None, None)]
    assert turn_path_attributes(stages, timeline)[sc.TURN_LLM_ROUNDS] == 1


def test_a_round_whose_output_was_not_spoken_is_off_the_path() -> None:
    # a preemptive generation discarded (cancelled), then the real one
    timeline = base(
        llm=(LlmRound(t(320), t(420), None, cancelled=True), LlmRound(t(510), t(900), t(800))),
    )
    stages = critical_path(timeline)
    assert ("llm", 320, 420, False, 1, None) in off(stages)
    assert ("llm", 510, 800, True, 2, None) in path(stages)
    assert turn_path_attributes(stages, timeline)[sc.TURN_LLM_ROUNDS] == 1
    assert_tiles(stages, timeline)


def test_the_spoken_flag_wins_over_the_latest_round() -> None:
    timeline = base(
        llm=(LlmRound(t(510), t(900), t(600), spoken=True), LlmRound(t(610), t(950), t(700))),
    )
    stages = critical_path(timeline)
    assert ("llm", 510, 600, True, 1, None) in path(stages)
    assert ("llm", 610, 950, False, 2, None) in off(stages)


def test_an_unused_tts_run_is_off_the_path_and_the_spoken_one_is_on_it() -> None:
    # livekit 1.2 opens a TTS node for a tool round that says nothing
    timeline = base(tts=(TtsRun(t(511), t(899), None), TtsRun(t(800), t(1100), t(1050))))
    stages = critical_path(timeline)
    assert ("tts", 511, 899, False, None, None) in off(stages)
    assert ("tts", 800, 1050, True, None, None) in path(stages)


def test_a_tts_started_with_the_llm_gets_its_text_at_the_first_token() -> None:
    # livekit 1.2: the TTS node starts with the LLM; ttfb counts from the first text
    timeline = base(tts=(TtsRun(t(510), t(1100), t(760)),))
    assert path(critical_path(timeline))[-2:] == [
        ("tts", 800, 1050, True, None, None),
        ("playout", 1050, 1060, True, None, None),
    ]


def test_preemptive_tts_before_the_path_is_off_it() -> None:
    timeline = base(
        llm=(LlmRound(t(350), t(480), t(400)),),
        tts=(TtsRun(t(400), t(900), t(560)),),
        audio_start_ns=t(570),
    )
    stages = critical_path(timeline)
    assert path(stages)[-2:] == [
        ("tts", 506, 560, True, None, None),
        ("playout", 560, 570, True, None, None),
    ]
    assert ("preemptive_tts", 400, 506, False, None, None) in off(stages)


def test_a_transcript_later_than_the_end_of_turn_extends_the_path() -> None:
    timeline = base(transcript_ns=t(503))
    stages = critical_path(timeline)
    assert path(stages)[:3] == [
        ("end_of_turn", 0, 500, True, None, None),
        ("transcription", 500, 503, True, None, None),
        ("untracked", 503, 505, True, None, None),
    ]
    assert ("transcription", 0, 500, False, None, None) in off(stages)


def test_missing_timestamps_leave_their_stage_out_and_are_named() -> None:
    # livekit 1.2: no on_user_turn_completed span; here also no end-of-turn delay
    timeline = base(end_of_turn_ns=None, on_user_turn_completed_ns=None)
    stages = critical_path(timeline)
    assert path(stages)[:3] == [
        ("transcription", 0, 300, True, None, None),  # the turn cannot end before it
        ("untracked", 300, 510, True, None, None),
        ("llm", 510, 800, True, 1, None),
    ]
    assert path_missing(timeline) == ("end_of_turn", "on_user_turn_completed")
    assert response_latency_attributes(timeline) == {
        sc.STAGE_NAME: "response_latency",
        sc.STAGE_DURATION: 1.06,
        sc.STAGE_MISSING: ("end_of_turn", "on_user_turn_completed"),
    }
    attrs = turn_path_attributes(stages, timeline)
    assert attrs[sc.TURN_PATH_MISSING] == ("end_of_turn", "on_user_turn_completed")
    assert attrs[sc.TURN_SLOWEST_STAGE] == "transcription"


def test_no_llm_token_or_tts_byte_is_named_missing() -> None:
    timeline = base(llm=(LlmRound(t(510), t(900), None),), tts=(TtsRun(t(800), t(1100), None),))
    stages = critical_path(timeline)
    assert path(stages)[-1] == ("untracked", 506, 1060, True, None, None)
    assert path_missing(timeline) == ("llm", "tts")
    assert sc.TURN_SPOKEN_LLM_TTFT not in turn_path_attributes(stages, timeline)
    assert_tiles(stages, timeline)


def test_nothing_missing_means_no_missing_key() -> None:
    timeline = base()
    assert path_missing(timeline) == ()
    assert sc.STAGE_MISSING not in response_latency_attributes(timeline)
    assert sc.TURN_PATH_MISSING not in turn_path_attributes(critical_path(timeline), timeline)


@pytest.mark.parametrize(
    "changes",
    [
        {"audio_start_ns": None},  # interrupted before any audio
        {"user_stop_ns": None},  # a greeting or say(): no user turn
        {"audio_start_ns": t(-1)},  # audio before the stop: no path
    ],
)
def test_no_path_without_both_ends(changes: dict) -> None:
    timeline = base(**changes)
    assert critical_path(timeline) == []
    assert turn_path_attributes([], timeline) == {}
    assert path_missing(timeline) == ()
    assert response_latency_attributes(timeline) == {}


def test_a_zero_length_hook_is_a_zero_length_stage_on_the_path() -> None:
    timeline = base(on_user_turn_completed_ns=(t(500), t(500)))
    stages = critical_path(timeline)
    assert path(stages)[:3] == [
        ("end_of_turn", 0, 500, True, None, None),
        ("on_user_turn_completed", 500, 500, True, None, None),
        ("untracked", 500, 510, True, None, None),
    ]
    assert turn_path_attributes(stages, timeline)[
        sc.TURN_STAGE_PREFIX + "on_user_turn_completed"
    ] == pytest.approx(0.0, abs=0)


def test_audio_at_the_users_stop_gives_a_zero_length_path() -> None:
    timeline = base(audio_start_ns=t(0))
    stages = critical_path(timeline)
    assert sum(s.duration_ns for s in stages) == 0
    assert all(s.start_ns == s.end_ns == t(0) for s in stages)
    # exactly: every stage would start at the end of the turn's interval, so none is kept
    assert stages == []


def test_a_first_byte_after_the_audio_start_is_cut_at_the_audio() -> None:
    timeline = base(audio_start_ns=t(1000))
    stages = critical_path(timeline)
    assert path(stages)[-1] == ("tts", 800, 1000, True, None, None)
    assert_tiles(stages, timeline)


def test_work_after_the_first_audio_is_not_a_stage() -> None:
    timeline = tool_turn(tts=(TtsRun(t(1400), t(1700), t(1640)), TtsRun(t(1660), t(1800), t(1700))))
    stages = critical_path(timeline)
    assert all(s.end_ns <= t(1650) for s in stages)
    assert sum(1 for s in stages if s.name == "tts") == 1


def test_a_tool_not_owned_by_a_path_round_is_off_the_path() -> None:
    timeline = base(tools=(ToolRun("lookup", t(100), t(120)),))
    assert ("tool", 100, 120, False, None, "lookup") in off(critical_path(timeline))


def test_stage_attributes_and_span_names() -> None:
    tool = Stage("tool", t(0), t(2), tool="check_availability")
    assert stage_attributes(tool) == {
        sc.STAGE_NAME: "tool",
        sc.STAGE_DURATION: 0.002,
        sc.STAGE_CRITICAL: True,
        sc.STAGE_TOOL: "check_availability",
    }
    assert tool.span_name == "tool check_availability"
    llm = Stage("llm", t(0), t(550), round=2)
    assert stage_attributes(llm) == {
        sc.STAGE_NAME: "llm",
        sc.STAGE_DURATION: 0.55,
        sc.STAGE_CRITICAL: True,
        sc.STAGE_ROUND: 2,
    }
    assert llm.span_name == "llm round 2"
    assert Stage("llm", t(0), t(1), critical=False, round=1).span_name == "llm round 1 (off path)"
    assert Stage("transcription", t(0), t(1), critical=False).span_name == "transcription"
    assert Stage("preemptive_llm", 0, 1, critical=False, round=1).span_name == (
        "preemptive llm round 1"
    )
    assert Stage("end_of_turn", 0, 1).span_name == "end of turn"
    assert Stage("tool_handoff", 0, 1).span_name == "tool handoff"
    assert Stage("llm_finish", 0, 1, round=1).span_name == "llm finish round 1"
    assert Stage("custom", 0, 1).span_name == "custom"
    assert Stage("tts", 5, 9).duration_ns == 4
    assert Stage("tts", 0, 250 * MS).seconds == 0.25


def test_stage_totals_sum_critical_stages_by_name_in_path_order() -> None:
    stages = [
        Stage("llm", 0, 3, round=1),
        Stage("tool", 3, 4, tool="a"),
        Stage("llm", 4, 6, round=2),
        Stage("llm", 0, 100, critical=False, round=3),
    ]
    assert stage_totals(stages) == {"llm": 5e-9, "tool": 1e-9}
    assert list(stage_totals(stages)) == ["llm", "tool"]


def test_the_slowest_stage_on_a_tie_is_the_first_on_the_path() -> None:
    timeline = base(
        end_of_turn_ns=t(300),
        transcript_ns=t(100),
        on_user_turn_completed_ns=(t(300), t(300)),
        llm=(LlmRound(t(300), t(900), t(600)),),
        tts=(TtsRun(t(600), t(900), t(900)),),
        audio_start_ns=t(900),
    )
    stages = critical_path(timeline)
    assert [(n, round(v, 9)) for n, v in stage_totals(stages).items()] == [
        ("end_of_turn", 0.3),
        ("on_user_turn_completed", 0.0),
        ("llm", 0.3),
        ("tts", 0.3),
    ]
    assert turn_path_attributes(stages, timeline)[sc.TURN_SLOWEST_STAGE] == "end_of_turn"


def test_turn_path_attributes_of_a_plain_reply_exactly() -> None:
    timeline = base()
    assert turn_path_attributes(critical_path(timeline), timeline) == pytest.approx(
        {
            sc.TURN_STAGE_PREFIX + "end_of_turn": 0.5,
            sc.TURN_STAGE_PREFIX + "untracked": 0.009,
            sc.TURN_STAGE_PREFIX + "on_user_turn_completed": 0.001,
            sc.TURN_STAGE_PREFIX + "llm": 0.29,
            sc.TURN_STAGE_PREFIX + "tts": 0.25,
            sc.TURN_STAGE_PREFIX + "playout": 0.01,
            sc.TURN_CRITICAL_PATH: 1.06,
            sc.TURN_LLM_ROUNDS: 1,
            sc.TURN_SPOKEN_LLM_TTFT: 0.29,
            sc.TURN_SLOWEST_STAGE: "end_of_turn",
        },
        abs=1e-12,
    )


def test_a_round_is_a_tool_round_by_the_tool_runs_it_was_followed_by() -> None:
    # livekit 1.8 spans name no tool calls on llm_node: the function_tool spans tell
    timeline = tool_turn(llm=(LlmRound(t(510), t(900), t(700)), LlmRound(t(920), t(1500), t(1400))))
    assert [r[0] for r in path(critical_path(timeline))][4:7] == ["llm", "tool", "llm_finish"]


def test_a_round_still_running_when_the_next_started_is_not_in_its_chain() -> None:
    timeline = tool_turn(
        llm=(
            LlmRound(t(510), t(930), t(700), tool_calls=("check",)),
            LlmRound(t(920), t(1500), t(1400)),
        )
    )
    stages = critical_path(timeline)
    assert ("llm", 510, 930, False, 1, None) in off(stages)
    assert ("tool", 705, 707, False, None, "check") in off(stages)
    assert ("llm", 920, 1400, True, 2, None) in path(stages)
    assert turn_path_attributes(stages, timeline)[sc.TURN_LLM_ROUNDS] == 1


def test_a_cancelled_tool_round_is_not_in_the_chain() -> None:
    timeline = tool_turn(
        llm=(
            LlmRound(t(510), t(900), t(700), tool_calls=("check",), cancelled=True),
            LlmRound(t(920), t(1500), t(1400)),
        )
    )
    assert turn_path_attributes(critical_path(timeline), timeline)[sc.TURN_LLM_ROUNDS] == 1


def test_a_spoken_round_without_a_first_token_leaves_the_llm_stage_out() -> None:
    timeline = base(llm=(LlmRound(t(510), t(900), None, spoken=True),))
    stages = critical_path(timeline)
    assert [r[0] for r in path(stages)] == [
        "end_of_turn", "untracked", "on_user_turn_completed", "untracked", "tts", "playout",
    ]  # fmt: skip
    assert path(stages)[3] == ("untracked", 506, 800, True, None, None)
    assert path_missing(timeline) == ("llm",)
    assert turn_path_attributes(stages, timeline)[sc.TURN_LLM_ROUNDS] == 1


def test_off_path_work_is_clipped_to_the_turns_interval() -> None:
    timeline = base(
        llm=(LlmRound(t(-50), t(900), t(800)),),
        tools=(ToolRun("late", t(1000), t(1200)), ToolRun("after", t(1060), t(1100))),
    )
    stages = critical_path(timeline)
    assert ("preemptive_llm", 0, 506, False, 1, None) in off(stages)
    assert ("tool", 1000, 1060, False, None, "late") in off(stages)
    assert all(s.tool != "after" for s in stages)  # started at the first audio: not shown
    assert_tiles(stages, timeline)


def test_a_late_token_reading_does_not_push_the_first_byte_past_the_audio() -> None:
    # LLMMetrics says the token came at 820, but the TTS had its text by 810 at the latest:
    # its 250 ms ttfb ended when the audio started at 1060
    timeline = base(
        llm=(LlmRound(t(510), t(900), t(820)),), tts=(TtsRun(t(800), t(1100), t(1050)),)
    )
    assert path(critical_path(timeline))[-2:] == [
        ("llm", 510, 810, True, 1, None),
        ("tts", 810, 1060, True, None, None),
    ]
