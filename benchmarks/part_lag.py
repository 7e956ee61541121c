"""Part 2: event-loop lag during a simulated call, per backend state."""

from __future__ import annotations

import os
import statistics
import sys
import time
from typing import Any

from bench_common import (
    LAG_ADDED_P99_GOAL_MS,
    SERVICE,
    Figure,
    Receiver,
    Sizes,
    _emit,
    _percentile,
    _quiet_logs,
    _verdict,
    run_child,
)


def child_lag(cfg: dict[str, Any]) -> None:
    """Part 2: event-loop lag during a simulated call, tracing in the given mode."""
    import asyncio

    from lk_otel import OTLP, setup_tracing
    from lk_otel.simulation import load_scenario, run_scenario

    _quiet_logs()
    handle = None
    if cfg["mode"] != "off":
        handle = setup_tracing(
            OTLP(endpoint=cfg["endpoint"], protocol="grpc", insecure=True),
            service_name=SERVICE,
        )
    lags: list[float] = []

    async def probe(stop: asyncio.Event) -> None:
        while not stop.is_set():
            t0 = time.perf_counter()
            await asyncio.sleep(0.001)
            lags.append((time.perf_counter() - t0 - 0.001) * 1000)

    async def call() -> float:
        stop = asyncio.Event()
        task = asyncio.ensure_future(probe(stop))
        await asyncio.sleep(0.05)
        cpu0 = time.process_time()
        await run_scenario(load_scenario(), speed=cfg["speed"])
        cpu = time.process_time() - cpu0
        stop.set()
        await task
        return cpu

    started = time.monotonic()
    cpu = asyncio.run(call())
    wall = time.monotonic() - started
    if handle is not None and cfg["mode"] == "healthy":
        handle.force_flush(2.0)  # so the receiver's count shows the whole call arrived
    _emit(
        {
            "mode": cfg["mode"],
            "samples": len(lags),
            "lags_ms": [round(x, 4) for x in lags],
            "p50_ms": _percentile(lags, 50),
            "p99_ms": _percentile(lags, 99),
            "max_ms": max(lags),
            "call_s": wall,
            "cpu_s": cpu,
            "traced": handle is not None,
        }
    )
    # shutdown is part 4's business; a dead backend would hold this process for its bound
    sys.stdout.flush()
    os._exit(0)


LAG_MODES: tuple[tuple[str, str | None, str | None], ...] = (
    # mode, receiver command before, after
    ("off", None, None),
    ("healthy", None, None),
    ("dead", "down", "up"),
    ("stalled", "stall", "reset"),
    ("flapping", "flap", "steady"),
)


def part_lag(sizes: Sizes, receiver: Receiver) -> tuple[list[Figure], dict[str, Any]]:
    print(
        f"\n[2] event-loop lag during a simulated call (default scenario, speed "
        f"{sizes.lag_speed:g}), 1 ms sleeper on the agent's loop; {sizes.lag_rounds} "
        f"interleaved round(s), one process per call, samples pooled per mode"
    )
    runs: dict[str, list[dict[str, Any]]] = {mode: [] for mode, _, _ in LAG_MODES}
    for r in range(sizes.lag_rounds):
        turn = r % len(LAG_MODES)
        for mode, before, after in LAG_MODES[turn:] + LAG_MODES[:turn]:
            receiver.command("clear")
            if before:
                receiver.command(before)
            cfg = {"mode": mode, "endpoint": receiver.grpc_endpoint, "speed": sizes.lag_speed}
            try:
                run = run_child("lag", cfg).result
            finally:
                if after:
                    receiver.command(after)
            run["receiver_accepted"] = receiver.command("count")["spans"]
            runs[mode].append(run)
    results: dict[str, Any] = {}
    for mode, items in runs.items():
        pooled = [x for run in items for x in run.pop("lags_ms")]
        results[mode] = r = {
            "samples": len(pooled),
            "p50_ms": _percentile(pooled, 50),
            "p99_ms": _percentile(pooled, 99),
            "max_ms": max(pooled),
            "runs": items,
        }
        per_run = ", ".join(f"{x['p99_ms']:.2f}" for x in items)
        cpu = statistics.median(x["cpu_s"] for x in items)
        accepted = ", ".join(str(x["receiver_accepted"]) for x in items)
        print(
            f"  {mode:8s} p50 {r['p50_ms']:5.3f} ms  p99 {r['p99_ms']:5.3f} ms (per run "
            f"{per_run})  max {r['max_ms']:6.1f} ms; {r['samples']} samples; call CPU "
            f"{cpu:.2f} s; spans at the receiver {accepted}"
        )
    off = results["off"]["p99_ms"]
    figures = []
    for mode in ("healthy", "dead", "stalled", "flapping"):
        r = results[mode]
        added = r["p99_ms"] - off
        r["added_p99_ms"] = added
        figures.append(
            Figure(
                f"loop lag p99 added, {mode} backend",
                f"{added:+.3f} ms (p50 {r['p50_ms']:.3f}, p99 {r['p99_ms']:.3f}; off p99 "
                f"{off:.3f})",
                f"< {LAG_ADDED_P99_GOAL_MS:g} ms",
                _verdict(added < LAG_ADDED_P99_GOAL_MS),
            )
        )
    return figures, results
