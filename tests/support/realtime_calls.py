"""A scripted realtime call whose livekit spans travel over OTLP/gRPC to the in-process
receiver, turned into the plain spans the issue-13 figures are computed from."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from livekit.agents import telemetry
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from lk_otel.enrich.realtime_call import CallFigures, PlainSpan, call_figures
from lk_otel.simulation.realtime_runner import RealtimeResult, run_realtime_script
from lk_otel.simulation.realtime_script import RealtimeScript, load_realtime_script
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
        return call_figures(self.plain, **kwargs)


def plain(span: SpanRecord) -> PlainSpan:
    return PlainSpan(
        name=span.name,
        span_id=span.span_id,
        parent_id=span.parent_span_id or None,
        start=span.start_ns / 1e9,
        end=span.end_ns / 1e9,
        attributes=span.attributes,
    )


def _provider(receiver: OtlpReceiver) -> TracerProvider:
    provider = TracerProvider()
    provider.add_span_processor(
        BatchSpanProcessor(
            OTLPSpanExporter(endpoint=receiver.grpc_endpoint, insecure=True),
            schedule_delay_millis=200,
        )
    )
    telemetry.set_tracer_provider(provider)
    return provider


async def pipeline_call(
    receiver: OtlpReceiver, scenario: Any = None, *, speed: float = 2.0, on_session: Any = None
):
    """The package's scripted STT/LLM/TTS call (``run_scenario``), spans over OTLP/gRPC."""
    from lk_otel.simulation import load_scenario, run_scenario

    provider = _provider(receiver)
    try:
        result = await run_scenario(load_scenario(scenario), speed=speed, on_session=on_session)
        provider.force_flush()
    finally:
        provider.shutdown()
    spans = receiver.wait_for_spans(lambda s: s.name == "agent_session")
    return result, spans, [plain(s) for s in spans]


async def realtime_call(
    receiver: OtlpReceiver,
    script: RealtimeScript | str = "realtime",
    *,
    speed: float = 2.0,
    **overrides: Any,
) -> RealtimeCall:
    if isinstance(script, str):
        script = load_realtime_script(script)
    if overrides:
        script = replace(script, **overrides)
    provider = _provider(receiver)
    try:
        result = await run_realtime_script(script, speed=speed)
        provider.force_flush()
    finally:
        provider.shutdown()
    spans = receiver.wait_for_spans(lambda s: s.name == "agent_session")
    return RealtimeCall(result=result, spans=spans, plain=[plain(s) for s in spans])
