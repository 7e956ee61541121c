"""Exact values the other unit tests of these modules left open: the drop warning of a
refused span, a release's content keys, event redaction, handoffs, realtime sums."""

from __future__ import annotations

import json

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.trace import SpanContext, TraceFlags

from lk_otel import content_keys as ck
from lk_otel import semconv as sc
from lk_otel.enrich import handoff, realtime, redact
from lk_otel.enrich.cost import PriceTable
from lk_otel.export import policy
from lk_otel.export.diagnostics import Cause


def _span(name: str) -> ReadableSpan:
    ctx = SpanContext(trace_id=1, span_id=2, is_remote=False, trace_flags=TraceFlags(1))
    return ReadableSpan(name=name, context=ctx, attributes={"k": "v" * 3000})


def test_drop_warning_of_a_refused_span_and_its_encoded_size() -> None:
    span = _span("tool")
    size = policy.encoded_size(span)
    assert size == encode_spans([span]).ByteSize() > 3000
    text = policy.drop_warning("langfuse", span, Cause("rejected", "HTTP 400"))
    assert text == (
        f"lk_otel: export to langfuse: a span of {size / policy.MIB:.1f} MB is refused by the "
        "backend ('tool': HTTP 400); it was dropped, the spans behind it go on"
    )
    assert policy.drop_warning("x", span, Cause("too_large", "t")) == (
        "lk_otel: export to x: a span of 0.0 MB is over the backend's limit ('tool': t); "
        "it was dropped, the spans behind it go on"
    )


def test_content_keys_name_their_release() -> None:
    for release in ck._LIVEKIT:
        keys = ck.content_keys(release)
        assert keys.release == release
        assert keys.keys == ck._LIVEKIT[release] | ck.GEN_AI_CONTENT_KEYS | ck.LK_OTEL_CONTENT_KEYS


def test_strip_events_drops_any_gen_ai_event_and_keeps_timestamps() -> None:
    events = (
        Event("gen_ai.some.future.event", {"n": 1}, 5),
        Event("marker", {"n": 1, "lk.pii.text": "secret"}, 7),
    )
    kept = redact.strip_events(events)
    assert [(e.name, dict(e.attributes or {}), e.timestamp) for e in kept] == [
        ("marker", {"n": 1}, 7)
    ]


def test_handoff_needs_a_string_label() -> None:
    assert handoff.handoff_from_span({sc.LK_AGENT_LABEL: 5}, 1.0, None) is None
    assert handoff.handoff_from_span({sc.LK_AGENT_LABEL: ""}, 1.0, None) is None
    found = handoff.handoff_from_span({sc.LK_AGENT_LABEL: "b"}, 1.0, "t")
    assert found == handoff.Handoff(from_agent=None, to_agent="b", tool="t", at=1.0)


def test_handoffs_from_activities_without_a_finished_tool() -> None:
    got = handoff.handoffs_from_activities([("a", 0.0), ("b", 1.0)], [("late", 2.0)])
    assert got == [handoff.Handoff("a", "b", None, 1.0)]
    got = handoff.handoffs_from_activities([("a", 0.0), ("b", 1.0)], [("t", 1.0), ("u", 0.5)])
    assert got == [handoff.Handoff("a", "b", "u", 1.0)]


def test_agent_usage_skips_a_turn_without_agent_and_goes_on() -> None:
    turns = [
        {sc.TURN_AGENT: "a", sc.TURN_INPUT_TOKENS: 1},
        {sc.TURN_INPUT_TOKENS: 50},
        {sc.TURN_AGENT: "b", sc.TURN_INPUT_TOKENS: 2},
        {sc.TURN_AGENT: "a", sc.TURN_INPUT_TOKENS: 3},
    ]
    assert handoff.agent_usage(turns) == [
        {"agent": "a", "turns": 2, "input_tokens": 4},
        {"agent": "b", "turns": 1, "input_tokens": 2},
    ]
    assert handoff.agent_usage_attributes(turns) == {
        sc.SESSION_AGENT_USAGE: '[{"agent":"a","turns":2,"input_tokens":4},'
        '{"agent":"b","turns":1,"input_tokens":2}]'
    }
    parsed = json.loads(handoff.agent_usage_attributes(turns)[sc.SESSION_AGENT_USAGE])
    assert parsed[0]["agent"] == "a"


def _metrics(**over: object) -> dict:
    base: dict = {
        "type": "realtime_model_metrics",
        "request_id": "r",
        "input_tokens": 30,
        "output_tokens": 21,
        "input_token_details": {
            "audio_tokens": 10,
            "text_tokens": 17,
            "image_tokens": 3,
            "cached_tokens": 9,
            "cached_tokens_details": {"audio_tokens": 4, "text_tokens": 5, "image_tokens": 2},
        },
        "output_token_details": {"audio_tokens": 13, "text_tokens": 8},
        "metadata": {"model_name": "gpt-rt", "model_provider": "openai"},
    }
    base.update(over)
    return base


def test_cached_image_tokens_are_read_and_billed_as_cached_text() -> None:
    r = realtime.parse_realtime_metrics(_metrics())
    assert r is not None and r.cached_image == 2
    table = PriceTable.parse(
        {
            "openai/gpt-rt": {
                "input_per_1m": 4.0,
                "cached_input_per_1m": 0.5,
                "output_per_1m": 16.0,
                "input_audio_per_1m": 32.0,
                "cached_input_audio_per_1m": 1.0,
                "output_audio_per_1m": 64.0,
            }
        }
    )
    cached_text = 5 + 2
    expected = (
        (20 - cached_text) * 4.0 + cached_text * 0.5 + 6 * 32.0 + 4 * 1.0 + 8 * 16.0 + 13 * 64.0
    ) / 1e6
    assert realtime.realtime_cost(table, r) == pytest.approx(expected, rel=1e-15)


def test_a_billed_connection_under_a_second_is_reported() -> None:
    r = realtime.parse_realtime_metrics(_metrics(session_duration=0.5))
    attrs = realtime.session_attributes([r])
    assert attrs[sc.SESSION_REALTIME_SESSION_DURATION] == 0.5
