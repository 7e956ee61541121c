"""A LiveKit voice agent exporting traces and metrics (per-turn latency histograms, token
and audio counters) to an OTLP endpoint, e.g. an OpenTelemetry Collector feeding Prometheus.

Environment:
    OTEL_EXPORTER_OTLP_ENDPOINT   e.g. http://localhost:4317 (a Collector; see collector-config/)
    OTEL_EXPORTER_OTLP_PROTOCOL   grpc (default) or http/protobuf
    OTEL_METRIC_EXPORT_INTERVAL   milliseconds between metric exports (default 60000)
    LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET and the plugins' keys
    (DEEPGRAM_API_KEY, OPENAI_API_KEY, CARTESIA_API_KEY)

Langfuse and Jaeger take traces only; metrics go to OTLP backends.
``python examples/metrics_agent.py dev``.
"""

from __future__ import annotations

import sys

from livekit.agents import JobContext, WorkerOptions, cli
from voice_agent import agent_server, run_agent, simulate

from lk_otel import TracingHandle, setup_tracing


def setup() -> TracingHandle:
    """Traces and metrics to the endpoint in ``OTEL_EXPORTER_OTLP_*``."""
    return setup_tracing("otlp", service_name="metrics-voice-agent", metrics=True)


async def entrypoint(ctx: JobContext) -> None:
    """Tracing first (``setup()``), then the usual agent."""
    await run_agent(ctx, setup)


server = agent_server(entrypoint)  # what livekit 1.8's CLI looks for (None on 1.2)
TRACING_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")

if __name__ == "__main__":
    if sys.argv[1:2] == ["simulate"]:  # offline, see voice_agent.simulate
        sys.exit(simulate(setup, TRACING_VARIABLES, sys.argv[2:], name="metrics_agent"))
    cli.run_app(WorkerOptions(entrypoint_fnc=entrypoint))
