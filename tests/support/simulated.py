"""A simulated call traced in memory: the helpers behind the ``simulated_call`` fixture."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from livekit.agents import telemetry
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from lk_otel.simulation import Scenario, SimulationResult, load_scenario, run_scenario


def make_tracer_provider(exporter: InMemorySpanExporter) -> TracerProvider:
    """A tracer provider exporting to ``exporter``, installed as livekit's tracer provider."""
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    telemetry.set_tracer_provider(provider)
    return provider


@dataclass
class SimulatedCall:
    """The finished spans and the raw livekit metrics (``result``) of one simulated call."""

    result: SimulationResult
    spans: list[ReadableSpan]

    def spans_named(self, name: str) -> list[ReadableSpan]:
        """The spans called ``name``, in start order."""
        return sorted((s for s in self.spans if s.name == name), key=lambda s: s.start_time or 0)


async def simulate(
    scenario: Scenario | Mapping[str, Any] | str | None = None,
    speed: float = 4.0,
    **kwargs: Any,
) -> SimulatedCall:
    """Trace one simulated call in memory; ``kwargs`` go to ``run_scenario``.

    livekit's tracer provider is process-wide: run calls one after another, not at once.
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    exporter = InMemorySpanExporter()
    provider = make_tracer_provider(exporter)
    try:
        result = await run_scenario(scenario, speed=speed, **kwargs)
        provider.force_flush()
        return SimulatedCall(result=result, spans=list(exporter.get_finished_spans()))
    finally:
        provider.shutdown()
