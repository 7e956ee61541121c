#!/usr/bin/env python
"""What lk_otel's tracing pipeline costs a voice agent, measured side by side in one run.

1. CPU per span (``part_cpu.py``): lk_otel's ``setup_tracing()`` against a bare SDK
   ``TracerProvider`` + ``BatchSpanProcessor`` installed with livekit's
   ``set_tracer_provider`` (both carry livekit's own PII processor), the same exporter behind
   both, and against ``traceai-livekit``'s span processor when it is installed (``make
   bench`` puts it in ``.venv-bench``). The span stream of a real simulated call is recorded
   once and replayed through each pipeline in interleaved rounds. Two figures each: CPU of
   the caller thread (where livekit starts and ends spans: the agent's event loop) and of
   the whole process up to a final flush, for a counting exporter and for OTLP/gRPC to a
   receiver in another process.
2. Event-loop lag (``part_lag.py``) during a real simulated call, tracing off / healthy /
   dead / stalled / flapping backend, each in a fresh process.
3. Memory growth (``part_memory.py``) over a 10,000-turn session.
4. ``handle.shutdown()`` time with a dead backend (``part_shutdown.py``).

Run ``python benchmarks/pipeline_overhead.py [--quick] [--json OUT]``; every part runs in a
child process of this script, the OTLP receiver (tests/support/otlp_receiver.py) in another.
``--profile`` instead shows where lk_otel's CPU per span goes (``part_profile.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench_common import (
    FULL,
    QUICK,
    Figure,
    _emit,
    _load,
    _quiet_logs,
    _versions,
    child_receiver,
    receiver_process,
    run_child,
)
from part_cpu import child_cpu, part_cpu
from part_lag import child_lag, part_lag
from part_memory import child_memory, part_memory
from part_output import child_output
from part_profile import child_profile, print_profile
from part_shutdown import child_shutdown, part_shutdown


def child_record(cfg: dict[str, Any]) -> None:
    """Record the span stream of one simulated call (default scenario)."""
    import span_replay as sr

    _quiet_logs()
    started = time.monotonic()
    steps = sr.record_call(cfg["speed"])
    sr.save(steps, Path(cfg["out"]))
    names: dict[str, int] = {}
    for s in steps:
        if isinstance(s, sr.SpanStart):
            names[s.name] = names.get(s.name, 0) + 1
    _emit(
        {
            "spans": sr.span_count(steps),
            "names": names,
            "turn_spans": sr.span_count(sr.one_turn(steps)),
            "seconds": time.monotonic() - started,
        }
    )


CHILDREN: dict[str, Callable[[dict[str, Any]], None]] = {
    "receiver": child_receiver,
    "record": child_record,
    "output": child_output,
    "cpu": child_cpu,
    "lag": child_lag,
    "memory": child_memory,
    "shutdown": child_shutdown,
    "profile": child_profile,
}


def print_table(figures: Sequence[Figure], header: dict[str, str]) -> None:
    w = [max(len(f.name) for f in figures), max(len(f.value) for f in figures)]
    w.append(max(len(f.goal) for f in figures))
    print("\n" + "=" * (sum(w) + 14))
    for key, value in header.items():
        print(f"{key:11s} {value}")
    print("-" * (sum(w) + 14))
    print(f"{'figure':{w[0]}s}  {'measured':{w[1]}s}  {'goal':{w[2]}s}  result")
    for f in figures:
        print(f"{f.name:{w[0]}s}  {f.value:{w[1]}s}  {f.goal:{w[2]}s}  {f.verdict}")
    print("=" * (sum(w) + 14))


def orchestrate(args: argparse.Namespace) -> int:
    sizes = QUICK if args.quick else FULL
    started = time.monotonic()
    versions = _versions()
    cores = os.cpu_count() or 0
    command = shlex.join([Path(sys.executable).name, *sys.argv])
    print(f"lk_otel pipeline overhead benchmark ({'quick' if args.quick else 'full'})")
    print(f"  {', '.join(f'{k} {v}' for k, v in versions.items())}; {cores} cores; {_load()}")
    figures: list[Figure] = []
    report: dict[str, Any] = {"command": command, "versions": versions, "cores": cores}
    with tempfile.TemporaryDirectory() as tmp, receiver_process() as receiver:
        stream = Path(tmp) / "call.jsonl"
        rec = run_child("record", {"out": str(stream), "speed": sizes.record_speed}).result
        print(
            f"\nrecorded one simulated call (default scenario, speed {sizes.record_speed:g}): "
            f"{rec['spans']} spans ({', '.join(f'{k} {v}' for k, v in rec['names'].items())}); "
            f"one turn = {rec['turn_spans']} spans"
        )
        report["recording"] = rec
        if args.profile:
            print_profile(stream, sizes)
            return 0
        parts: dict[str, Callable[[], tuple[list[Figure], dict[str, Any]]]] = {
            "cpu": lambda: part_cpu(sizes, stream, receiver),
            "lag": lambda: part_lag(sizes, receiver),
            "memory": lambda: part_memory(sizes, stream),
            "shutdown": lambda: part_shutdown(sizes, stream, receiver),
        }
        for key, part in parts.items():
            part_started = time.monotonic()
            figs, data = part()
            print(f"  ({time.monotonic() - part_started:.0f} s)")
            figures += figs
            report[key] = data
    wall = time.monotonic() - started
    report["figures"] = [asdict(f) for f in figures]
    report["wall_s"] = wall
    print_table(
        figures,
        {
            "command": command,
            "versions": ", ".join(f"{k} {v}" for k, v in versions.items()),
            "machine": f"{cores} cores, {platform.machine()}, {platform.system()}",
            "wall time": f"{wall:.0f} s ({_load()} at the end)",
        },
    )
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
        print(f"figures written to {args.json}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    parser.add_argument("--json", metavar="OUT", help="also write the figures to OUT")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="instead: where lk_otel's CPU per span goes (parts switched off, cProfile)",
    )
    parser.add_argument("--child", nargs=2, metavar=("PART", "CONFIG"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        part, cfg = args.child
        CHILDREN[part](json.loads(cfg))
        return 0
    return orchestrate(args)


if __name__ == "__main__":
    sys.exit(main())
