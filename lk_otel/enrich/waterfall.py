"""The ``response_latency`` span and its critical-path stages under a turn that answers a user.

:func:`path_stages` (pure) turns a turn's timeline into the turn's path attributes and the
stage records; :func:`build` makes the finished stage spans from them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext

from .. import semconv as sc
from .critical_path import (
    critical_path,
    response_latency_attributes,
    stage_attributes,
    turn_path_attributes,
)
from .records import Stage
from .timeline import TurnTimeline

SCOPE = InstrumentationScope("lk_otel")
_ids = RandomIdGenerator()
Mapping_ = Callable[[str, dict[str, Any], int, int], dict[str, Any]] | dict[str, Any]


def path_stages(timeline: TurnTimeline) -> tuple[dict[str, Any], tuple[Stage, ...]]:
    """The turn's flat path attributes and its stage records (``response_latency`` first);
    ``({}, ())`` when the turn has no path (no user stop or no first audio)."""
    path = critical_path(timeline)
    root = response_latency_attributes(timeline)
    if not path or not root or timeline.user_stop_ns is None or timeline.audio_start_ns is None:
        return {}, ()
    stages: list[Stage] = [
        (sc.SPAN_RESPONSE_LATENCY, timeline.user_stop_ns, timeline.audio_start_ns, root)
    ]
    stages += [(s.span_name, s.start_ns, s.end_ns, stage_attributes(s)) for s in path]
    return dict(turn_path_attributes(path, timeline)), tuple(stages)


def build(
    turn: ReadableSpan, root: Stage, children: Sequence[Stage], mapping: Mapping_
) -> list[ReadableSpan]:
    """The finished stage spans, children of the turn span, at their real timestamps.

    Built directly rather than through a tracer: they are already complete, and derived
    from a span that was sampled and passed every other processor. ``mapping`` gives the
    backend-mapping keys of one stage span (name, lk_otel attributes, start, end).
    """
    root_span = _span(turn, turn.context, root, mapping)
    return [root_span, *(_span(turn, root_span.context, stage, mapping) for stage in children)]


def _span(turn: ReadableSpan, parent: SpanContext, stage: Stage, mapping: Mapping_) -> ReadableSpan:
    name, start, end, stage_attrs = stage
    context = SpanContext(
        trace_id=turn.context.trace_id,
        span_id=_ids.generate_span_id(),
        is_remote=False,
        trace_flags=turn.context.trace_flags,
        trace_state=turn.context.trace_state,
    )
    added: dict[str, Any] = dict(stage_attrs)
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


__all__ = ["SCOPE", "build", "path_stages"]
