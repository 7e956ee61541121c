"""Part 3: memory growth over a 10,000-turn session."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from bench_common import (
    MEMORY_GOAL_MB,
    MEMORY_TURNS,
    ROOT,
    SERVICE,
    Figure,
    Sizes,
    _emit,
    _quiet_logs,
    _rss_mb,
    _verdict,
    run_child,
)


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
