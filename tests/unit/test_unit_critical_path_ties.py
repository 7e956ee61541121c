"""Critical-path placement at exact ties: a tool starting on a round's start, a zero-length
synthesis, runs after the spoken one, a chain of three rounds (each stage's exact span)."""

from __future__ import annotations

from test_unit_critical_path_edges import MS, T0, base, t

from lk_otel.enrich.critical_path import critical_path
from lk_otel.enrich.timeline import LlmRound, ToolRun, TtsRun, TurnTimeline


def stages(timeline: TurnTimeline) -> list[tuple[str, float, float, bool, object]]:
    return [
        (s.name, (s.start_ns - T0) / MS, (s.end_ns - T0) / MS, s.critical, s.tool)
        for s in critical_path(timeline)
    ]


HEAD = [
    ("end_of_turn", 0.0, 500.0, True, None),
    ("transcription", 0.0, 300.0, False, None),
    ("untracked", 500.0, 505.0, True, None),
    ("on_user_turn_completed", 505.0, 506.0, True, None),
    ("untracked", 506.0, 510.0, True, None),
]


def test_every_synthesis_before_the_audio_is_placed_even_after_the_spoken_one() -> None:
    runs = (
        TtsRun(t(800), t(1100), t(1050), spoken=True),
        TtsRun(t(900), t(900), None),  # zero length: still placed, off the path
        TtsRun(t(950), t(1200), t(1150)),  # clipped at the first audio
    )
    assert stages(base(tts=runs)) == [
        *HEAD,
        ("llm", 510.0, 800.0, True, None),
        ("tts", 800.0, 1050.0, True, None),
        ("tts", 900.0, 900.0, False, None),
        ("tts", 950.0, 1060.0, False, None),
        ("playout", 1050.0, 1060.0, True, None),
    ]


def test_a_chain_of_three_rounds_and_tools_on_round_starts() -> None:
    llm = (
        LlmRound(t(510), t(600), None, tool_calls=("a",)),
        LlmRound(t(650), t(700), None, tool_calls=("d", "b")),
        LlmRound(t(750), t(900), t(800), spoken=True),
    )
    tools = (
        ToolRun("a", t(600), t(640)),
        ToolRun("d", t(650), t(655)),  # starts with round 2: its round's, on the path
        ToolRun("b", t(700), t(740)),
        ToolRun("c", t(750), t(760)),  # starts with the spoken round: no chained round's
    )
    assert stages(base(llm=llm, tools=tools)) == [
        *HEAD,
        ("llm", 510.0, 600.0, True, None),
        ("tool", 600.0, 640.0, True, "a"),
        ("tool_handoff", 640.0, 650.0, True, None),
        ("llm", 650.0, 650.0, True, None),
        ("tool", 650.0, 655.0, True, "d"),
        ("untracked", 655.0, 700.0, True, None),
        ("tool", 700.0, 740.0, True, "b"),
        ("tool_handoff", 740.0, 750.0, True, None),
        ("llm", 750.0, 800.0, True, None),
        ("tool", 750.0, 760.0, False, "c"),
        ("tts", 800.0, 1050.0, True, None),
        ("playout", 1050.0, 1060.0, True, None),
    ]
