"""A LiveKit voice agent traced to Langfuse and to a local Jaeger at once.

Every span goes to both; a backend that is down does not hold up the other (each has its
own queue and retries). Environment: LANGFUSE_PUBLIC_KEY, LANGFUSE_SECRET_KEY,
LANGFUSE_HOST; Jaeger on localhost:4317 (see ``jaeger_agent.py``); LIVEKIT_URL,
LIVEKIT_API_KEY, LIVEKIT_API_SECRET and the plugins' keys (DEEPGRAM_API_KEY,
OPENAI_API_KEY, CARTESIA_API_KEY).

``lk-otel check --backend langfuse,jaeger``, then ``python examples/two_backends_agent.py dev``.
"""

from __future__ import annotations

from livekit.agents import JobContext, WorkerOptions, cli
from voice_agent import run_agent

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


if __name__ == "__main__":
    cli.run_app(WorkerOptions(entrypoint_fnc=entrypoint))
