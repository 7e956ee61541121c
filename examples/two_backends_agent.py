"""A LiveKit voice agent traced to Langfuse and to a local Jaeger at once.

Every span goes to both; a backend that is down does not hold up the other (each has its
own queue and retries). Environment: LANGFUSE_PUBLIC_KEY, LANGFUSE_SECRET_KEY,
LANGFUSE_HOST; Jaeger on localhost:4317 (see ``jaeger_agent.py``); LIVEKIT_URL,
LIVEKIT_API_KEY, LIVEKIT_API_SECRET and the plugins' keys (DEEPGRAM_API_KEY,
OPENAI_API_KEY, CARTESIA_API_KEY).

``lk-otel check --backend langfuse,jaeger``, then ``python examples/two_backends_agent.py dev``.
"""

from __future__ import annotations

import sys

from livekit.agents import JobContext, WorkerOptions, cli
from voice_agent import agent_server, run_agent, simulate

from lk_otel import Jaeger, TracingHandle, setup_tracing

JAEGER_ENDPOINT = "http://localhost:4317"


def setup(jaeger_endpoint: str = JAEGER_ENDPOINT) -> TracingHandle:
    """Langfuse (keys from ``LANGFUSE_*``) and Jaeger (OTLP/gRPC) side by side."""
    return setup_tracing(
        ["langfuse", Jaeger(endpoint=jaeger_endpoint)], service_name="two-backends-agent"
    )


async def entrypoint(ctx: JobContext) -> None:
    """Tracing first (``setup()``), then the usual agent."""
    await run_agent(ctx, setup)


server = agent_server(entrypoint)  # what livekit 1.8's CLI looks for (None on 1.2)
TRACING_VARIABLES = ("LANGFUSE_PUBLIC_KEY", "LANGFUSE_SECRET_KEY")

if __name__ == "__main__":
    if sys.argv[1:2] == ["simulate"]:  # offline, see voice_agent.simulate
        sys.exit(simulate(setup, TRACING_VARIABLES, sys.argv[2:], name="two_backends_agent"))
    cli.run_app(WorkerOptions(entrypoint_fnc=entrypoint))
