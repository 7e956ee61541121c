"""A LiveKit voice agent traced to Langfuse and to a local Jaeger at once.

Every span goes to both; a backend that is down does not hold up the other (each has its
own queue and retries). Environment: LANGFUSE_PUBLIC_KEY, LANGFUSE_SECRET_KEY,
LANGFUSE_HOST; Jaeger on localhost:4317 (see ``jaeger_agent.py``); LIVEKIT_URL,
LIVEKIT_API_KEY, LIVEKIT_API_SECRET and the plugins' keys (DEEPGRAM_API_KEY,
OPENAI_API_KEY, CARTESIA_API_KEY).

``lk-otel check --backend langfuse,jaeger``, then ``python examples/two_backends_agent.py dev``.
"""

from __future__ import annotations

from livekit.agents import Agent, AgentSession, JobContext, WorkerOptions, cli

from lk_otel import Jaeger, TracingHandle, setup_tracing

JAEGER_ENDPOINT = "http://localhost:4317"
INSTRUCTIONS = "You are a friendly voice assistant. Keep your answers short."
PLUGINS = "deepgram,openai,cartesia,silero"


def setup(jaeger_endpoint: str = JAEGER_ENDPOINT) -> TracingHandle:
    """Langfuse (keys from ``LANGFUSE_*``) and Jaeger (OTLP/gRPC) side by side."""
    return setup_tracing(
        ["langfuse", Jaeger(endpoint=jaeger_endpoint)], service_name="two-backends-agent"
    )


def build_session() -> AgentSession:
    """STT, LLM, TTS and VAD plugins; swap in your own."""
    try:
        from livekit.plugins import cartesia, deepgram, openai, silero
    except ImportError as exc:
        raise RuntimeError(f'pip install "livekit-agents[{PLUGINS}]" ({exc})') from exc
    return AgentSession(
        stt=deepgram.STT(model="nova-3"),
        llm=openai.LLM(model="gpt-4o-mini"),
        tts=cartesia.TTS(),
        vad=silero.VAD.load(),
    )


async def entrypoint(ctx: JobContext) -> None:
    """Tracing first, so the whole session is traced; then the usual agent."""
    setup()
    await ctx.connect()
    session = build_session()
    await session.start(agent=Agent(instructions=INSTRUCTIONS), room=ctx.room)
    await session.generate_reply(instructions="Greet the user and offer your help.")


if __name__ == "__main__":
    cli.run_app(WorkerOptions(entrypoint_fnc=entrypoint))
