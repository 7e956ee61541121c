"""Critical-path placement at two more boundaries: the spoken TTS's first text clamped to
the spoken round's start, and a tool inside the spoken round when a later round exists."""

from __future__ import annotations

from test_unit_critical_path_edges import base, t
from test_unit_critical_path_ties import HEAD, stages

from lk_otel.enrich.timeline import LlmRound, ToolRun, TtsRun


def test_a_tts_text_clamped_to_the_spoken_round_start_ends_its_llm_stage_there() -> None:
    # the TTS node starts with the LLM (1.2) and its ttfb leaves no room after the start:
    # its first text is the round's start, so the round is on the path for no time at all
    runs = (TtsRun(t(510), t(1100), t(1060), spoken=True),)
    assert stages(base(tts=runs)) == [
        *HEAD,
        ("llm", 510.0, 510.0, True, None),
        ("tts", 510.0, 1060.0, True, None),
    ]


def test_a_tool_inside_the_spoken_round_is_off_the_path_though_a_round_follows() -> None:
    llm = (
        LlmRound(t(510), t(600), None, tool_calls=("a",)),
        LlmRound(t(650), t(900), t(800), spoken=True),
        LlmRound(t(1100), t(1200), t(1150)),  # after the first audio: no chained round's
    )
    tools = (ToolRun("a", t(600), t(640)), ToolRun("x", t(700), t(720)))
    assert stages(base(llm=llm, tools=tools)) == [
        *HEAD,
        ("llm", 510.0, 600.0, True, None),
        ("tool", 600.0, 640.0, True, "a"),
        ("tool_handoff", 640.0, 650.0, True, None),
        ("llm", 650.0, 800.0, True, None),
        ("tool", 700.0, 720.0, False, "x"),
        ("tts", 800.0, 1050.0, True, None),
        ("playout", 1050.0, 1060.0, True, None),
    ]
