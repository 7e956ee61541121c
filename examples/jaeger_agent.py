"""A LiveKit voice agent traced to a local Jaeger over OTLP/gRPC.

Start Jaeger (UI on http://localhost:16686, OTLP on 4317/4318)::

    docker run --rm -p 16686:16686 -p 4317:4317 -p 4318:4318 jaegertracing/jaeger:latest

Environment: LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET and the plugins' keys
(DEEPGRAM_API_KEY, OPENAI_API_KEY, CARTESIA_API_KEY). Jaeger needs none.

``lk-otel check --backend jaeger``, then ``python examples/jaeger_agent.py dev``.
"""

from __future__ import annotations

import sys

from livekit.agents import JobContext, WorkerOptions, cli
from voice_agent import agent_server, run_agent, simulate

from lk_otel import Jaeger, TracingHandle, setup_tracing

JAEGER_ENDPOINT = "http://localhost:4317"


def setup(endpoint: str = JAEGER_ENDPOINT) -> TracingHandle:
    """Traces to Jaeger's OTLP/gRPC port; use ``protocol="http/protobuf"`` for :4318."""
    return setup_tracing(Jaeger(endpoint=endpoint), service_name="jaeger-voice-agent")


async def entrypoint(ctx: JobContext) -> None:
    """Tracing first (``setup()``), then the usual agent."""
    await run_agent(ctx, setup)


server = agent_server(entrypoint)  # what livekit 1.8's CLI looks for (None on 1.2)
TRACING_VARIABLES = ()  # none: setup() always targets JAEGER_ENDPOINT (simulate --export)

if __name__ == "__main__":
    if sys.argv[1:2] == ["simulate"]:  # offline, see voice_agent.simulate
        sys.exit(simulate(setup, TRACING_VARIABLES, sys.argv[2:], name="jaeger_agent"))
    cli.run_app(WorkerOptions(entrypoint_fnc=entrypoint))
