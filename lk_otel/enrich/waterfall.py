"""The ``response_latency`` waterfall: timed stage spans under a turn that answers a user."""

from __future__ import annotations

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext

from .. import semconv as sc
from .state import TurnState, TurnSummary

Stage = tuple[str, int, int]  # name, start ns, end ns
SCOPE = InstrumentationScope("lk_otel")
_ids = RandomIdGenerator()


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


def build(
    turn: ReadableSpan, root: Stage, children: list[Stage], extra: dict[str, object]
) -> list[ReadableSpan]:
    """The finished stage spans, children of the turn span, at their real timestamps.

    Built directly rather than through a tracer: they are already complete, and derived
    from a span that was sampled and passed every other processor.
    """
    root_span = _span(turn, turn.context, root, extra)
    return [root_span, *(_span(turn, root_span.context, stage, extra) for stage in children)]


def _span(
    turn: ReadableSpan, parent: SpanContext, stage: Stage, extra: dict[str, object]
) -> ReadableSpan:
    name, start, end = stage
    context = SpanContext(
        trace_id=turn.context.trace_id,
        span_id=_ids.generate_span_id(),
        is_remote=False,
        trace_flags=turn.context.trace_flags,
        trace_state=turn.context.trace_state,
    )
    return ReadableSpan(
        name=name,
        context=context,
        parent=parent,
        resource=turn.resource,
        attributes={sc.STAGE_NAME: name, sc.STAGE_DURATION: (end - start) / 1e9, **extra},
        start_time=start,
        end_time=end,
        instrumentation_scope=SCOPE,
    )
