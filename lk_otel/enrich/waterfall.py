"""The ``response_latency`` waterfall: timed stage spans under a turn that answers a user."""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, Tracer

from .. import semconv as sc
from .state import TurnState, TurnSummary

Stage = tuple[str, int, int]  # name, start ns, end ns


def stages(summary: TurnSummary, state: TurnState) -> tuple[Stage, list[Stage]] | None:
    """The waterfall of a reply turn, or None where the timestamps are missing.

    Anchor: the agent's first audio (``agent_speaking`` start); the user stopped speaking
    ``e2e_latency`` seconds before it.
    """
    if summary.e2e_latency is None or state.speaking_start_ns is None:
        return None
    audio_ns = state.speaking_start_ns
    user_stop_ns = audio_ns - int(summary.e2e_latency * 1e9)
    out: list[Stage] = []

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
    return (sc.SPAN_RESPONSE_LATENCY, user_stop_ns, audio_ns), out


def emit(tracer: Tracer, turn: SpanContext, root: Stage, children: list[Stage]) -> None:
    """Create the spans, at their real timestamps, as children of the turn span."""
    name, start, end = root
    parent = trace.set_span_in_context(NonRecordingSpan(turn))
    span = tracer.start_span(
        name,
        context=parent,
        start_time=start,
        attributes={sc.STAGE_NAME: name, sc.STAGE_DURATION: (end - start) / 1e9},
    )
    inner = trace.set_span_in_context(span)
    for child, c_start, c_end in children:
        tracer.start_span(
            child,
            context=inner,
            start_time=c_start,
            attributes={sc.STAGE_NAME: child, sc.STAGE_DURATION: (c_end - c_start) / 1e9},
        ).end(end_time=c_end)
    span.end(end_time=end)
