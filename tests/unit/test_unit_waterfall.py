"""waterfall.path_stages / build: the stage records of a turn and the spans made from them."""

from __future__ import annotations

import dataclasses

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanContext, TraceFlags, TraceState

from lk_otel import semconv as sc
from lk_otel.enrich import waterfall
from lk_otel.enrich.critical_path import (
    critical_path,
    response_latency_attributes,
    stage_attributes,
    turn_path_attributes,
)
from lk_otel.enrich.timeline import LlmRound, TtsRun, TurnTimeline

T0 = 1_700_000_000_000_000_000
MS = 1_000_000


def t(ms: float) -> int:
    return T0 + round(ms * MS)


TIMELINE = TurnTimeline(
    user_stop_ns=t(0),
    audio_start_ns=t(1060),
    end_of_turn_ns=t(500),
    transcript_ns=t(300),
    on_user_turn_completed_ns=(t(505), t(506)),
    llm=(LlmRound(t(510), t(900), t(800)),),
    tts=(TtsRun(t(800), t(1100), t(1050)),),
)


def test_path_stages_puts_response_latency_first_then_every_stage() -> None:
    added, stages = waterfall.path_stages(TIMELINE)
    path = critical_path(TIMELINE)
    assert added == dict(turn_path_attributes(path, TIMELINE))
    assert added[sc.TURN_CRITICAL_PATH] == 1.06
    assert stages[0] == (
        sc.SPAN_RESPONSE_LATENCY,
        t(0),
        t(1060),
        response_latency_attributes(TIMELINE),
    )
    assert stages[1:] == tuple(
        (s.span_name, s.start_ns, s.end_ns, stage_attributes(s)) for s in path
    )
    assert [(n, (b - T0) / MS, (e - T0) / MS) for n, b, e, _ in stages] == [
        (sc.SPAN_RESPONSE_LATENCY, 0.0, 1060.0),
        *[(s.span_name, (s.start_ns - T0) / MS, (s.end_ns - T0) / MS) for s in path],
    ]
    assert isinstance(stages, tuple) and isinstance(added, dict)


def test_no_path_without_a_user_stop_or_a_first_audio() -> None:
    assert waterfall.path_stages(dataclasses.replace(TIMELINE, user_stop_ns=None)) == ({}, ())
    assert waterfall.path_stages(dataclasses.replace(TIMELINE, audio_start_ns=None)) == ({}, ())


def _turn() -> ReadableSpan:
    return ReadableSpan(
        name="agent_turn",
        context=SpanContext(
            trace_id=7,
            span_id=9,
            is_remote=False,
            trace_flags=TraceFlags(1),
            trace_state=TraceState([("k", "v")]),
        ),
        resource=Resource({"service.name": "svc"}),
    )


def test_build_makes_children_of_the_turn_at_their_timestamps() -> None:
    turn = _turn()
    calls: list[tuple] = []

    def mapping(name: str, attrs: dict, start: int, end: int) -> dict:
        calls.append((name, dict(attrs), start, end))
        return {"m": name, "a": "mapped"}

    root = ("response_latency", 10, 50, {"a": 1, "b": 2})
    child = ("stage", 10, 20, {"c": 3})
    spans = waterfall.build(turn, root, [child], mapping)
    assert [(s.name, s.start_time, s.end_time) for s in spans] == [
        ("response_latency", 10, 50),
        ("stage", 10, 20),
    ]
    assert dict(spans[0].attributes) == {"a": "mapped", "b": 2, "m": "response_latency"}
    assert dict(spans[1].attributes) == {"c": 3, "m": "stage", "a": "mapped"}
    assert calls == [("response_latency", {"a": 1, "b": 2}, 10, 50), ("stage", {"c": 3}, 10, 20)]
    assert spans[0].parent == turn.context
    assert spans[1].parent == spans[0].context
    for s in spans:
        assert s.context.trace_id == 7
        assert s.context.span_id not in (0, 9)
        assert s.context.is_remote is False
        assert s.context.trace_flags == TraceFlags(1)
        assert s.context.trace_state == TraceState([("k", "v")])
        assert s.resource is turn.resource
        assert s.instrumentation_scope is waterfall.SCOPE
    assert spans[0].context.span_id != spans[1].context.span_id
    assert waterfall.SCOPE.name == "lk_otel"


def test_build_with_a_fixed_mapping_adds_it_to_every_span() -> None:
    spans = waterfall.build(_turn(), ("r", 1, 2, {"x": 1}), [], {"y": 2})
    assert [dict(s.attributes) for s in spans] == [{"x": 1, "y": 2}]
