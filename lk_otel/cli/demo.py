"""``lk-otel demo``: a simulated call, traced with ``setup_tracing()``, and its latency table."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from .. import semconv as sc
from ..configure.backends import Backend, File
from ..configure.selection import backend_from_name, backends_from_env
from ..errors import ConfigError
from ..tracing import setup_tracing

DEFAULT_OUT = "lk-otel-demo.jsonl"
DEFAULT_SCENARIO = "default"  # the built-in agent's call (it calls two tools)
DEFAULT_AGENT_SCENARIO = "chat"  # with --agent: a call that names no tool
# scripted realtime-model calls (lk_otel/simulation/scenarios/realtime/), by demo name
REALTIME_SCENARIOS = {"realtime": "realtime", "realtime-handoff": "handoff"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of ``lk-otel demo``."""
    parser.add_argument(
        "--scenario",
        metavar="FILE_OR_NAME",
        help="scenario JSON file, or a built-in scenario's name (default: "
        f"{DEFAULT_SCENARIO!r}; with --agent {DEFAULT_AGENT_SCENARIO!r}); 'realtime' and "
        "'realtime-handoff' play a scripted realtime (speech-to-speech) model",
    )
    parser.add_argument(
        "--agent",
        metavar="PATH_OR_MODULE:NAME",
        help="run your own Agent (a subclass, an instance, or a factory returning one), "
        "e.g. my_agent.py:Assistant or myapp.agents:build_agent; its tools and hooks really "
        "run, the VAD/STT/LLM/TTS are scripted",
    )
    parser.add_argument(
        "--backend",
        action="append",
        metavar="NAME",
        help="also export to this backend (langfuse, jaeger, otlp, console, file); repeatable. "
        "Default: whatever LANGFUSE_* / OTEL_EXPORTER_OTLP_* configure",
    )
    parser.add_argument(
        "--out",
        default=DEFAULT_OUT,
        help=f"OTLP/JSON lines file, rewritten each run ({DEFAULT_OUT})",
    )
    parser.add_argument("--speed", type=float, default=1.0, help="run X times faster (1.0)")
    parser.add_argument("--metrics", action="store_true", help="also export OTel metrics")
    pii = parser.add_mutually_exclusive_group()
    pii.add_argument(
        "--pii",
        dest="pii",
        action="store_const",
        const=True,
        help="export conversational content (default: LIVEKIT_TELEMETRY_ALLOW_PII, else on)",
    )
    pii.add_argument("--no-pii", dest="pii", action="store_const", const=False, help="strip it")


def run(args: argparse.Namespace) -> int:
    """Run the scenario, export it, print the per-turn table; 0 on success."""
    from ..report import build_report, format_table, records_from_spans
    from ..simulation import AgentLoadError, ScenarioError, load_agent, load_scenario, run_scenario

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("lk_otel").setLevel(logging.INFO)
    if args.speed <= 0:
        print("lk-otel demo: --speed must be greater than 0")
        return 2
    realtime = REALTIME_SCENARIOS.get(args.scenario or "")
    if realtime is not None and args.agent:
        print(
            f"lk-otel demo: --scenario {args.scenario} plays its own scripted agents; drop --agent"
        )
        return 2
    try:
        agent = load_agent(args.agent) if args.agent else None
        default = DEFAULT_AGENT_SCENARIO if agent is not None else DEFAULT_SCENARIO
        scenario = load_scenario(args.scenario or default) if realtime is None else None
        # one call per file: the File backend appends, so a second report showed two calls
        Path(args.out).unlink(missing_ok=True)
        backends: list[Backend] = [File(path=args.out)]
        extra = [backend_from_name(n) for n in args.backend or []]
        backends += extra or backends_from_env(dict(os.environ))
        memory = InMemorySpanExporter()
        handle = setup_tracing(
            [*backends, memory],
            service_name="lk-otel-demo",
            metrics=args.metrics,
            allow_pii=args.pii,  # None: LIVEKIT_TELEMETRY_ALLOW_PII, else livekit's default
        )
    except (ConfigError, ScenarioError, AgentLoadError, OSError) as exc:
        print(f"lk-otel demo: {exc}")
        return 2
    started = time.monotonic()
    try:
        if realtime is not None:
            result = asyncio.run(_run_realtime(realtime, args.speed))
        else:
            result = asyncio.run(
                run_scenario(scenario, speed=args.speed, agent_name="lk-otel-demo", agent=agent)
            )
    except (ScenarioError, AgentLoadError) as exc:  # e.g. a tool the agent does not have
        print(f"lk-otel demo: {exc}")
        return 2
    finally:
        handle.force_flush(10)
        handle.shutdown(10)
    spans = memory.get_finished_spans()
    print(format_table(build_report(records_from_spans(spans))))
    if realtime is not None:
        print(_realtime_summary(spans))
    print(
        f"\nsimulated call took {time.monotonic() - started:.1f} s; trace written to {args.out} "
        f"(read it again with `lk-otel report {args.out} --html report.html`)"
    )
    for anomaly in result.anomalies:
        print(f"note: the call left the script: {anomaly}")
    others = [t.label for t in handle.targets if t.label != "file"]
    if others:
        print(f"also exported to: {', '.join(others)}")
    return 0


async def _run_realtime(name: str, speed: float):  # -> RealtimeResult
    from ..simulation.realtime_runner import run_realtime_script
    from ..simulation.realtime_script import load_realtime_script

    return await run_realtime_script(load_realtime_script(name), speed=speed)


_SUMMARY_KEYS = (
    (sc.SESSION_INPUT_AUDIO_TOKENS, "audio in"),
    (sc.SESSION_INPUT_TEXT_TOKENS, "text in"),
    (sc.SESSION_CACHED_INPUT_TOKENS, "cached in"),
    (sc.SESSION_OUTPUT_AUDIO_TOKENS, "audio out"),
    (sc.SESSION_OUTPUT_TEXT_TOKENS, "text out"),
)


def _realtime_summary(spans: Sequence[ReadableSpan]) -> str:
    """The realtime session's tokens by modality, agents and handoffs (from the spans)."""
    lines = []
    for span in spans:
        attrs = span.attributes or {}
        if span.name != sc.SPAN_AGENT_SESSION or sc.SESSION_INPUT_AUDIO_TOKENS not in attrs:
            continue
        tokens = ", ".join(f"{label} {attrs[key]}" for key, label in _SUMMARY_KEYS if key in attrs)
        lines.append(f"\nrealtime model tokens: {tokens}")
        agents = " → ".join(attrs.get(sc.SESSION_AGENTS, ()))
        lines.append(f"agents: {agents} ({attrs.get(sc.SESSION_HANDOFFS, 0)} handoffs)")
        for event in span.events:
            if event.name == sc.EVENT_HANDOFF:
                a = event.attributes or {}
                lines.append(
                    f"  handoff {a.get(sc.HANDOFF_FROM, '?')} → {a.get(sc.HANDOFF_TO)}"
                    f" by tool {a.get(sc.HANDOFF_TOOL, '—')}"
                )
    return "\n".join(lines)
