"""The one span processor lk_otel adds to every TracerProvider it creates, kept across
``setup_tracing()`` calls, so that a reconfiguration hands over instead of dropping.

Each trace (a session: ``agent_session`` is its root) stays with the pipeline that was
current when its root span started, until that root ends, however often ``setup_tracing()``
swaps the provider livekit creates spans on. A pipeline replaced by ``reconfigure()`` is
released (``on_released()``) once its last session ends, or after ``HANDOVER_LIMIT`` seconds.

Interim: each pipeline is the existing ``EnrichingSpanProcessor`` whose downstream is one
``SinkProcessor`` per sink. The enrichment rework replaces this module with its own
processor offering the same ``reconfigure(sinks, options, on_released)``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor

from .enrich.options import EnrichOptions
from .enrich.pipeline import EnrichingSpanProcessor, build_span_pipeline
from .export.sink import SpanSink

logger = logging.getLogger("lk_otel")
HANDOVER_LIMIT = 3600.0  # s a replaced pipeline keeps the sessions begun under it, at most


class SinkProcessor(SpanProcessor):
    """Hands each ended span to a ``SpanSink`` (the enrichment's downstream)."""

    def __init__(self, sink: SpanSink) -> None:
        self.sink = sink

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        pass

    def on_end(self, span: ReadableSpan) -> None:
        self.sink.offer((span,))

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def _nothing() -> None:
    pass


@dataclass(eq=False)
class _Route:
    enrichment: EnrichingSpanProcessor
    on_released: Callable[[], None] = _nothing
    traces: set[int] = field(default_factory=set)
    retired_at: float | None = None


class HandoverProcessor(SpanProcessor):
    """Routes each trace to the pipeline current when it began; see the module docstring."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._current: _Route | None = None
        self._by_trace: dict[int, _Route] = {}
        self._retired: list[_Route] = []

    @property
    def current(self) -> EnrichingSpanProcessor | None:
        """The enrichment new sessions go to (metrics subscribe to it)."""
        route = self._current
        return route.enrichment if route is not None else None

    def reconfigure(
        self,
        sinks: Sequence[SpanSink],
        options: EnrichOptions,
        on_released: Callable[[], None],
    ) -> None:
        """New sessions go to ``sinks`` with ``options`` from now on; the sessions open
        under the previous pipeline stay with it, and ``on_released()`` is called once they
        have ended (at once when there is no previous pipeline)."""
        enrichment = build_span_pipeline([SinkProcessor(s) for s in sinks], options)
        with self._lock:
            previous, self._current = self._current, _Route(enrichment)
        if previous is None:
            on_released()
            return
        previous.on_released = on_released
        self._retire(previous)

    def close(self) -> None:
        """No pipeline for new sessions; the current one is released when its sessions end."""
        with self._lock:
            previous, self._current = self._current, None
        if previous is not None:
            self._retire(previous)

    def release_now(self) -> None:
        """Release every pipeline at once (process exit)."""
        with self._lock:
            routes = [r for r in (*self._retired, self._current) if r is not None]
            self._retired, self._current = [], None
            self._by_trace.clear()
        for route in routes:
            self._release(route)

    # --- SpanProcessor -----------------------------------------------------------------
    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        trace_id = span.context.trace_id
        route = self._by_trace.get(trace_id)
        if route is None:
            route = self._current
            if route is None:
                return
            if _is_root(span):
                with self._lock:
                    self._by_trace[trace_id] = route
                    route.traces.add(trace_id)
        route.enrichment.on_start(span, parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        trace_id = span.context.trace_id  # type: ignore[union-attr]
        route = self._by_trace.get(trace_id) or self._current
        if route is None:
            return
        route.enrichment.on_end(span)
        if _is_root(span):  # the session (or another root) ended
            self._trace_ended(trace_id, route)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        routes = [r for r in (self._current, *self._retired) if r is not None]
        return all([r.enrichment.force_flush(timeout_millis) for r in routes])

    def shutdown(self) -> None:
        """A provider is shut down: the pipelines belong to lk_otel's handles, not to it."""

    # --- handover ----------------------------------------------------------------------
    def _trace_ended(self, trace_id: int, route: _Route) -> None:
        with self._lock:
            if self._by_trace.get(trace_id) is route:
                del self._by_trace[trace_id]
            route.traces.discard(trace_id)
            now = time.monotonic()
            done = [
                r
                for r in self._retired
                if not r.traces or now - (r.retired_at or now) > HANDOVER_LIMIT
            ]
            self._retired = [r for r in self._retired if r not in done]
        for r in done:
            self._release(r)

    def _retire(self, route: _Route) -> None:
        with self._lock:
            route.retired_at = time.monotonic()
            if route.traces:
                self._retired.append(route)
                return
        self._release(route)

    def _release(self, route: _Route) -> None:
        with self._lock:
            left = [t for t, r in self._by_trace.items() if r is route]
            for t in left:
                del self._by_trace[t]
        if left:
            logger.warning(
                "lk_otel: %d session(s) begun under the previous setup_tracing() were still "
                "open after %.0f s; their later spans go to the current backends",
                len(left),
                HANDOVER_LIMIT,
            )
        try:
            route.enrichment.force_flush()  # spans it holds (1.2's user turns) go out now
        finally:
            route.on_released()


def _is_root(span: ReadableSpan) -> bool:
    """The first span of its trace in this process (a remote parent is another process's)."""
    parent = span.parent
    return parent is None or parent.is_remote


_PROCESSOR = HandoverProcessor()


def handover_processor() -> HandoverProcessor:
    """The process-wide processor, added to every provider lk_otel creates."""
    return _PROCESSOR
