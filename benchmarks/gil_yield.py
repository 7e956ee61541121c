#!/usr/bin/env python
"""What handing the GIL back costs on this machine, and which ways of doing it work.

The enrichment worker gives the GIL back to livekit's thread every 0.5 ms of work
(``time.sleep(0)``), so the event loop never waits the interpreter's 5 ms switch interval
behind it. This prints the CPU cost of one ``time.sleep(0)`` and one ``os.sched_yield()``,
then, with a busy Python thread yielding each way, how late a 1 ms sleep on the main thread
comes back (p50 / p99): the way that keeps that small is the one that hands the GIL over.

Run ``python benchmarks/gil_yield.py``.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable

YIELD_EVERY = 0.0005  # s of work between yields, as the worker does
RUN = 2.0  # s per way


def cpu_per_call(call: Callable[[], object], n: int = 20_000) -> float:
    """CPU of this thread per ``call()``, in us."""
    t0 = time.thread_time()
    for _ in range(n):
        call()
    return (time.thread_time() - t0) / n * 1e6


def lateness(way: Callable[[], object] | None) -> tuple[float, float, int]:
    """p50 / p99 ms by which a 1 ms sleep overshoots while a thread yields ``way``."""
    stop = threading.Event()

    def busy() -> None:
        clock, last, n = time.perf_counter, time.perf_counter(), 0
        while not stop.is_set():
            sum(range(20))
            n += 1
            if way is not None and not n & 15 and clock() - last > YIELD_EVERY:
                way()
                last = clock()

    worker = threading.Thread(target=busy, daemon=True)
    worker.start()
    late: list[float] = []
    end = time.monotonic() + RUN
    while time.monotonic() < end:
        t0 = time.perf_counter()
        time.sleep(0.001)
        late.append((time.perf_counter() - t0 - 0.001) * 1000)
    stop.set()
    worker.join()
    late.sort()
    return late[len(late) // 2], late[int(len(late) * 0.99)], len(late)


def main() -> int:
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores")
    print(f"  time.sleep(0)     {cpu_per_call(lambda: time.sleep(0)):8.2f} us CPU per call")
    print(f"  os.sched_yield()  {cpu_per_call(os.sched_yield):8.2f} us CPU per call")
    print(
        "a 1 ms sleep on the main thread beside a busy thread yielding every "
        f"{YIELD_EVERY * 1e3:g} ms:"
    )
    ways: dict[str, Callable[[], object] | None] = {
        "no yield": None,
        "time.sleep(0)": lambda: time.sleep(0),
        "os.sched_yield()": os.sched_yield,
    }
    for name, way in ways.items():
        p50, p99, n = lateness(way)
        print(f"  {name:17s} late by p50 {p50:9.3f} ms, p99 {p99:9.3f} ms ({n} sleeps)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
