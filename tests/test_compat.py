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


# --- release facts (issue 14) -------------------------------------------------------------


def test_facts_for_maps_patches_to_their_minor_and_clamps_the_ends() -> None:
    by_minor = {r.minor: r for r in _compat.RELEASES}
    assert _compat.facts_for((1, 6, 0)) is by_minor[(1, 6)]
    assert _compat.facts_for((1, 6, 99)) is by_minor[(1, 6)]
    assert _compat.facts_for((1, 9, 0)) is by_minor[(1, 8)]
    assert _compat.facts_for((2, 0, 0)) is by_minor[(1, 8)]
    assert _compat.facts_for((1, 1, 7)) is by_minor[(1, 2)]


def test_newer_than_tested_compares_the_whole_version() -> None:
    assert not _compat.is_newer_than_tested((1, 8, 9))
    assert not _compat.is_newer_than_tested((1, 2, 18))
    assert _compat.is_newer_than_tested((1, 8, 10))
    assert _compat.is_newer_than_tested((1, 9, 0))


def test_eou_delays_come_from_metrics_wherever_the_turn_span_lacks_them() -> None:
    from_metrics = [r.tested for r in _compat.RELEASES if r.eou_from_metrics]
    assert from_metrics == ["1.2.18", "1.3.12", "1.4.6", "1.5.17", "1.6.10", "1.7.1"]


def test_parent_generation_and_message_e2e_latency() -> None:
    assert _compat.parent_generation({"lk.parent_generation_id": "speech_a_1"}) == "speech_a_1"
    assert _compat.parent_generation({"lk.generation_id": "speech_a_1"}) is None

    class Item:
        def __init__(self, metrics: object) -> None:
            self.metrics = metrics

    assert _compat.message_e2e_latency(Item({"e2e_latency": 0.5, "llm_node_ttft": 0.2})) == 0.5
    assert _compat.message_e2e_latency(Item({"llm_node_ttft": 0.2})) is None
    assert _compat.message_e2e_latency(Item(None)) is None
    assert _compat.message_e2e_latency(object()) is None


def test_the_correlator_profile_of_each_release_follows_its_facts() -> None:
    """Sibling follow-ups on 1.3-1.7, nested on 1.2; user turns held for late EOU metrics
    only on 1.2 (1.3+ put the end-of-turn delay on user_turn)."""
    got = {
        r.tested: (
            p.nested_follow_up_turns,
            p.sibling_follow_up_turns,
            p.eou_after_user_turn,
            p.turn_span_name,
        )
        for r in _compat.RELEASES
        for p in [_compat.profile_for(r)]
    }
    sibling = (False, True, False, "agent_turn")
    assert got == {
        "1.2.18": (True, False, True, "assistant_turn"),
        "1.3.12": sibling,
        "1.4.6": sibling,
        "1.5.17": sibling,
        "1.6.10": sibling,
        "1.7.1": sibling,
        "1.8.9": (False, False, False, "agent_turn"),
    }
    assert _compat.livekit_profile() == _compat.profile_for(_compat.release_facts())
