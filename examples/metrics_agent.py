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

from livekit.agents import Agent, AgentSession, JobContext, WorkerOptions, cli

from lk_otel import TracingHandle, setup_tracing

INSTRUCTIONS = "You are a friendly voice assistant. Keep your answers short."
PLUGINS = "deepgram,openai,cartesia,silero"


def setup() -> TracingHandle:
    """Traces and metrics to the endpoint in ``OTEL_EXPORTER_OTLP_*``."""
    return setup_tracing("otlp", service_name="metrics-voice-agent", metrics=True)


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
    """Tracing and metrics first, so the whole session is measured; then the usual agent."""
    setup()
    await ctx.connect()
    session = build_session()
    await session.start(agent=Agent(instructions=INSTRUCTIONS), room=ctx.room)
    await session.generate_reply(instructions="Greet the user and offer your help.")


if __name__ == "__main__":
    cli.run_app(WorkerOptions(entrypoint_fnc=entrypoint))
