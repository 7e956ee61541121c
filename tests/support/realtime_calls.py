"""A scripted realtime call whose livekit spans travel over OTLP/gRPC to the in-process
receiver, turned into the plain spans the issue-13 figures are computed from."""

from __future__ import annotations

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

    def turns(self) -> list[SpanRecord]:
        return self.named("agent_turn") or self.named("assistant_turn")

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
    provider = TracerProvider()
    provider.add_span_processor(
        BatchSpanProcessor(
            OTLPSpanExporter(endpoint=receiver.grpc_endpoint, insecure=True),
            schedule_delay_millis=200,
        )
    )
    telemetry.set_tracer_provider(provider)
    try:
        result = await run_realtime_script(script, speed=speed)
        provider.force_flush()
    finally:
        provider.shutdown()
    spans = receiver.wait_for_spans(lambda s: s.name == "agent_session")
    return RealtimeCall(result=result, spans=spans, plain=[plain(s) for s in spans])
