"""``--profile``: where lk_otel's CPU per span goes (parts switched off, cProfile)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench_common import (
    SERVICE,
    Sizes,
    _emit,
    _quiet_logs,
    run_child,
)


def child_profile(cfg: dict[str, Any]) -> None:
    """``--profile``: CPU per span with parts of lk_otel switched off, then cProfile.

    Diagnostic only: switches parts off by patching lk_otel at run time (the waterfall
    emitter, the processor's ``_start``/``_end``), so the differences say what each costs.
    """
    import cProfile
    import gc
    import io
    import pstats

    import span_replay as sr
    from livekit.agents import telemetry
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    from lk_otel import setup_tracing
    from lk_otel.collect.feed import SessionFeed
    from lk_otel.collect.instrumentor import CURRENT_FEED
    from lk_otel.enrich import waterfall
    from lk_otel.enrich.records import Release

    _quiet_logs()
    steps = sr.load(Path(cfg["stream"]))
    per_call, calls, queue = sr.span_count(steps), cfg["calls"], 1 << 17
    bare = TracerProvider()
    bare.add_span_processor(
        BatchSpanProcessor(sr.CountingExporter(), max_queue_size=queue, schedule_delay_millis=1000)
    )
    telemetry.set_tracer_provider(bare)
    handle = setup_tracing(
        sr.CountingExporter(), service_name=SERVICE, max_queue_size=queue, flush_timeout=120
    )
    processor, build = handle.processor, waterfall.build

    def session_feed() -> Callable[[], None]:
        token = CURRENT_FEED.set(SessionFeed())
        return lambda: CURRENT_FEED.reset(token)

    correlator = processor._correlator  # lk_otel's own: switched off here, diagnostic only

    def switch(enrich: bool, spans: bool) -> None:
        waterfall.build = build if spans else (lambda *a, **k: [])
        for name in ("start", "end", "feed"):
            correlator.__dict__.pop(name, None)
        if not enrich:  # every span released as it ended: queue, worker and export only
            correlator.start = lambda rec: None
            correlator.end = lambda rec, now=0.0: [Release(rec.span_id, {}, 0)]
            correlator.feed = lambda event, now=0.0: []

    variants: dict[str, tuple[Any, tuple[bool, bool]]] = {
        "bare SDK + livekit's PII processor": (bare, (True, True)),
        "lk_otel shell (correlation off)": (handle.provider, (False, False)),
        "lk_otel, no waterfall spans": (handle.provider, (True, False)),
        "lk_otel full": (handle.provider, (True, True)),
    }

    def run(name: str, n: int) -> float:
        provider, (enrich, spans) = variants[name]
        switch(enrich, spans)
        tracer = provider.get_tracer("livekit-agents")
        flush = bare.force_flush if provider is bare else handle.force_flush
        gc.collect()
        t0 = time.process_time()
        for _ in range(n):
            sr.replay(tracer, steps, on_root=None if provider is bare else session_feed)
        flush()
        return (time.process_time() - t0) / (n * per_call) * 1e6

    for name in variants:
        run(name, 5)
    timings: dict[str, list[float]] = {name: [] for name in variants}
    names = list(variants)
    for r in range(cfg["rounds"]):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            timings[name].append(run(name, calls))
    switch(True, True)
    profiler = cProfile.Profile(time.thread_time)  # this thread's CPU, not GIL waits
    tracer = handle.provider.get_tracer("livekit-agents")  # type: ignore[union-attr]
    profiler.enable()
    for _ in range(calls):
        sr.replay(tracer, steps, on_root=session_feed)
    handle.force_flush()
    profiler.disable()
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("tottime").print_stats(r"lk_otel|opentelemetry|livekit", 18)
    stats.sort_stats("cumulative").print_stats(r"lk_otel/", 18)
    handle.shutdown()
    _emit(
        {
            "per_span_us": {k: statistics.median(v) for k, v in timings.items()},
            "profile": text.getvalue(),
        }
    )


def print_profile(stream: Path, sizes: Sizes) -> None:
    """The ``--profile`` report: per-variant CPU per span and the cProfile of lk_otel."""
    cfg = {"stream": str(stream), "calls": sizes.calls_per_run // 2, "rounds": sizes.rounds}
    r = run_child("profile", cfg).result
    per_span = r["per_span_us"]
    base = per_span["bare SDK + livekit's PII processor"]
    print("\nwhere lk_otel's CPU goes (counting exporter, median us per livekit span):")
    previous = None
    for name, value in per_span.items():
        step = f"  (+{value - previous:.1f} us)" if previous is not None else ""
        print(f"  {name:36s} {value:6.1f} us  {value / base:4.2f}x{step}")
        previous = value
    print("\ncProfile of the full lk_otel replay (CPU time of the replaying thread):")
    print(r["profile"])
