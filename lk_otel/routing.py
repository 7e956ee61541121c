"""The one span processor lk_otel adds to every TracerProvider it creates, kept across
``setup_tracing()`` calls, so that a reconfiguration hands over instead of dropping.

It is the enrichment itself (:class:`~lk_otel.collect.processor.LkOtelSpanProcessor`): each
session stays with the sinks and options that were current when it began, however often
``setup_tracing()`` swaps the provider livekit creates spans on. A configuration replaced by
``reconfigure()`` is released (``on_released()``) once its last session ends, or after
``HANDOVER_LIMIT`` seconds.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from .collect.instrumentor import LiveKitAgentsInstrumentor
from .collect.processor import LkOtelSpanProcessor
from .enrich.options import EnrichOptions
from .export.sink import SpanSink

HANDOVER_LIMIT = 3600.0  # s a replaced configuration keeps the sessions begun under it, at most


class HandoverProcessor(LkOtelSpanProcessor):
    """The process-wide enrichment: a provider's ``shutdown()`` only flushes it, because
    other providers (the configurations before and after) still feed it."""

    def shutdown(self) -> None:
        self.force_flush()

    @property
    def current(self) -> LkOtelSpanProcessor:
        """The processor new sessions go through (metrics observers subscribe to it)."""
        return self

    def use(
        self,
        sinks: Sequence[SpanSink],
        options: EnrichOptions,
        on_released: Callable[[], None],
    ) -> None:
        """Send new sessions to ``sinks``; the open ones keep theirs until they end."""
        self._latest_options = options
        self.reconfigure(sinks, options, on_released, handover_timeout=HANDOVER_LIMIT)

    def close(self) -> None:
        """The current configuration was shut down: new sessions go nowhere."""
        options = getattr(self, "_latest_options", None) or EnrichOptions()
        self.reconfigure((), options, _nothing, handover_timeout=0)


_lock = threading.Lock()
_processor: HandoverProcessor | None = None


def handover_processor(
    sinks: Sequence[SpanSink] = (),
    options: EnrichOptions | None = None,
    *,
    schedule_delay: float = 1.0,
) -> HandoverProcessor:
    """The process's processor, made (and AgentSession instrumented) on first use."""
    global _processor
    with _lock:
        if _processor is None:
            instrumentor = LiveKitAgentsInstrumentor()
            if not instrumentor.is_instrumented_by_opentelemetry:
                instrumentor.instrument()
            _processor = HandoverProcessor(
                sinks, options or EnrichOptions(), schedule_delay=schedule_delay
            )
        return _processor


def _nothing() -> None:
    pass
