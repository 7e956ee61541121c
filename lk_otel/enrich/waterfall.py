"""The ``response_latency`` waterfall: timed stage spans under a turn that answers a user."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext

from .. import semconv as sc
from .records import Stage
from .waterfall_stages import stages

SCOPE = InstrumentationScope("lk_otel")
_ids = RandomIdGenerator()
__all__ = ["SCOPE", "build", "stages"]


def build(
    turn: ReadableSpan,
    root: Stage,
    children: Sequence[Stage],
    mapping: Callable[[str, dict[str, Any], int, int], dict[str, Any]] | dict[str, Any],
) -> list[ReadableSpan]:
    """The finished stage spans, children of the turn span, at their real timestamps.

    Built directly rather than through a tracer: they are already complete, and derived
    from a span that was sampled and passed every other processor. ``mapping`` gives the
    backend-mapping keys of one stage span (name, lk_otel attributes, start, end).
    """
    root_span = _span(turn, turn.context, root, mapping)
    return [root_span, *(_span(turn, root_span.context, stage, mapping) for stage in children)]


def _span(
    turn: ReadableSpan,
    parent: SpanContext,
    stage: Stage,
    mapping: Callable[[str, dict[str, Any], int, int], dict[str, Any]] | dict[str, Any],
) -> ReadableSpan:
    name, start, end = stage
    context = SpanContext(
        trace_id=turn.context.trace_id,
        span_id=_ids.generate_span_id(),
        is_remote=False,
        trace_flags=turn.context.trace_flags,
        trace_state=turn.context.trace_state,
    )
    added: dict[str, Any] = {sc.STAGE_NAME: name, sc.STAGE_DURATION: (end - start) / 1e9}
    extra = mapping(name, added, start, end) if callable(mapping) else mapping
    return ReadableSpan(
        name=name,
        context=context,
        parent=parent,
        resource=turn.resource,
        attributes={**added, **extra},
        start_time=start,
        end_time=end,
        instrumentation_scope=SCOPE,
    )
