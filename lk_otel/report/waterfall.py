"""The bar of a turn that has no critical path (a greeting, ``say()``, an older file).

A reply with an end-to-end latency but no path is one plain ``e2e`` segment: its parts
overlap (preemptive generation) or leave gaps (tool rounds), so stacking them would draw
time that did not happen. A greeting or ``say()`` has no user turn: its LLM time to first
token (if generated) and its TTS time to first byte follow one another.
"""

from __future__ import annotations

from dataclasses import dataclass

from lk_otel.report.turn import TurnReport


@dataclass(frozen=True)
class SegmentKind:
    """One kind of fallback segment (colors are Okabe-Ito, colorblind-safe)."""

    key: str
    label: str
    color: str


E2E = SegmentKind("e2e", "e2e (no breakdown recorded)", "#999999")
LLM_TTFT = SegmentKind("llm_ttft", "LLM TTFT", "#0072B2")
TTS_TTFB = SegmentKind("tts_ttfb", "TTS TTFB", "#E69F00")
SEGMENT_KINDS = (E2E, LLM_TTFT, TTS_TTFB)


@dataclass(frozen=True)
class Segment:
    """A segment of one turn's bar, in seconds."""

    kind: SegmentKind
    seconds: float


def segments(turn: TurnReport) -> list[Segment]:
    """The fallback bar of a turn; absent or non-positive values are left out."""
    if turn.e2e_latency is not None:
        return [Segment(E2E, turn.e2e_latency)] if turn.e2e_latency > 0 else []
    parts = ((LLM_TTFT, turn.llm_ttft), (TTS_TTFB, turn.tts_ttfb))
    return [Segment(kind, value) for kind, value in parts if value is not None and value > 0]


def extent(turn: TurnReport) -> float:
    """Seconds the turn's bar spans: its critical path, else its fallback segments."""
    if turn.path is not None:
        return turn.path.seconds
    return sum(s.seconds for s in segments(turn))
