"""lk_otel's output as a replayable stream: what a bare SDK pays to send the same spans.

lk_otel sends more than livekit made: its waterfall spans under each turn, and the
``lk_otel.*`` and backend-mapping keys on livekit's spans. Replaying that output through a
bare ``TracerProvider`` + ``BatchSpanProcessor`` measures what sending it costs by itself,
so part 1 can tell the pipeline's own CPU from the CPU of exporting more data.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench_common import SERVICE, _emit, _quiet_logs
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

# what the backend mappings are for each measured configuration: an exporter object reads as
# "any backend" (all three, the default for it); a Jaeger backend's default is none of them
MAPPING_SWITCHES: dict[str, dict[str, bool]] = {
    "all": {},
    "none": {"langfuse": False, "openinference": False, "mlflow": False},
}


class KeepingExporter(SpanExporter):
    """Keeps every span it is given."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.spans: list[ReadableSpan] = []

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        with self._lock:
            self.spans.extend(spans)
        return SpanExportResult.SUCCESS


def output_steps(spans: Sequence[ReadableSpan]) -> list[Any]:
    """``spans`` as a replay stream: every parent starts before its children and ends after
    them; each span gets all its attributes, events and status when it ends."""
    import span_replay as sr

    ids = {s.context.span_id for s in spans}
    parent_of = {
        s.context.span_id: s.parent.span_id if s.parent and s.parent.span_id in ids else None
        for s in spans
    }

    def depth(span_id: int) -> int:
        d, p = 0, parent_of[span_id]
        while p is not None:
            d, p = d + 1, parent_of[p]
        return d

    by_depth = sorted(spans, key=lambda s: (depth(s.context.span_id), s.start_time or 0))
    starts = [
        sr.SpanStart(
            s.context.span_id,
            s.name,
            parent_of[s.context.span_id],
            s.kind.name,
            s.start_time or 0,
            {},
        )
        for s in by_depth
    ]
    ends = [
        sr.SpanEnd(
            s.context.span_id,
            s.end_time or 0,
            dict(s.attributes or {}),
            tuple((e.name, dict(e.attributes or {}), e.timestamp or 0) for e in s.events),
            (s.status.status_code.name, s.status.description),
        )
        for s in reversed(by_depth)
    ]
    return [*starts, *ends]


def child_output(cfg: dict[str, Any]) -> None:
    """Replay the recorded call once through ``setup_tracing()`` and save what it sent."""
    import span_replay as sr

    from lk_otel import setup_tracing
    from lk_otel.collect.feed import SessionFeed
    from lk_otel.collect.instrumentor import CURRENT_FEED

    _quiet_logs()
    steps = sr.load(Path(cfg["stream"]))
    keeper = KeepingExporter()
    handle = setup_tracing(
        keeper, service_name=SERVICE, flush_timeout=60, **MAPPING_SWITCHES[cfg["mappings"]]
    )
    assert handle.provider is not None

    def session_feed() -> Callable[[], None]:
        token = CURRENT_FEED.set(SessionFeed())  # what the instrumented AgentSession.start does
        return lambda: CURRENT_FEED.reset(token)

    sr.replay(handle.provider.get_tracer("livekit-agents"), steps, on_root=session_feed)
    if not handle.force_flush():
        raise RuntimeError("lk_otel flush did not finish")
    handle.shutdown()
    out = output_steps(keeper.spans)
    sr.save(out, Path(cfg["out"]))
    _emit(
        {
            "spans": len(keeper.spans),
            "attributes": sum(len(s.attributes or {}) for s in keeper.spans),
            "livekit_attributes": _distinct_keys(steps),
        }
    )


def _distinct_keys(steps: Sequence[Any]) -> int:
    """How many attributes the recorded spans carry when they end (start keys included)."""
    keys: dict[int, set[str]] = {}
    for step in steps:
        keys.setdefault(step.key, set()).update(step.attributes)
    return sum(len(k) for k in keys.values())
