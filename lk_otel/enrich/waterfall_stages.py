"""Where the ``response_latency`` waterfall's stages sit (pure; the spans are built in
:mod:`.waterfall`)."""

from __future__ import annotations

from .. import semconv as sc
from .records import Stage
from .state import TurnSummary
from .timeline import TurnTimeline


def stages(summary: TurnSummary, timeline: TurnTimeline) -> tuple[Stage, ...]:
    """The waterfall of a reply turn (``response_latency`` first), or () where the
    timestamps are missing.

    Anchor: the agent's first audio; the user stopped speaking ``e2e_latency`` before it.
    """
    audio_ns, user_stop_ns = timeline.audio_start_ns, timeline.user_stop_ns
    if summary.e2e_latency is None or audio_ns is None or user_stop_ns is None:
        return ()
    out: list[Stage] = [(sc.SPAN_RESPONSE_LATENCY, user_stop_ns, audio_ns)]

    def add(name: str, start_ns: int, seconds: float | None) -> None:
        if seconds is not None and seconds >= 0:
            out.append((name, start_ns, start_ns + int(seconds * 1e9)))

    add(sc.SPAN_STAGE_END_OF_TURN, user_stop_ns, summary.end_of_turn_delay)
    add(sc.SPAN_STAGE_TRANSCRIPTION, user_stop_ns, summary.transcription_delay)
    if summary.end_of_turn_delay is not None:
        add(
            sc.SPAN_STAGE_ON_USER_TURN_COMPLETED,
            user_stop_ns + int(summary.end_of_turn_delay * 1e9),
            summary.on_user_turn_completed_delay,
        )
    llm = next((c for c in summary.llm if c.ttft is not None), None)
    tts = next((c for c in summary.tts if c.ttfb is not None), None)
    if llm is not None:
        add(sc.SPAN_STAGE_LLM_TTFT, llm.start_ns, llm.ttft)
    if tts is not None:
        add(sc.SPAN_STAGE_TTS_TTFB, tts.start_ns, tts.ttfb)
    return tuple(out)
