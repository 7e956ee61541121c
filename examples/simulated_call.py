"""A simulated voice call, offline: no LiveKit server, no API keys, no network.

A real ``AgentSession`` plays a scripted call (scripted VAD, STT, LLM and TTS with known
latencies) while ``setup_tracing()`` writes its trace to an OTLP/JSON file; then the
per-turn report of that file is printed::

    python examples/simulated_call.py --speed 4 --out call.jsonl
    lk-otel report call.jsonl --html call.html

Environment: none.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from lk_otel import File, TracingHandle, setup_tracing
from lk_otel.report import build_report, format_table, read_otlp_json
from lk_otel.simulation import SimulationResult, load_scenario, run_scenario

DEFAULT_OUT = "simulated-call.jsonl"


def setup(path: str | Path = DEFAULT_OUT) -> TracingHandle:
    """Traces to an OTLP/JSON lines file (the Collector's file format)."""
    return setup_tracing(File(str(path)), service_name="simulated-call", schedule_delay=0.2)


async def simulate(
    path: str | Path = DEFAULT_OUT, *, speed: float = 1.0, scenario: str | None = None
) -> SimulationResult:
    """Play the scenario (the built-in one when None) and flush its trace to ``path``."""
    handle = setup(path)
    try:
        return await run_scenario(load_scenario(scenario), speed=speed)
    finally:
        handle.shutdown(5)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the call, then print the per-turn report of the trace file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speed", type=float, default=1.0, help="4: four times faster")
    parser.add_argument("--out", default=DEFAULT_OUT, help=f"trace file (default {DEFAULT_OUT})")
    parser.add_argument("--scenario", help="a scenario JSON file (default: the built-in call)")
    args = parser.parse_args(argv)
    if args.speed <= 0:
        parser.error("--speed must be greater than 0")
    out = Path(args.out)
    out.unlink(missing_ok=True)  # one call per file, so the report shows this one
    result = asyncio.run(simulate(out, speed=args.speed, scenario=args.scenario))
    print(format_table(build_report(read_otlp_json(out).records)))
    print(
        f"{len(result.scenario.turns)} user turns in {result.ended_at - result.started_at:.1f} s"
        f" (speed {args.speed:g}); trace in {out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
