"""A LiveKit voice agent traced to any OTLP vendor, configured only by the standard variables.

Honeycomb::

    OTEL_EXPORTER_OTLP_ENDPOINT=https://api.honeycomb.io
    OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf
    OTEL_EXPORTER_OTLP_HEADERS=x-honeycomb-team=YOUR_API_KEY

Grafana Cloud (OTLP gateway of your stack; the token is base64 of ``instance_id:api_token``)::

    OTEL_EXPORTER_OTLP_ENDPOINT=https://otlp-gateway-prod-eu-west-2.grafana.net/otlp
    OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf
    OTEL_EXPORTER_OTLP_HEADERS=Authorization=Basic%20BASE64_TOKEN

Also LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET and the plugins' keys (DEEPGRAM_API_KEY,
OPENAI_API_KEY, CARTESIA_API_KEY). Optional: OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES.

``lk-otel check --backend otlp``, then ``python examples/otlp_vendor_agent.py dev``.
"""

from __future__ import annotations

import sys

from livekit.agents import JobContext, WorkerOptions, cli
from voice_agent import agent_server, run_agent, simulate

from lk_otel import TracingHandle, setup_tracing


def setup() -> TracingHandle:
    """Traces to the endpoint in ``OTEL_EXPORTER_OTLP_*``; the headers carry the API key."""
    return setup_tracing("otlp", environment="production")


async def entrypoint(ctx: JobContext) -> None:
    """Tracing first (``setup()``), then the usual agent."""
    await run_agent(ctx, setup)


server = agent_server(entrypoint)  # what livekit 1.8's CLI looks for (None on 1.2)
TRACING_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")

if __name__ == "__main__":
    if sys.argv[1:2] == ["simulate"]:  # offline, see voice_agent.simulate
        sys.exit(simulate(setup, TRACING_VARIABLES, sys.argv[2:], name="otlp_vendor_agent"))
    cli.run_app(WorkerOptions(entrypoint_fnc=entrypoint))
