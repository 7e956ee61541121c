"""Critical-path edges the placement tests leave open: which TTS run is the spoken one,
and a turn whose first audio is at the user's stop (a path of zero length, not none)."""

from __future__ import annotations

import dataclasses

from lk_otel import semconv as sc
from lk_otel.enrich import critical_path as cp
from lk_otel.enrich.critical_path import (
    critical_path,
    path_missing,
    response_latency_attributes,
)
from lk_otel.enrich.timeline import LlmRound, ToolRun, TtsRun, TurnTimeline

T0 = 1_700_000_000_000_000_000
MS = 1_000_000


def t(ms: float) -> int:
    return T0 + round(ms * MS)


def base(**changes: object) -> TurnTimeline:
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


def tts_on_path(timeline: TurnTimeline) -> list[tuple[float, float]]:
    return [
        ((s.start_ns - T0) / MS, (s.end_ns - T0) / MS)
        for s in critical_path(timeline)
        if s.critical and s.name == sc.STAGE_TTS
    ]


def test_the_flagged_tts_run_wins_over_a_later_heard_one() -> None:
    runs = (TtsRun(t(800), t(1100), t(900), spoken=True), TtsRun(t(850), t(1100), t(1000)))
    assert tts_on_path(base(tts=runs)) == [(800.0, 900.0)]


def test_a_flagged_run_starting_at_the_audio_is_not_the_spoken_one() -> None:
    runs = (
        TtsRun(t(800), t(1100), t(1050), spoken=True),
        TtsRun(t(1060), t(1200), t(1100), spoken=True),
    )
    assert tts_on_path(base(tts=runs)) == [(800.0, 1050.0)]


def test_unflagged_the_last_run_heard_by_the_audio_wins() -> None:
    # the first byte exactly at the first audio is heard; a later first byte is not
    runs = (TtsRun(t(800), t(1100), t(1060)), TtsRun(t(900), t(1200), t(1100)))
    assert tts_on_path(base(tts=runs)) == [(800.0, 1060.0)]
    runs = (TtsRun(t(800), t(1100), t(1050)), TtsRun(t(900), t(1200), t(1100)))
    assert tts_on_path(base(tts=runs)) == [(800.0, 1050.0)]


def test_audio_at_the_users_stop_is_a_zero_length_response() -> None:
    timeline = base(audio_start_ns=t(0))
    assert response_latency_attributes(timeline) == {
        sc.STAGE_NAME: sc.SPAN_RESPONSE_LATENCY,
        sc.STAGE_DURATION: 0.0,
        # nothing ran before the first audio: no first token or byte to place
        sc.STAGE_MISSING: (sc.STAGE_LLM, sc.STAGE_TTS),
    }
    assert path_missing(dataclasses.replace(timeline, transcript_ns=None)) == (
        sc.STAGE_TRANSCRIPTION,
        sc.STAGE_LLM,
        sc.STAGE_TTS,
    )
    assert response_latency_attributes(base(audio_start_ns=t(0) - 1)) == {}
    assert path_missing(base(audio_start_ns=t(0) - 1, transcript_ns=None)) == ()


# --- the plan's helpers, at their boundaries (exact ns ties) ---------------------------


def test_a_round_starting_at_the_first_audio_is_not_a_candidate() -> None:
    timeline = base(llm=(LlmRound(t(510), t(900), t(800)), LlmRound(t(1060), t(1200), t(1100))))
    assert cp._rounds_before(timeline, t(1060)) == [0]


def test_the_spoken_round_is_the_last_uncancelled_with_a_token_by_the_audio() -> None:
    llm = (
        LlmRound(t(0), t(100), t(50)),
        LlmRound(t(10), t(200), t(1060)),  # its token exactly at the audio: heard
        LlmRound(t(20), t(300), t(60), cancelled=True),
        LlmRound(t(30), t(400), None),
    )
    assert cp._spoken_round(base(llm=llm), [0, 1, 2, 3], t(1060)) == 1
    assert cp._spoken_round(base(llm=llm), [0, 2, 3], t(1060)) == 0
    assert cp._spoken_round(base(llm=llm), [2, 3], t(1060)) is None


