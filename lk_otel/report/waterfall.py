"""The per-turn latency waterfall shared by the HTML and PNG renderers.

Segments, left to right: end-of-turn delay, LLM time to first token, TTS time to first
byte, and the rest of the end-to-end latency (e2e minus the three, when positive).
Transcription and ``on_user_turn_completed`` overlap or precede those and are in "rest".
"""

from __future__ import annotations

from dataclasses import dataclass

from lk_otel.report.turn import TurnReport


@dataclass(frozen=True)
class SegmentKind:
    """One kind of waterfall segment (colors are Okabe-Ito, colorblind-safe)."""

    key: str
    label: str
    color: str


END_OF_TURN = SegmentKind("end_of_turn", "End of turn", "#CC79A7")
LLM_TTFT = SegmentKind("llm_ttft", "LLM TTFT", "#0072B2")
TTS_TTFB = SegmentKind("tts_ttfb", "TTS TTFB", "#E69F00")
REST = SegmentKind("rest", "Rest of e2e", "#999999")
SEGMENT_KINDS = (END_OF_TURN, LLM_TTFT, TTS_TTFB, REST)


@dataclass(frozen=True)
class Segment:
    """A segment of one turn's bar, in seconds."""

    kind: SegmentKind
    seconds: float


def segments(turn: TurnReport) -> list[Segment]:
    """The turn's stacked segments in order; absent or non-positive values are left out."""
    parts = (
        (END_OF_TURN, turn.end_of_turn_delay),
        (LLM_TTFT, turn.llm_ttft),
        (TTS_TTFB, turn.tts_ttfb),
    )
    out = [Segment(kind, value) for kind, value in parts if value is not None and value > 0]
    if turn.e2e_latency is not None:
        rest = turn.e2e_latency - sum(s.seconds for s in out)
        if rest > 0:
            out.append(Segment(REST, rest))
    return out


def extent(turn: TurnReport) -> float:
    """Seconds the turn's bar spans: its segments, or its e2e if that is longer."""
    return max(sum(s.seconds for s in segments(turn)), turn.e2e_latency or 0.0)
