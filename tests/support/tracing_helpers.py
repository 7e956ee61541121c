"""Run a scripted call through the full ``setup_tracing()`` pipeline and look at its spans."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import lk_otel
from lk_otel import semconv as sc
from lk_otel.simulation import SimulationResult, load_scenario, run_scenario


def hex_id(span_id: int) -> str:
    """A span id as OTLP/JSON and the receiver spell it."""
    return f"{span_id:016x}"


class EndedSpans(SpanProcessor):
    """Every span ended on a provider, by hex id: what must reach a backend."""

    def __init__(self) -> None:
        self.ids: set[str] = set()
        self.trace_of: dict[str, str] = {}  # span id -> trace id (32 hex digits)
        self._lock = threading.Lock()

    def on_end(self, span: ReadableSpan) -> None:
        with self._lock:
            self.ids.add(hex_id(span.context.span_id))
            self.trace_of[hex_id(span.context.span_id)] = f"{span.context.trace_id:032x}"

    def in_trace(self, trace_id: str) -> set[str]:
        """Ids of the spans ended in ``trace_id``."""
        with self._lock:
            return {s for s, t in self.trace_of.items() if t == trace_id}


@dataclass
class TracedCall:
    """The exported spans of one simulated call and livekit's raw metrics of the same run."""

    spans: list[ReadableSpan]
    result: SimulationResult

    def named(self, *names: str) -> list[ReadableSpan]:
        return sorted((s for s in self.spans if s.name in names), key=lambda s: s.start_time or 0)

    def turns(self) -> list[ReadableSpan]:
        """Enriched agent turns (outermost), in order."""
        return sorted(
            (s for s in self.named(*sc.TURN_SPAN_NAMES) if sc.TURN_INDEX in (s.attributes or {})),
            key=lambda s: s.attributes[sc.TURN_INDEX],
        )

    def session(self) -> ReadableSpan:
        (span,) = self.named(sc.SPAN_AGENT_SESSION)
        return span

    def children(self, parent: ReadableSpan, *names: str) -> list[ReadableSpan]:
        pid = parent.context.span_id
        return [s for s in self.named(*names) if s.parent is not None and s.parent.span_id == pid]

    def generations(self, turn: ReadableSpan) -> list[ReadableSpan]:
        """``turn`` and, on livekit 1.3-1.7, the sibling turn spans that answer its tool
        calls, by livekit's own keys: each one's ``lk.parent_generation_id`` is the
        ``lk.generation_id`` of the one before."""
        chain = [turn]
        spans = self.named(*sc.TURN_SPAN_NAMES)
        while generation := chain[-1].attributes.get(sc.LK_GENERATION_ID):
            nxt = [s for s in spans if s.attributes.get(sc.LK_PARENT_GENERATION_ID) == generation]
            if not nxt or nxt[0] in chain:
                break
            chain.append(nxt[0])
        return chain

    def turn_spans(self, turn: ReadableSpan, *names: str) -> list[ReadableSpan]:
        """The spans named ``names`` under ``turn`` or under its sibling follow-ups."""
        found = {
            s.context.span_id: s
            for g in self.generations(turn)
            for s in self.descendants(g, *names)
        }
        return sorted(found.values(), key=lambda s: s.start_time or 0)

    def descendants(self, parent: ReadableSpan, *names: str) -> list[ReadableSpan]:
        by_id = {s.context.span_id: s for s in self.spans}
        out = []
        for s in self.named(*names):
            p = s.parent
            while p is not None and p.span_id in by_id:
                if p.span_id == parent.context.span_id:
                    out.append(s)
                    break
                p = by_id[p.span_id].parent
        return out


async def traced_call(
    scenario: Mapping[str, Any] | None = None, *, speed: float = 4.0, **setup: Any
) -> TracedCall:
    """One simulated call exported through ``setup_tracing()`` to an in-memory exporter."""
    memory = InMemorySpanExporter()
    handle = lk_otel.setup_tracing(memory, schedule_delay=0.05, **setup)
    try:
        result = await run_scenario(load_scenario(scenario), speed=speed)
        handle.force_flush(10)
        return TracedCall(list(memory.get_finished_spans()), result)
    finally:
        handle.shutdown(5)


def all_attribute_text(spans: Iterable[ReadableSpan]) -> str:
    """Every exported attribute, resource and event value of ``spans`` as one string."""
    parts = []
    for s in spans:
        parts.append(json.dumps(dict(s.attributes or {}), default=str))
        parts.append(json.dumps(dict(s.resource.attributes), default=str))
        for e in s.events:
            parts.append(json.dumps(dict(e.attributes or {}), default=str))
    return "\n".join(parts)
