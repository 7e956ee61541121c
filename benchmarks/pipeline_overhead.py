#!/usr/bin/env python
"""What lk_otel's tracing pipeline costs a voice agent, measured side by side in one run.

1. CPU time per span: ``setup_tracing()`` (enrichment, batching, resilient export) against a
   bare SDK ``TracerProvider`` + ``BatchSpanProcessor`` installed with livekit's
   ``set_tracer_provider`` (so both carry livekit's own PII processor), the same exporter
   behind both. The span stream of a real simulated call is recorded once and replayed N
   times through each pipeline, interleaved over several rounds; ``time.process_time()``
   counts every thread (the exporter's included) up to a final ``force_flush``. Two
   exporters, each a figure: a counting one (the pipeline's own cost, the strict figure)
   and OTLP/gRPC to a receiver in another process (what a deployment pays, encoding
   included; the receiver's CPU is not counted).
2. Event-loop lag during a real simulated call, tracing off / healthy / dead / stalled
   backend, each in a fresh process: a task sleeping 1 ms records its late wake-ups.
3. Memory growth over a 10,000-turn session: one recorded turn replayed under one
   ``agent_session`` span through the full pipeline; tracemalloc and RSS after warm-up
   against the end, and the allocation sites that grew.
4. ``handle.shutdown()`` time with a dead backend, against the configured bound.

Run ``python benchmarks/pipeline_overhead.py [--quick] [--json OUT]``; every part runs in a
child process of this script, the OTLP receiver (tests/support/otlp_receiver.py) in another.
``--profile`` instead shows where lk_otel's CPU per span goes (parts switched off, cProfile).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for _p in (str(HERE), str(ROOT / "tests"), str(ROOT)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

RESULT = "@@result "
CPU_RATIO_GOAL = 1.15
LAG_ADDED_P99_GOAL_MS = 1.0
MEMORY_GOAL_MB = 5.0
MEMORY_TURNS = 10_000  # the session length the memory goal is for
SERVICE = "lk-otel-bench"


@dataclass(frozen=True)
class Sizes:
    """How much work each part does."""

    record_speed: float
    calls_per_run: int  # replays of the call per measurement (part 1)
    rounds: int  # interleaved A/B rounds (part 1)
    otlp_calls_per_run: int
    lag_speed: float
    lag_rounds: int
    turns: int  # part 3
    warmup_turns: int
    shutdown_wait: float  # seconds between the last span and shutdown (part 4)


FULL = Sizes(8.0, 100, 15, 20, 2.0, 2, MEMORY_TURNS, 500, 1.5)
QUICK = Sizes(8.0, 20, 3, 10, 8.0, 1, 600, 100, 1.5)


# ======================================================================================
# children
# ======================================================================================


def _emit(result: dict[str, Any]) -> None:
    print(RESULT + json.dumps(result), flush=True)


def _quiet_logs() -> None:
    import logging

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


def child_receiver(_: dict[str, Any]) -> None:
    """An OTLP receiver driven by one-word commands on stdin; answers one JSON line each."""
    from otlp_receiver import OtlpReceiver

    receiver = OtlpReceiver().start()
    print(json.dumps({"grpc": receiver.grpc_endpoint, "http": receiver.http_url()}), flush=True)
    for line in sys.stdin:
        cmd = line.strip()
        if cmd == "down":
            receiver.down()
        elif cmd == "up":
            receiver.up()
        elif cmd == "stall":
            receiver.stall()
        elif cmd == "reset":
            receiver.reset_faults()
        elif cmd == "clear":
            receiver.clear()
        elif cmd == "quit":
            break
        spans = sum(len(r.spans) for r in receiver.requests if r.accepted)
        print(json.dumps({"spans": spans, "requests": len(receiver.requests)}), flush=True)
    receiver.reset_faults()
    receiver.stop()


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


def child_cpu(cfg: dict[str, Any]) -> None:
    """Part 1: CPU per span, lk_otel against bare SDK, interleaved rounds."""
    import gc

    import span_replay as sr
    from livekit.agents import telemetry
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

    from lk_otel import setup_tracing
    from lk_otel.collect.feed import SessionFeed
    from lk_otel.collect.instrumentor import CURRENT_FEED

    _quiet_logs()
    steps = sr.load(Path(cfg["stream"]))
    per_call = sr.span_count(steps)
    call_ns = sr.duration_ns(steps) + 1_000_000_000
    calls, rounds, queue = cfg["calls"], cfg["rounds"], cfg["queue"]

    def exporter() -> SpanExporter:
        if cfg["exporter"] == "counting":
            return sr.CountingExporter()
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter(endpoint=cfg["endpoint"], insecure=True)

    bare_exporter = exporter()
    bare = TracerProvider()
    bare.add_span_processor(
        BatchSpanProcessor(bare_exporter, max_queue_size=queue, schedule_delay_millis=1000)
    )
    telemetry.set_tracer_provider(bare)  # what a livekit user without lk_otel does
    lk_exporter = exporter()
    handle = setup_tracing(
        lk_exporter, service_name=SERVICE, max_queue_size=queue, flush_timeout=120
    )
    assert handle.provider is not None

    def lk_flush() -> None:
        if not handle.force_flush():  # through the batch processor and the resilient exporter
            raise RuntimeError("lk_otel flush did not finish")

    def session_feed() -> Callable[[], None]:
        token = CURRENT_FEED.set(SessionFeed())  # what the instrumented AgentSession.start does
        return lambda: CURRENT_FEED.reset(token)

    pipelines: dict[str, tuple[Any, Any, Callable[[], Any]]] = {
        "lk_otel": (handle.provider, session_feed, lk_flush),
        "bare": (bare, None, bare.force_flush),
    }
    offset = [0]

    def run(name: str, n: int) -> float:
        provider, on_root, flush = pipelines[name]
        tracer = provider.get_tracer("livekit-agents")
        gc.collect()
        t0 = time.process_time()
        for _ in range(n):
            sr.replay(tracer, steps, offset_ns=offset[0], on_root=on_root)
            offset[0] += call_ns
        flush()
        return (time.process_time() - t0) / (n * per_call) * 1e6

    for name in pipelines:  # warm-up: imports, caches, gRPC channel
        run(name, max(2, calls // 10))
    per_span: dict[str, list[float]] = {name: [] for name in pipelines}
    for r in range(rounds):
        order = ["lk_otel", "bare"] if r % 2 == 0 else ["bare", "lk_otel"]
        for name in order:
            per_span[name].append(run(name, calls))

    total_calls = calls * rounds + max(2, calls // 10)
    out: dict[str, Any] = {
        "exporter": cfg["exporter"],
        "spans_per_call": per_call,
        "calls_per_run": calls,
        "rounds": rounds,
        "us_per_span": per_span,
        "lk_otel_us": statistics.median(per_span["lk_otel"]),
        "bare_us": statistics.median(per_span["bare"]),
        "paired_ratios": [
            a / b for a, b in zip(per_span["lk_otel"], per_span["bare"], strict=True)
        ],
        "bare_spans_sent": total_calls * per_call,
    }
    # each round's pair ran back to back: their ratio is immune to slow drift of the machine
    out["ratio"] = statistics.median(out["paired_ratios"])
    resilient = handle.exporters[0]
    out["lk_otel_spans_sent"] = resilient.exported
    out["lk_otel_dropped"] = resilient.dropped + resilient.held
    if isinstance(lk_exporter, sr.CountingExporter) and isinstance(
        bare_exporter, sr.CountingExporter
    ):
        out["bare_spans_exported"] = bare_exporter.count
        turn = lk_exporter.last.get("agent_turn")
        keys = [k for k in (turn.attributes or {}) if k.startswith("lk_otel.")] if turn else []
        out["enriched_turn_keys"] = len(keys)
        livekit_names = {s.name for s in steps if isinstance(s, sr.SpanStart)}
        out["waterfall_spans"] = sorted(set(lk_exporter.last) - livekit_names)
    handle.shutdown()
    bare.shutdown()
    _emit(out)


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q / 100
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


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


def _rss_mb() -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def child_memory(cfg: dict[str, Any]) -> None:
    """Part 3: memory growth over a long session of replayed turns."""
    import gc
    import tracemalloc

    import span_replay as sr
    from opentelemetry import trace

    from lk_otel import semconv as sc
    from lk_otel import setup_tracing
    from lk_otel.collect.feed import SessionFeed
    from lk_otel.collect.instrumentor import CURRENT_FEED

    _quiet_logs()
    steps = sr.load(Path(cfg["stream"]))
    turn = sr.one_turn(steps)
    per_turn = sr.span_count(turn)
    turn_ns = sr.duration_ns(turn) + 500_000_000
    session_start = next(s for s in steps if isinstance(s, sr.SpanStart) and s.parent is None)
    turns, warmup = cfg["turns"], cfg["warmup"]

    exporter = sr.CountingExporter()
    handle = setup_tracing(exporter, service_name=SERVICE)
    provider = handle.provider
    assert provider is not None
    tracer = provider.get_tracer("livekit-agents")
    token = CURRENT_FEED.set(SessionFeed())
    session = tracer.start_span(
        "agent_session", attributes=session_start.attributes, start_time=session_start.start_ns
    )
    CURRENT_FEED.reset(token)
    root = trace.set_span_in_context(session)
    ignore = [tracemalloc.Filter(False, tracemalloc.__file__)]

    def settle() -> None:
        handle.force_flush()
        gc.collect()

    # tracing starts after warm-up: what is traced at the end was allocated since, and kept
    started = time.monotonic()
    rss_before: float | None = None
    for i in range(turns):
        sr.replay(tracer, turn, offset_ns=i * turn_ns, root=root)
        if (i + 1) % 50 == 0:
            provider.force_flush()  # keep the exporter's queue from overflowing
        if i + 1 == warmup:
            settle()
            rss_before = _rss_mb()
            tracemalloc.start(1)
    settle()
    growth = tracemalloc.get_traced_memory()[0]
    rss_after = _rss_mb()
    bookkeeping = tracemalloc.get_tracemalloc_memory()
    stats = tracemalloc.take_snapshot().filter_traces(ignore).statistics("lineno")
    seconds = time.monotonic() - started
    kept = _session_state_size(handle.processor)
    session.end(end_time=session_start.start_ns + turns * turn_ns + 10**9)
    handle.force_flush()
    ended = exporter.last.get("agent_session")
    reported = (ended.attributes or {}).get(sc.SESSION_TURNS) if ended is not None else None
    counted = turns - warmup
    top = [
        {
            "site": f"{_short(st.traceback[0].filename)}:{st.traceback[0].lineno}",
            "kb": st.size / 1024,
            "bytes_per_turn": st.size / counted,
            "blocks": st.count,
        }
        for st in stats[:8]
    ]
    rss_growth = None
    if rss_before is not None and rss_after is not None:
        rss_growth = rss_after - rss_before - bookkeeping / 2**20
    tracemalloc.stop()
    handle.shutdown()
    _emit(
        {
            "turns": turns,
            "warmup": warmup,
            "spans_per_turn": per_turn,
            "spans_exported": exporter.count,
            "session_turns_reported": reported,
            "growth_mb": growth / 2**20,
            "bytes_per_turn": growth / counted,
            "rss_before_mb": rss_before,
            "rss_after_mb": rss_after,
            "rss_growth_mb": rss_growth,
            "tracemalloc_bookkeeping_mb": bookkeeping / 2**20,
            "top": top,
            "session_state": kept,
            "seconds": seconds,
        }
    )


def _deep_size(obj: Any, seen: set[int] | None = None) -> int:
    """Bytes held by ``obj`` and everything it references (containers, dataclasses)."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return 0
    seen.add(id(obj))
    size = sys.getsizeof(obj)
    if isinstance(obj, dict):
        size += sum(_deep_size(k, seen) + _deep_size(v, seen) for k, v in obj.items())
    elif isinstance(obj, list | tuple | set | frozenset):
        size += sum(_deep_size(v, seen) for v in obj)
    elif hasattr(obj, "__dataclass_fields__"):
        if hasattr(obj, "__dict__"):
            size += sys.getsizeof(obj.__dict__)
        size += sum(_deep_size(getattr(obj, f), seen) for f in obj.__dataclass_fields__)
    return size