def test_tools_between_is_half_open() -> None:
    tools = (ToolRun("a", t(10), t(20)), ToolRun("b", t(30), t(40)), ToolRun("c", t(5), t(9)))
    assert [x.name for x in cp._tools_between(tools, t(10), t(30))] == ["a"]


def test_the_chain_walks_back_every_tool_round_that_ended_by_the_next_start() -> None:
    llm = (
        LlmRound(t(0), t(100), t(50), tool_calls=("a",)),
        LlmRound(t(100), t(200), t(150), tool_calls=("b",)),  # ends exactly at the next start
        LlmRound(t(200), t(300), t(250), spoken=True),
    )
    assert cp._chain(base(llm=llm), 2) == (0, 1, 2)
    late = (*llm[:1], LlmRound(t(100), t(201), t(150), tool_calls=("b",)), llm[2])
    assert cp._chain(base(llm=late), 2) == (2,)


def test_the_tool_chain_keeps_tools_that_end_by_the_next_start() -> None:
    a, b, c = ToolRun("a", t(0), t(10)), ToolRun("b", t(10), t(20)), ToolRun("c", t(5), t(20))
    assert cp._tool_chain([a, b]) == [a, b]  # b starts as a ends: sequential
    assert cp._tool_chain([c, a, b]) == [a, b]  # c overlaps b: parallel, b finished last
    d = ToolRun("d", t(12), t(15))
    assert cp._tool_chain([a, d, b]) == [a, b]


def rows(timeline: TurnTimeline) -> list[tuple]:
    return [
        (s.name, (s.start_ns - T0) / MS, (s.end_ns - T0) / MS, s.critical, s.round, s.tool)
        for s in critical_path(timeline)
    ]


HEAD = [
    ("end_of_turn", 0.0, 500.0, True, None, None),
    ("transcription", 0.0, 300.0, False, None, None),
]
TAIL = [
    ("tool_handoff", 690.0, 700.0, True, None, None),
    ("llm", 700.0, 800.0, True, 2, None),
    ("tts", 800.0, 1050.0, True, None, None),
    ("playout", 1050.0, 1060.0, True, None, None),
]
SPOKEN = LlmRound(t(700), t(1000), t(800), spoken=True)


def test_a_tool_round_started_before_the_path_is_preemptive_llm_off_it() -> None:
    tool_round = LlmRound(t(400), t(600), t(450), tool_calls=("book",))
    timeline = base(llm=(tool_round, SPOKEN), tools=(ToolRun("book", t(620), t(690)),))
    assert rows(timeline) == [
        *HEAD,
        ("preemptive_llm", 400.0, 506.0, False, 1, None),
        ("untracked", 500.0, 505.0, True, None, None),
        ("on_user_turn_completed", 505.0, 506.0, True, None, None),
        ("llm", 506.0, 600.0, True, 1, None),
        ("untracked", 600.0, 620.0, True, None, None),
        ("tool", 620.0, 690.0, True, None, "book"),
        *TAIL,
    ]


def test_a_tool_round_ending_with_its_tool_has_no_finish_stage() -> None:
    for end in (600, 690):  # the tool starts as its round's stream ends / ends with it
        tool_round = LlmRound(t(510), t(end), t(550), tool_calls=("book",))
        timeline = base(llm=(tool_round, SPOKEN), tools=(ToolRun("book", t(600), t(690)),))
        assert rows(timeline) == [
            *HEAD,
            ("untracked", 500.0, 505.0, True, None, None),
            ("on_user_turn_completed", 505.0, 506.0, True, None, None),
            ("untracked", 506.0, 510.0, True, None, None),
            ("llm", 510.0, 600.0, True, 1, None),
            ("tool", 600.0, 690.0, True, None, "book"),
            *TAIL,
        ]
