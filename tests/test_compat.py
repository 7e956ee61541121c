"""The SDK shortcuts in lk_otel._compat give what the public API gives."""

from __future__ import annotations

from opentelemetry.sdk.trace import Event, ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from lk_otel import _compat

FIELDS = ("name", "context", "parent", "resource", "kind", "status", "start_time", "end_time")


def ended_span() -> ReadableSpan:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("livekit-agents")
    with tracer.start_as_current_span("parent"):
        span = tracer.start_span("llm_node", attributes={"a": 1, "b": ["x", "y"]})
        span.add_event("e", {"k": "v"})
        span.end()
    return next(s for s in exporter.get_finished_spans() if s.name == "llm_node")


def test_span_attributes_reads_what_the_public_mapping_reads() -> None:
    span = ended_span()
    assert dict(_compat.span_attributes(span)) == dict(span.attributes or {})


def test_copy_span_changes_only_attributes_and_events() -> None:
    span = ended_span()
    events = (Event("other", {"z": 1}, 5),)
    copy = _compat.copy_span(span, {"a": 2, "c": "new"}, events)
    assert type(copy) is ReadableSpan and copy is not span
    assert {f: getattr(copy, f) for f in FIELDS} == {f: getattr(span, f) for f in FIELDS}
    assert copy.instrumentation_scope == span.instrumentation_scope
    assert dict(copy.attributes) == {"a": 2, "c": "new"}
    assert copy.events == events
    assert dict(span.attributes or {}) == {"a": 1, "b": ("x", "y")}  # the original is untouched
    assert [e.name for e in span.events] == ["e"]
    assert _compat.copy_span(span, {}).events == span.events


def test_copy_span_of_a_subclass_uses_the_public_constructor() -> None:
    class Custom(ReadableSpan):
        pass

    span = ended_span()
    custom = Custom(name=span.name, context=span.context, attributes={"a": 1})
    copy = _compat.copy_span(custom, {"b": 2})
    assert type(copy) is ReadableSpan
    assert copy.name == "llm_node" and dict(copy.attributes) == {"b": 2}
