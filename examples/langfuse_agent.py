"""A LiveKit voice agent traced to Langfuse: every turn with its latency breakdown and cost.

Environment:
    LANGFUSE_PUBLIC_KEY, LANGFUSE_SECRET_KEY  the project's API keys
    LANGFUSE_HOST                             https://cloud.langfuse.com (EU, the default),
                                              https://us.cloud.langfuse.com (US) or your own
    LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET, and the plugins' keys
    (DEEPGRAM_API_KEY, OPENAI_API_KEY, CARTESIA_API_KEY)

Try the keys first with ``lk-otel check --backend langfuse``, then run
``python examples/langfuse_agent.py dev``.
"""

from __future__ import annotations

import sys

from livekit.agents import JobContext, WorkerOptions, cli
from voice_agent import agent_server, run_agent, simulate

from lk_otel import TracingHandle, setup_tracing


def setup() -> TracingHandle:
    """Traces to Langfuse; the keys and host come from ``LANGFUSE_*``, never from code."""
    return setup_tracing("langfuse", service_name="langfuse-voice-agent", tags=["example"])


async def entrypoint(ctx: JobContext) -> None:
    """Tracing first (``setup()``), then the usual agent."""
    await run_agent(ctx, setup)


server = agent_server(entrypoint)  # what livekit 1.8's CLI looks for (None on 1.2)
TRACING_VARIABLES = ("LANGFUSE_PUBLIC_KEY", "LANGFUSE_SECRET_KEY")

if __name__ == "__main__":
    if sys.argv[1:2] == ["simulate"]:  # offline, see voice_agent.simulate
        sys.exit(simulate(setup, TRACING_VARIABLES, sys.argv[2:], name="langfuse_agent"))
    cli.run_app(WorkerOptions(entrypoint_fnc=entrypoint))
