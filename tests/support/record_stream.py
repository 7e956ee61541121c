"""Record the correlator's input stream of a real simulated call, and read it back.

A span processor added to the provider of ``setup_tracing()`` writes, on livekit's thread
and in callback order, what ``LkOtelSpanProcessor`` hands the correlator: span starts and
ends as value records, interleaved with the session's feed events. The first line holds
the livekit profile of the release that produced it, so a stream recorded on livekit 1.2
replays the same under any installed release.

    python tests/support/record_stream.py OUT.jsonl [SPEED]   # records the default scenario
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from pathlib import Path
from typing import Any

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor

from lk_otel import _compat
from lk_otel.collect.feed import subscribe_stream, unsubscribe_stream
from lk_otel.collect.instrumentor import CURRENT_FEED
from lk_otel.enrich.records import (
    EouReported,
    EouTiming,
    FalseInterruptionReported,
    FeedEvent,
    IdentityKnown,
    MessageE2e,
    SpanEnded,
    SpanStarted,
    UsageUpdated,
)

Record = SpanStarted | SpanEnded | FeedEvent


class StreamRecorder(SpanProcessor):
    """Records span callbacks and feed events as correlator records, in order."""

    def __init__(self) -> None:
        self.records: list[Record] = []
        self._lock = threading.Lock()
        subscribe_stream(self._feed)

    def _feed(self, event: FeedEvent) -> None:
        with self._lock:
            self.records.append(event)

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        parent = span.parent
        feed = CURRENT_FEED.get() if span.name == "agent_session" else None
        rec = SpanStarted(
            span.context.span_id,
            parent.span_id if parent is not None else None,
            span.name,
            span.start_time or 0,
            is_root=parent is None or parent.is_remote,
            feed_key=feed.key if feed is not None else None,
        )
        with self._lock:
            self.records.append(rec)

    def on_end(self, span: ReadableSpan) -> None:
        rec = SpanEnded(
            span.context.span_id,
            span.name,
            span.start_time or 0,
            span.end_time or 0,
            dict(span.attributes or {}),
        )
        with self._lock:
            self.records.append(rec)

    def shutdown(self) -> None:
        unsubscribe_stream(self._feed)


def _row(rec: Record) -> dict[str, Any]:
    if isinstance(rec, SpanStarted):
        return {"t": "start", **{f: getattr(rec, f) for f in rec.__slots__}}
    if isinstance(rec, SpanEnded):
        return {"t": "end", **{f: getattr(rec, f) for f in rec.__slots__}}
    if isinstance(rec, EouReported):
        timing = {f: getattr(rec.timing, f) for f in rec.timing.__slots__}
        return {"t": "eou", "feed_key": rec.feed_key, "timing": timing}
    if isinstance(rec, UsageUpdated):
        return {"t": "usage", "feed_key": rec.feed_key, "rows": list(rec.rows)}
    if isinstance(rec, MessageE2e):
        return {"t": "message_e2e", **{f: getattr(rec, f) for f in rec.__slots__}}
    if isinstance(rec, FalseInterruptionReported):
        return {"t": "false_interruption", "feed_key": rec.feed_key, "resumed": rec.resumed}
    return {"t": "identity", "feed_key": rec.feed_key, "identity": rec.identity}


def save(profile: _compat.LivekitProfile, records: list[Record], path: Path) -> None:
    """Write ``records`` as JSON lines after a profile line."""
    with path.open("w") as out:
        out.write(json.dumps({"t": "profile", **profile.as_dict()}) + "\n")
        for rec in records:
            out.write(json.dumps(_row(rec), default=list) + "\n")


def load(path: Path) -> tuple[_compat.LivekitProfile, list[Record]]:
    """Read a stream written by :func:`save`."""
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    head = lines[0]
    assert head.pop("t") == "profile"
    profile = _compat.LivekitProfile(**head)
    records: list[Record] = []
    for row in lines[1:]:
        kind = row.pop("t")
        if kind == "start":
            records.append(SpanStarted(**row))
        elif kind == "end":
            records.append(SpanEnded(**row))
        elif kind == "eou":
            records.append(EouReported(row["feed_key"], EouTiming(**row["timing"])))
        elif kind == "usage":
            records.append(UsageUpdated(row["feed_key"], tuple(row["rows"])))
        elif kind == "message_e2e":
            records.append(MessageE2e(**row))
        elif kind == "false_interruption":
            records.append(FalseInterruptionReported(row["feed_key"], row["resumed"]))
        else:
            records.append(IdentityKnown(row["feed_key"], row["identity"]))
    return profile, records


def record_call(speed: float) -> list[Record]:
    """Run the default scenario through ``setup_tracing()`` and record the stream."""
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    import lk_otel
    from lk_otel.simulation import load_scenario, run_scenario

    handle = lk_otel.setup_tracing(InMemorySpanExporter(), schedule_delay=0.05)
    recorder = StreamRecorder()
    assert handle.provider is not None
    handle.provider.add_span_processor(recorder)
    try:
        asyncio.run(run_scenario(load_scenario(None), speed=speed))
        handle.force_flush(10)
    finally:
        handle.shutdown(5)
    return recorder.records


if __name__ == "__main__":
    out = Path(sys.argv[1])
    steps = record_call(float(sys.argv[2]) if len(sys.argv) > 2 else 4.0)
    save(_compat.livekit_profile(), steps, out)
    print(f"{len(steps)} records, livekit {'.'.join(map(str, _compat.livekit_version()))}")
