"""The agent every example runs; the examples differ only in how they set up tracing.

``python examples/NAME.py simulate`` runs the example offline: the same ``VoiceAgent``
(its instructions, hooks and tools) in a simulated call (``lk_otel.simulation``: scripted
VAD/STT/LLM/TTS, no LiveKit server, no keys, no network), traced by the example's own
``setup()`` when its tracing variables are set (or with ``--export``), else to a file whose
per-turn report is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from livekit.agents import Agent, AgentSession, JobContext, WorkerOptions

INSTRUCTIONS = "You are a friendly voice assistant. Keep your answers short."
PLUGINS = "deepgram,openai,cartesia,silero"


class VoiceAgent(Agent):
    """Your agent: instructions, hooks and tools go here."""

    def __init__(self) -> None:
        super().__init__(instructions=INSTRUCTIONS)

    async def on_enter(self) -> None:
        self.session.generate_reply(instructions="Greet the user and offer your help.")


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
    await session.start(agent=VoiceAgent(), room=ctx.room)


def agent_server(entrypoint: Callable[[JobContext], Any]) -> Any:
    """The ``AgentServer`` that livekit 1.8's ``python -m livekit.agents start FILE`` (and
    the LiveKit CLI's ``lk agent ...``) look for in the module; None on 1.2, which has
    only ``WorkerOptions``."""
    try:
        from livekit.agents import AgentServer
    except ImportError:
        return None
    return AgentServer.from_server_options(WorkerOptions(entrypoint_fnc=entrypoint))


def simulate(
    setup: Callable[[], Any], variables: Sequence[str], argv: Sequence[str], *, name: str
) -> int:
    """``python examples/NAME.py simulate [--speed S] [--scenario S] [--out F] [--export]``."""
    from lk_otel import File, setup_tracing
    from lk_otel.report import build_report, format_table, read_otlp_json
    from lk_otel.simulation import load_scenario, run_scenario

    parser = argparse.ArgumentParser(prog=f"{name}.py simulate", description=simulate.__doc__)
    parser.add_argument("--speed", type=float, default=1.0, help="4: four times faster")
    parser.add_argument("--scenario", default="chat", help="built-in name or JSON file")
    parser.add_argument("--out", default=f"{name}.jsonl", help="trace file, without backend")
    parser.add_argument("--export", action="store_true", help="use setup() even so")
    args = parser.parse_args(argv)
    if args.speed <= 0:
        parser.error("--speed must be greater than 0")
    configured = args.export or any(os.environ.get(v) for v in variables)
    out = Path(args.out)
    if configured:
        handle = setup()  # exactly what the entrypoint does, where its environment says
    else:
        out.unlink(missing_ok=True)  # one call per file
        handle = setup_tracing(File(str(out)), service_name=name, schedule_delay=0.2)
    try:
        result = asyncio.run(
            run_scenario(load_scenario(args.scenario), speed=args.speed, agent=VoiceAgent)
        )
    finally:
        handle.shutdown(5)
    if configured:
        print(f"simulated call exported to {', '.join(t.label for t in handle.targets)}")
    else:
        print(format_table(build_report(read_otlp_json(out).records)))
        print(f"no tracing variables set ({', '.join(variables) or 'none'}): trace in {out}")
    for anomaly in result.anomalies:
        print(f"note: the call left the script: {anomaly}")
    return 0
