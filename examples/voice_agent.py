"""The agent every example runs; the examples differ only in how they set up tracing."""

from __future__ import annotations

from collections.abc import Callable

from livekit.agents import Agent, AgentSession, JobContext

INSTRUCTIONS = "You are a friendly voice assistant. Keep your answers short."
PLUGINS = "deepgram,openai,cartesia,silero"


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


async def run_agent(ctx: JobContext, setup: Callable[[], object]) -> None:
    """Tracing first, so the whole session is traced; then the usual agent."""
    setup()
    await ctx.connect()
    session = build_session()
    await session.start(agent=Agent(instructions=INSTRUCTIONS), room=ctx.room)
    await session.generate_reply(instructions="Greet the user and offer your help.")