def _session_state_size(processor: Any) -> dict[str, Any] | None:
    """What the open session's state holds (white-box: the processor's sessions)."""
    sessions = getattr(processor, "_sessions", None)
    if not sessions:
        return None
    state = next(iter(sessions.values()))
    seen = {id(getattr(state, "feed", None))}  # the feed is the instrumentor's, not per turn
    turns = getattr(state, "turns_started", 0)
    size = _deep_size(state, seen)
    return {
        "turns": turns,
        "state_mb": size / 2**20,
        "bytes_per_turn": size / max(1, turns),
        "open_spans_tracked": len(getattr(processor, "_open", {})),
        "turns_tracked": len(getattr(processor, "_turns", {})),
    }


def _short(filename: str) -> str:
    for marker in ("site-packages/", str(ROOT) + "/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def child_shutdown(cfg: dict[str, Any]) -> None:
    """Part 4: ``handle.shutdown()`` with a dead backend, after a call's spans."""
    import span_replay as sr

    from lk_otel import OTLP, setup_tracing

    _quiet_logs()
    steps = sr.load(Path(cfg["stream"]))
    handle = setup_tracing(
        OTLP(endpoint=cfg["endpoint"], protocol="grpc", insecure=True), service_name=SERVICE
    )
    assert handle.provider is not None
    sr.replay(handle.provider.get_tracer("livekit-agents"), steps)
    time.sleep(cfg["wait"])  # the first export attempt is under way, as after a real call
    t0 = time.monotonic()
    ok = handle.shutdown()
    seconds = time.monotonic() - t0
    _emit(
        {
            "shutdown_s": seconds,
            "bound_s": handle.flush_timeout,
            "completed": ok,
            "spans": sr.span_count(steps),
        }
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

    def switch(enrich: bool, spans: bool) -> None:
        waterfall.build = build if spans else (lambda *a, **k: [])
        for name, stub in (("_start", lambda span: None), ("_end", lambda span: (None, None))):
            if enrich:
                processor.__dict__.pop(name, None)
            else:
                setattr(processor, name, stub)

    variants: dict[str, tuple[Any, tuple[bool, bool]]] = {
        "bare SDK + livekit's PII processor": (bare, (True, True)),
        "lk_otel shell (enrichment off)": (handle.provider, (False, False)),
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


CHILDREN: dict[str, Callable[[dict[str, Any]], None]] = {
    "receiver": child_receiver,
    "record": child_record,
    "cpu": child_cpu,
    "lag": child_lag,
    "memory": child_memory,
    "shutdown": child_shutdown,
    "profile": child_profile,
}


# ======================================================================================
# parent
# ======================================================================================


class ChildFailed(RuntimeError):
    """A part's child process failed; the message has the tail of its stderr."""


@dataclass
class ChildRun:
    result: dict[str, Any]
    seconds: float
    exit_after_result_s: float


def run_child(part: str, cfg: dict[str, Any], timeout: float = 240.0) -> ChildRun:
    """Run one part in a fresh interpreter and return what it emitted."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", part, json.dumps(cfg)]
    started = time.monotonic()
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True)
        result: dict[str, Any] | None = None
        result_at = 0.0
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith(RESULT):
                result = json.loads(line[len(RESULT) :])
                result_at = time.monotonic()
        try:
            code = proc.wait(timeout=max(1.0, timeout - (time.monotonic() - started)))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            code = -9
        ended = time.monotonic()
        if code != 0 or result is None:
            err.seek(0)
            tail = "".join(err.readlines()[-30:])
            raise ChildFailed(f"part {part!r} exited with {code}:\n{tail}")
    return ChildRun(result, ended - started, ended - result_at)


class Receiver:
    """The OTLP receiver in its own process, so its CPU is not counted as the pipeline's."""

    def __init__(self) -> None:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", "receiver", "{}"]
        self._proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self._proc.stdout is not None
        ready = json.loads(self._proc.stdout.readline())
        self.grpc_endpoint: str = ready["grpc"]

    def command(self, cmd: str) -> dict[str, Any]:
        """Send ``down``/``up``/``stall``/``reset``/``clear``/``count``; the span count after."""
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(cmd + "\n")
        self._proc.stdin.flush()
        return json.loads(self._proc.stdout.readline())

    def close(self) -> None:
        if self._proc.poll() is None:
            try:
                assert self._proc.stdin is not None
                self._proc.stdin.write("quit\n")
                self._proc.stdin.close()
                self._proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self._proc.kill()
                self._proc.wait()


@contextmanager
def receiver_process() -> Iterator[Receiver]:
    receiver = Receiver()
    try:
        yield receiver
    finally:
        receiver.close()


@dataclass
class Figure:
    """One line of the final table."""

    name: str
    value: str
    goal: str
    verdict: str  # PASS, MISS or info


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for label, dist in (
        ("livekit-agents", "livekit-agents"),
        ("opentelemetry-sdk", "opentelemetry-sdk"),
        ("opentelemetry-exporter-otlp", "opentelemetry-exporter-otlp-proto-grpc"),
        ("grpcio", "grpcio"),
    ):
        try:
            out[label] = version(dist)
        except PackageNotFoundError:
            out[label] = "?"
    return out


def _load() -> str:
    """The 1-minute load average: other work on the machine skews every timing here."""
    try:
        return f"load average {os.getloadavg()[0]:.2f}"
    except OSError:
        return "load average n/a"


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def part_cpu(sizes: Sizes, stream: Path, receiver: Receiver) -> tuple[list[Figure], dict[str, Any]]:
    print("\n[1] CPU time per span: lk_otel setup_tracing() vs bare TracerProvider+BSP")
    figures: list[Figure] = []
    results: dict[str, Any] = {}
    for exporter, calls in (
        ("counting", sizes.calls_per_run),
        ("otlp", sizes.otlp_calls_per_run),
    ):
        cfg = {
            "stream": str(stream),
            "exporter": exporter,
            "endpoint": receiver.grpc_endpoint,
            "calls": calls,
            "rounds": sizes.rounds,
            "queue": 1 << 17,
        }
        before = receiver.command("clear")["spans"] if exporter == "otlp" else 0
        r = run_child("cpu", cfg).result
        results[exporter] = r
        label = "counting exporter" if exporter == "counting" else "OTLP/gRPC exporter"
        ratios = ", ".join(f"{x:.2f}" for x in r["paired_ratios"])
        print(
            f"  {label}: {r['rounds']} rounds x {r['calls_per_run']} calls x "
            f"{r['spans_per_call']} spans; median us/span lk_otel {r['lk_otel_us']:.1f}, "
            f"bare {r['bare_us']:.1f}; median of per-round ratios {r['ratio']:.2f} ({ratios})"
        )
        lk_calls = r["calls_per_run"] * r["rounds"] + max(2, r["calls_per_run"] // 10)
        extra = r["lk_otel_spans_sent"] / lk_calls - r["spans_per_call"]
        print(
            f"    spans out per call: bare {r['spans_per_call']}, lk_otel "
            f"{r['spans_per_call']} + {extra:g} of its own; lk_otel undelivered "
            f"{r['lk_otel_dropped']}"
        )
        if exporter == "counting":
            print(
                f"    enrichment check: last agent_turn carries {r['enriched_turn_keys']} "
                f"lk_otel.* keys; spans lk_otel added: {', '.join(r['waterfall_spans'])}"
            )
            figures.append(
                Figure(
                    "CPU/span lk_otel / bare (counting exporter)",
                    f"{r['ratio']:.2f}x ({r['lk_otel_us']:.1f} vs {r['bare_us']:.1f} us)",
                    f"<= {CPU_RATIO_GOAL:.2f}x",
                    _verdict(r["ratio"] <= CPU_RATIO_GOAL),
                )
            )
        else:
            got = receiver.command("count")["spans"] - before
            sent = r["lk_otel_spans_sent"] + r["bare_spans_sent"]
            print(f"    receiver accepted {got} of {sent} spans sent")
            results[exporter]["receiver_accepted"] = got
            figures.append(
                Figure(
                    "CPU/span lk_otel / bare (OTLP/gRPC exporter)",
                    f"{r['ratio']:.2f}x ({r['lk_otel_us']:.1f} vs {r['bare_us']:.1f} us)",
                    f"<= {CPU_RATIO_GOAL:.2f}x",
                    _verdict(r["ratio"] <= CPU_RATIO_GOAL),
                )
            )
            receiver.command("clear")
    return figures, results


LAG_MODES: tuple[tuple[str, str | None, str | None], ...] = (
    # mode, receiver command before, after
    ("off", None, None),
    ("healthy", None, None),
    ("dead", "down", "up"),
    ("stalled", "stall", "reset"),
)


def part_lag(sizes: Sizes, receiver: Receiver) -> tuple[list[Figure], dict[str, Any]]:
    print(
        f"\n[2] event-loop lag during a simulated call (default scenario, speed "
        f"{sizes.lag_speed:g}), 1 ms sleeper on the agent's loop; {sizes.lag_rounds} "
        f"interleaved round(s), one process per call, samples pooled per mode"
    )
    runs: dict[str, list[dict[str, Any]]] = {mode: [] for mode, _, _ in LAG_MODES}
    for r in range(sizes.lag_rounds):
        for mode, before, after in LAG_MODES[r % 4 :] + LAG_MODES[: r % 4]:
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
    for mode in ("healthy", "dead", "stalled"):
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


def part_memory(sizes: Sizes, stream: Path) -> tuple[list[Figure], dict[str, Any]]:
    print(
        f"\n[3] memory over a {sizes.turns}-turn session (one recorded turn replayed under "
        f"one agent_session, counting exporter, measured after turn {sizes.warmup_turns})"
    )
    cfg = {"stream": str(stream), "turns": sizes.turns, "warmup": sizes.warmup_turns}
    r = run_child("memory", cfg).result
    rss = f"{r['rss_growth_mb']:+.2f} MB" if r["rss_growth_mb"] is not None else "n/a"
    print(
        f"  {r['spans_per_turn']} spans/turn, {r['spans_exported']} spans exported in "
        f"{r['seconds']:.1f} s; session span reports {r['session_turns_reported']} turns"
    )
    print(
        f"  allocated after warm-up and still alive (tracemalloc): {r['growth_mb']:.2f} MB, "
        f"{r['bytes_per_turn']:.0f} B/turn; RSS {r['rss_before_mb']:.1f} -> "
        f"{r['rss_after_mb']:.1f} MB ({rss} net of tracemalloc's own "
        f"{r['tracemalloc_bookkeeping_mb']:.2f} MB)"
    )
    if kept := r["session_state"]:
        print(
            f"  the open session's state after {kept['turns']} turns: "
            f"{kept['state_mb']:.2f} MB ({kept['bytes_per_turn']:.0f} B/turn); "
            f"{kept['open_spans_tracked']} open spans and {kept['turns_tracked']} open turns "
            f"tracked"
        )
    print("  where it was allocated (site, total, per turn):")
    for t in r["top"]:
        print(f"    {t['site']:42s} {t['kb']:9.1f} KB  {t['bytes_per_turn']:7.1f} B/turn")
    measured = f"{r['growth_mb']:+.2f} MB traced ({r['bytes_per_turn']:.0f} B/turn), RSS {rss}"
    growth = r["growth_mb"]
    if sizes.turns < MEMORY_TURNS:  # --quick: the goal is for a 10,000-turn session
        growth = r["bytes_per_turn"] * (MEMORY_TURNS - sizes.warmup_turns) / 2**20
        measured += f"; {growth:.1f} MB at {MEMORY_TURNS} turns"
    figure = Figure(
        f"memory growth, turns {sizes.warmup_turns}->{sizes.turns}",
        measured,
        f"< {MEMORY_GOAL_MB:g} MB",
        _verdict(growth < MEMORY_GOAL_MB),
    )
    return [figure], r


def part_shutdown(
    sizes: Sizes, stream: Path, receiver: Receiver
) -> tuple[list[Figure], dict[str, Any]]:
    print("\n[4] handle.shutdown() with a dead backend (receiver down, OTLP/gRPC)")
    receiver.command("down")
    try:
        cfg = {"stream": str(stream), "endpoint": receiver.grpc_endpoint}
        run = run_child("shutdown", {**cfg, "wait": sizes.shutdown_wait})
    finally:
        receiver.command("up")
    r = dict(run.result, exit_after_s=run.exit_after_result_s)
    print(
        f"  {r['spans']} spans, shutdown {sizes.shutdown_wait:g} s after the last one: "
        f"{r['shutdown_s']:.2f} s (bound {r['bound_s']:g} s, "
        f"{'finished' if r['completed'] else 'gave up at the bound'}); "
        f"process exit took {r['exit_after_s']:.2f} s more"
    )
    figures = [
        Figure(
            "shutdown with dead backend",
            f"{r['shutdown_s']:.2f} s",
            f"<= {r['bound_s']:g} s (bound)",
            _verdict(r["shutdown_s"] <= r["bound_s"] + 0.1),
        ),
        Figure("  then process exit", f"{r['exit_after_s']:.2f} s", "-", "info"),
    ]
    return figures, r


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
