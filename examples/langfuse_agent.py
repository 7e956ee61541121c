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

from livekit.agents import Agent, AgentSession, JobContext, WorkerOptions, cli

from lk_otel import TracingHandle, setup_tracing

INSTRUCTIONS = "You are a friendly voice assistant. Keep your answers short."
PLUGINS = "deepgram,openai,cartesia,silero"


def setup() -> TracingHandle:
    """Traces to Langfuse; the keys and host come from ``LANGFUSE_*``, never from code."""
    return setup_tracing("langfuse", service_name="langfuse-voice-agent", tags=["example"])


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
