r"""Transitional: the composition root of main still hands SDK ``SpanProcessor``\s.

:class:`LegacySpanPipeline` is :class:`LkOtelSpanProcessor` over them (each wrapped in a
:class:`ProcessorSink`), with the old listener lists heard as one observer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor

from ..enrich.options import EnrichOptions
from .processor import LkOtelSpanProcessor


class ProcessorSink:
    """A :class:`SpanSink` over an SDK ``SpanProcessor`` (e.g. a ``BatchSpanProcessor``)."""

    def __init__(self, processor: SpanProcessor) -> None:
        self.processor = processor

    def offer(self, spans: Sequence[ReadableSpan]) -> None:
        for span in spans:
            self.processor.on_end(span)


class _Listeners:
    """The old listener lists, heard as one observer (until metrics/setup.py calls
    ``add_observer``)."""

    def __init__(self) -> None:
        self.turn: list[Callable[..., None]] = []
        self.user_turn: list[Callable[..., None]] = []
        self.llm: list[Callable[..., None]] = []
        self.tts: list[Callable[..., None]] = []

    def on_turn(self, turn: Any) -> None:
        for f in self.turn:
            f(turn)

    def on_user_turn(self, stt: float, agent: str | None) -> None:
        for f in self.user_turn:
            f(stt, agent)

    def on_llm(self, call: Any, agent: str | None) -> None:
        for f in self.llm:
            f(call, agent)

    def on_tts(self, call: Any, agent: str | None) -> None:
        for f in self.tts:
            f(call, agent)


class LegacySpanPipeline(LkOtelSpanProcessor):
    """``LkOtelSpanProcessor`` over SDK processors: flushes and shuts them down too."""

    def __init__(self, downstream: Sequence[SpanProcessor], options: EnrichOptions) -> None:
        self._downstream = tuple(downstream)
        self._listeners = _Listeners()
        super().__init__(
            [ProcessorSink(p) for p in downstream],
            options,
            schedule_delay=0.05,
            observers=[self._listeners],
        )
        self.turn_listeners = self._listeners.turn
        self.user_turn_listeners = self._listeners.user_turn
        self.llm_listeners = self._listeners.llm
        self.tts_listeners = self._listeners.tts

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        ok = super().force_flush(timeout_millis)
        return all([p.force_flush(timeout_millis) for p in self._downstream]) and ok

    def shutdown(self) -> None:
        super().shutdown()
        for p in self._downstream:
            p.shutdown()


def build_span_pipeline(
    downstream: Sequence[SpanProcessor], options: EnrichOptions
) -> LegacySpanPipeline:
    """The processor ``setup_tracing()`` adds to its provider; also instruments AgentSession."""
    from .instrumentor import LiveKitAgentsInstrumentor

    instrumentor = LiveKitAgentsInstrumentor()
    if not instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.instrument()
    return LegacySpanPipeline(downstream, options)
