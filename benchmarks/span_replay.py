"""Record the span stream of a simulated call once; replay it through any tracer.

The stream is the exact sequence of ``on_start``/``on_end`` callbacks livekit produced, with
each span's name, parent, kind, timestamps, the attributes it had at start and those set
while it was open, its events and status. Replaying re-creates every span through a tracer
in that order (new trace and span ids each time), so a span processor sees the same work it
would see during the call. Callback order, not timestamps: livekit back-dates some starts.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer

Attrs = dict[str, Any]


@dataclass(frozen=True)
class SpanStart:
    """A span started: ``key`` is its id in the recording, ``parent`` its parent's key."""

    key: int
    name: str
    parent: int | None
    kind: str
    start_ns: int
    attributes: Attrs


@dataclass(frozen=True)
class SpanEnd:
    """A span ended, with what was added to it while it was open."""

    key: int
    end_ns: int
    attributes: Attrs
    events: tuple[tuple[str, Attrs, int], ...]
    status: tuple[str, str | None]


Step = SpanStart | SpanEnd


class StreamRecorder(SpanProcessor):
    """A span processor that records the callback stream (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._starts: dict[int, Attrs] = {}
        self.steps: list[Step] = []

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        attrs = dict(span.attributes or {})
        parent = span.parent.span_id if span.parent is not None else None
        step = SpanStart(
            span.context.span_id, span.name, parent, span.kind.name, span.start_time or 0, attrs
        )
        with self._lock:
            self._starts[step.key] = attrs
            self.steps.append(step)

    def on_end(self, span: ReadableSpan) -> None:
        with self._lock:
            at_start = self._starts.pop(span.context.span_id, {})
        final = span.attributes or {}
        added = {k: v for k, v in final.items() if k not in at_start or at_start[k] != v}
        events = tuple((e.name, dict(e.attributes or {}), e.timestamp or 0) for e in span.events)
        status = (span.status.status_code.name, span.status.description)
        step = SpanEnd(span.context.span_id, span.end_time or 0, added, events, status)
        with self._lock:
            self.steps.append(step)


def record_call(speed: float) -> list[Step]:
    """Run the default scenario through a real AgentSession and record its span stream."""
    from livekit.agents import telemetry

    from lk_otel.simulation import load_scenario, run_scenario

    recorder = StreamRecorder()
    provider = TracerProvider()
    provider.add_span_processor(recorder)
    telemetry.set_tracer_provider(provider)
    asyncio.run(run_scenario(load_scenario(), speed=speed))
    provider.shutdown()
    return recorder.steps


# --- JSON ----------------------------------------------------------------------------


def save(steps: Sequence[Step], path: Path) -> None:
    """Write a stream as JSON lines."""
    with path.open("w") as out:
        for s in steps:
            if isinstance(s, SpanStart):
                row: dict[str, Any] = {"t": "S", **s.__dict__}
            else:
                row = {"t": "E", **s.__dict__}
            out.write(json.dumps(row) + "\n")


def load(path: Path) -> list[Step]:
    """Read a stream written by :func:`save`."""
    steps: list[Step] = []
    for line in path.read_text().splitlines():
        row = json.loads(line)
        kind = row.pop("t")
        if kind == "S":
            steps.append(SpanStart(**row))
        else:
            row["events"] = tuple((n, a, t) for n, a, t in row["events"])
            row["status"] = tuple(row["status"])
            steps.append(SpanEnd(**row))
    return steps


# --- replay --------------------------------------------------------------------------


def span_count(steps: Iterable[Step]) -> int:
    """How many spans a stream starts."""
    return sum(1 for s in steps if isinstance(s, SpanStart))


def duration_ns(steps: Sequence[Step]) -> int:
    """From the first start to the last end of a stream."""
    starts = [s.start_ns for s in steps if isinstance(s, SpanStart)]
    ends = [s.end_ns for s in steps if isinstance(s, SpanEnd)]
    return max(ends) - min(starts) if starts and ends else 0


def replay(
    tracer: Tracer,
    steps: Sequence[Step],
    *,
    offset_ns: int = 0,
    root: Context | None = None,
    on_root: Callable[[], Callable[[], None]] | None = None,
) -> None:
    """Re-create the stream's spans through ``tracer``, shifted by ``offset_ns``.

    A span whose recorded parent is not in the stream starts under ``root`` (default: a
    new trace). ``on_root`` runs just before each root span starts and returns what to
    run just after (e.g. set and reset a context variable).
    """
    live: dict[int, Any] = {}
    empty = Context() if root is None else root
    for step in steps:
        if isinstance(step, SpanStart):
            parent = live.get(step.parent) if step.parent is not None else None
            ctx = trace.set_span_in_context(parent) if parent is not None else empty
            after = on_root() if parent is None and on_root is not None else None
            live[step.key] = tracer.start_span(
                step.name,
                context=ctx,
                kind=SpanKind[step.kind],
                attributes=step.attributes,
                start_time=step.start_ns + offset_ns,
            )
            if after is not None:
                after()
            continue
        span = live[step.key]
        if step.attributes:
            span.set_attributes(step.attributes)
        for name, attrs, ts in step.events:
            span.add_event(name, attrs, ts + offset_ns)
        code, description = step.status
        if code != "UNSET":
            span.set_status(Status(StatusCode[code], description))
        span.end(end_time=step.end_ns + offset_ns)


def subtree(steps: Sequence[Step], roots: Iterable[int]) -> list[Step]:
    """The steps of the given spans and all their descendants, in stream order."""
    keep = set(roots)
    out: list[Step] = []
    for s in steps:
        if isinstance(s, SpanStart) and s.parent in keep:
            keep.add(s.key)
        if s.key in keep:
            out.append(s)
    return out


def one_turn(steps: Sequence[Step]) -> list[Step]:
    """One user turn and the agent turn answering it (the first such pair with no tool call).

    These are siblings under ``agent_session``; the agent turn is the first to start after
    the user turn (with preemptive generation, before the user turn ends).
    """
    starts = [s for s in steps if isinstance(s, SpanStart)]
    children: dict[int, list[str]] = {}
    for s in starts:
        if s.parent is not None:
            children.setdefault(s.parent, []).append(s.name)
    for i, user in enumerate(starts):
        if user.name != "user_turn" or "user_speaking" not in children.get(user.key, []):
            continue
        agent = next((s for s in starts[i + 1 :] if s.name == "agent_turn"), None)
        if agent is None:
            continue
        pair = subtree(steps, [user.key, agent.key])
        if not any(isinstance(s, SpanStart) and s.name == "function_tool" for s in pair):
            return pair
    raise ValueError("no user turn answered without a tool call in the recorded stream")


# --- exporters -----------------------------------------------------------------------


class CountingExporter(SpanExporter):
    """Counts spans and keeps the last one of each name; the cheapest possible exporter."""

    def __init__(self) -> None:
        self.count = 0
        self.last: dict[str, ReadableSpan] = {}

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.count += len(spans)
        for s in spans:
            self.last[s.name] = s
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass
