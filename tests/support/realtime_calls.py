"""A scripted realtime call traced with ``setup_tracing()``: its spans travel over OTLP/gRPC
to the in-process receiver, enriched. The same spans give the reference figures computed
offline (``figures()``, from livekit's own keys) and what the enrichment exported
(``exported()``, the ``lk_otel.*`` keys and handoff events on the received spans)."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

import lk_otel
from lk_otel import semconv as sc
from lk_otel.enrich.handoff import Handoff
from lk_otel.enrich.realtime_call import CallFigures, PlainSpan, call_figures
from lk_otel.simulation.realtime_runner import RealtimeResult, run_realtime_script
from lk_otel.simulation.realtime_script import RealtimeScript, load_realtime_script
from lk_otel.tracing import TracingHandle
from support.otlp_receiver import OtlpReceiver, SpanRecord


@dataclass
class RealtimeCall:
    result: RealtimeResult
    spans: list[SpanRecord]
    plain: list[PlainSpan]

    def named(self, name: str) -> list[SpanRecord]:
        return sorted((s for s in self.spans if s.name == name), key=lambda s: s.start_ns)

    def children(self, parent: SpanRecord, name: str) -> list[SpanRecord]:
        return [s for s in self.named(name) if s.parent_span_id == parent.span_id]

    def descendants(self, parent: SpanRecord, name: str) -> list[SpanRecord]:
        ids = {parent.span_id}
        for s in sorted(self.spans, key=lambda s: s.start_ns):
            if s.parent_span_id in ids:
                ids.add(s.span_id)
        return [s for s in self.named(name) if s.span_id in ids and s.span_id != parent.span_id]

    def turns(self) -> list[SpanRecord]:
        """Agent turns: ``agent_turn`` (1.8), ``realtime_assistant_turn`` (1.2)."""
        turns = self.named("agent_turn") or self.named("realtime_assistant_turn")
        ids = {t.span_id for t in turns}
        return [t for t in turns if t.parent_span_id not in ids]  # 1.2 nests tool follow-ups

    def response_spans(self) -> list[SpanRecord]:
        """The spans livekit put a response's RealtimeModelMetrics on."""
        return [s for s in self.spans if "lk.realtime_model_metrics" in s.attributes]

    def request_id(self, span: SpanRecord) -> str:
        return json.loads(span.attributes["lk.realtime_model_metrics"])["request_id"]

    def turn_response_spans(self, turn: SpanRecord) -> list[SpanRecord]:
        ids = {turn.span_id}
        for s in sorted(self.spans, key=lambda s: s.start_ns):
            if s.parent_span_id in ids:
                ids.add(s.span_id)
        return sorted(
            (s for s in self.response_spans() if s.span_id in ids), key=lambda s: s.start_ns
        )

    def figures(self, **kwargs: Any) -> CallFigures:
        """The reference figures, computed offline from livekit's keys on the spans."""
        return call_figures(self.plain, **kwargs)

    def exported(self) -> CallFigures:
        return exported_figures(self.spans)


def exported_figures(spans: list[SpanRecord]) -> CallFigures:
    """What ``setup_tracing()``'s enrichment wrote: the ``lk_otel.*`` keys of every received
    span (arrays as tuples) and the ``lk_otel.handoff`` events of ``agent_session``."""
    attributes = {
        s.span_id: {
            k: tuple(v) if isinstance(v, list) else v
            for k, v in s.attributes.items()
            if k.startswith("lk_otel.")
        }
        for s in spans
    }
    handoffs = [
        Handoff(
            e.attributes.get(sc.HANDOFF_FROM),
            e.attributes[sc.HANDOFF_TO],
            e.attributes.get(sc.HANDOFF_TOOL),
            e.time_ns / 1e9,
        )
        for s in spans
        if s.name == sc.SPAN_AGENT_SESSION
        for e in s.events
        if e.name == sc.EVENT_HANDOFF
    ]
    return CallFigures(attributes=attributes, handoffs=handoffs)


def plain(span: SpanRecord) -> PlainSpan:
    return PlainSpan(
        name=span.name,
        span_id=span.span_id,
        parent_id=span.parent_span_id or None,
        start=span.start_ns / 1e9,
        end=span.end_ns / 1e9,
        attributes=span.attributes,
    )


# the prices every traced call is set up with (the cost tests compute with the same rates)
REALTIME_RATES = {
    "input_per_1m": 4.0,
    "cached_input_per_1m": 0.4,
    "output_per_1m": 16.0,
    "input_audio_per_1m": 32.0,
    "cached_input_audio_per_1m": 0.4,
    "output_audio_per_1m": 64.0,
}
PRICES = {"openai/gpt-realtime-sim": REALTIME_RATES}


def _tracing(receiver: OtlpReceiver, **setup: Any) -> TracingHandle:
    """``setup_tracing()`` exporting over OTLP/gRPC to ``receiver``."""
    receiver.clear()
    return lk_otel.setup_tracing(
        lk_otel.OTLP(endpoint=receiver.grpc_endpoint, protocol="grpc"),
        schedule_delay=0.05,
        **{"prices": PRICES, **setup},
    )


async def pipeline_call(
    receiver: OtlpReceiver, scenario: Any = None, *, speed: float = 2.0, on_session: Any = None
):
    """The package's scripted STT/LLM/TTS call (``run_scenario``), spans over OTLP/gRPC."""
    from lk_otel.simulation import load_scenario, run_scenario

    handle = _tracing(receiver)
    try:
        result = await run_scenario(load_scenario(scenario), speed=speed, on_session=on_session)
        handle.force_flush(10)
    finally:
        handle.shutdown(5)
    spans = receiver.wait_for_spans(lambda s: s.name == "agent_session")
    return result, spans, [plain(s) for s in spans]


async def realtime_call(
    receiver: OtlpReceiver,
    script: RealtimeScript | str = "realtime",
    *,
    speed: float = 2.0,
    setup: dict[str, Any] | None = None,
    **overrides: Any,
) -> RealtimeCall:
    if isinstance(script, str):
        script = load_realtime_script(script)
    if overrides:
        script = replace(script, **overrides)
    handle = _tracing(receiver, **(setup or {}))
    try:
        result = await run_realtime_script(script, speed=speed)
        handle.force_flush(10)
    finally:
        handle.shutdown(5)
    spans = receiver.wait_for_spans(lambda s: s.name == "agent_session")
    return RealtimeCall(result=result, spans=spans, plain=[plain(s) for s in spans])
