"""A LiveKit voice agent traced to a local Jaeger over OTLP/gRPC.

Start Jaeger (UI on http://localhost:16686, OTLP on 4317/4318)::

    docker run --rm -p 16686:16686 -p 4317:4317 -p 4318:4318 jaegertracing/jaeger:latest

Environment: LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET and the plugins' keys
(DEEPGRAM_API_KEY, OPENAI_API_KEY, CARTESIA_API_KEY). Jaeger needs none.

``lk-otel check --backend jaeger``, then ``python examples/jaeger_agent.py dev``.
"""

from __future__ import annotations

from livekit.agents import Agent, AgentSession, JobContext, WorkerOptions, cli

from lk_otel import Jaeger, TracingHandle, setup_tracing

JAEGER_ENDPOINT = "http://localhost:4317"
INSTRUCTIONS = "You are a friendly voice assistant. Keep your answers short."
PLUGINS = "deepgram,openai,cartesia,silero"


def setup(endpoint: str = JAEGER_ENDPOINT) -> TracingHandle:
    """Traces to Jaeger's OTLP/gRPC port; use ``protocol="http/protobuf"`` for :4318."""
    return setup_tracing(Jaeger(endpoint=endpoint), service_name="jaeger-voice-agent")


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
