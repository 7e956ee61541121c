"""The installed livekit-agents release behaves as ``lk_otel._compat.RELEASES`` says, a newer
release is noted once at setup, and the ``file`` backend writes OTLP/JSON that lk-otel report
and an OTLP receiver read as the same spans. Runs on every livekit release of the CI matrix."""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import json
import logging
import re
import time
import urllib.request
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from livekit import rtc
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan

import lk_otel
from lk_otel import _compat
from lk_otel.report import read_otlp_json
from support.otlp_receiver import OtlpReceiver
from support.simulated import SimulatedCall, simulate

LATENCY = re.compile(r"^lk\.\w*(delay|latency)$")
SESSION_SPANS = ("session_start", "session_close", "eou_wait", "on_user_turn_completed")


@dataclasses.dataclass
class Observed:
    """A simulated call's spans and what the session emitted, with wall-clock times (ns)."""

    call: SimulatedCall
    eou: list[tuple[int, str | None]]  # (time, EOUMetrics.speech_id)
    messages: list[tuple[int, int, dict[str, Any]]]  # (time, current span id, metrics)


@pytest.fixture(scope="module")
def observed() -> Observed:
    eou: list[tuple[int, str | None]] = []
    messages: list[tuple[int, int, dict[str, Any]]] = []

    def on_session(session: Any) -> None:
        def on_metrics(ev: Any) -> None:
            if type(ev.metrics).__name__ == "EOUMetrics":
                eou.append((time.time_ns(), ev.metrics.speech_id))

        def on_item(ev: Any) -> None:
            if getattr(ev.item, "role", None) == "assistant":
                span_id = trace.get_current_span().get_span_context().span_id
                metrics = dict(getattr(ev.item, "metrics", None) or {})
                messages.append((time.time_ns(), span_id, metrics))

        rtc.EventEmitter.on(session, "metrics_collected", on_metrics)
        rtc.EventEmitter.on(session, "conversation_item_added", on_item)

    call = asyncio.run(simulate(speed=4.0, on_session=on_session))
    return Observed(call, eou, messages)


def measured_facts(obs: Observed) -> _compat.ReleaseFacts:
    """The facts of the installed release as this run and its public API show them."""
    from livekit.agents import AgentSession, telemetry
    from livekit.agents.llm import ChatMessage

    spans = obs.call.spans
    names = {s.name for s in spans}
    turn_span = "agent_turn" if "agent_turn" in names else "assistant_turn"
    by_id = {s.context.span_id: s for s in spans}
    turns = [s for s in spans if s.name == turn_span]
    users = [s for s in spans if s.name == "user_turn"]
    keys = {k for s in spans for k in (s.attributes or {})}

    def latency_keys(of: list[ReadableSpan]) -> frozenset[str]:
        return frozenset(k for s in of for k in (s.attributes or {}) if LATENCY.match(k))

    by_speech: dict[str, list[ReadableSpan]] = defaultdict(list)
    for t in turns:
        by_speech[str(t.attributes.get("lk.speech_id"))].append(t)
    follow_ups = [
        (ts[0], f)
        for ts in (sorted(v, key=lambda s: s.start_time or 0) for v in by_speech.values())
        for f in ts[1:]
    ]
    if not follow_ups:
        follow_up = "same_turn"
    elif all(
        f.parent is not None and f.parent.span_id == first.context.span_id
        for first, f in follow_ups
    ):
        follow_up = "nested_turn"
    else:
        follow_up = "sibling_turn"
    llm_requests = [s for s in spans if s.name == "llm_request"]
    messages_e2e = any("e2e_latency" in m for _, _, m in obs.messages)
    if "lk.e2e_latency" in latency_keys(turns):
        e2e_source = "turn_span"
    elif messages_e2e:
        e2e_source = "message_metrics"
    else:
        e2e_source = "eou_last_speaking"
    first_tts = min((s for s in spans if s.name == "tts_node"), key=lambda s: s.start_time or 0)
    greeting_parent = by_id[first_tts.parent.span_id] if first_tts.parent else None
    return dataclasses.replace(
        _compat.release_facts(),
        turn_span=turn_span,
        pii_prefix="lk.pii." if any(k.startswith("lk.pii.") for k in keys) else "lk.",
        turn_latency_keys=latency_keys(turns),
        user_turn_latency_keys=latency_keys(users),
        follow_up=follow_up,
        e2e_source=e2e_source,
        session_usage=hasattr(AgentSession, "usage"),
        message_metrics="metrics" in ChatMessage.model_fields,
        allow_pii_arg="allow_pii" in inspect.signature(telemetry.set_tracer_provider).parameters,
        genai_metrics=hasattr(
            getattr(telemetry, "otel_metrics", None), "_genai_operation_duration"
        ),
        lifecycle_spans=all(n in names for n in SESSION_SPANS),
        greeting_turn_span=greeting_parent is not None and greeting_parent.name == turn_span,
        closing_user_turn=any(
            "lk.transcript_confidence" not in (u.attributes or {}) for u in users
        ),
        cache_read_key=all(
            "gen_ai.usage.cache_read.input_tokens" in (s.attributes or {}) for s in llm_requests
        ),
        node_latency_keys=any(
            "lk.response.ttft" in (s.attributes or {}) for s in spans if s.name == "llm_node"
        ),
    )


def test_installed_release_facts_are_the_measured_ones(observed: Observed) -> None:
    assert measured_facts(observed) == _compat.release_facts()
    from livekit.agents import __version__

    assert _compat.release_facts().minor == _compat.livekit_version()[:2], __version__


def test_a_tool_follow_up_is_traced_as_the_facts_say(observed: Observed) -> None:
    """The scenario's tool rounds: two LLM calls and one tool call under one speech id."""
    facts = _compat.release_facts()
    spans = observed.call.spans
    by_id = {s.context.span_id: s for s in spans}
    turns = [s for s in spans if s.name == facts.turn_span]

    def speech_of(span: ReadableSpan) -> str | None:
        parent = span.parent
        while parent is not None and parent.span_id in by_id:
            p = by_id[parent.span_id]
            if p.name == facts.turn_span:
                return p.attributes.get("lk.speech_id")
            parent = p.parent
        return None

    tools = [s for s in spans if s.name == "function_tool"]
    assert tools
    for tool in tools:
        speech = speech_of(tool)
        llm_nodes = [s for s in spans if s.name == "llm_node" and speech_of(s) == speech]
        assert len(llm_nodes) == 2, speech
        generations = sorted(
            (t for t in turns if t.attributes.get("lk.speech_id") == speech),
            key=lambda t: t.start_time or 0,
        )
        if facts.follow_up == "same_turn":
            assert len(generations) == 1
        else:
            first, follow_up = generations
            assert follow_up.start_time >= first.end_time
            on_first = by_id[tool.parent.span_id]
            assert on_first is first
            if facts.follow_up == "sibling_turn":
                assert follow_up.parent.span_id == first.parent.span_id  # agent_session
                assert (
                    follow_up.attributes["lk.parent_generation_id"]
                    == first.attributes["lk.generation_id"]
                )
            else:
                assert follow_up.parent.span_id == first.context.span_id


def test_eou_metrics_and_message_metrics_arrive_before_their_turn_ends(observed: Observed) -> None:
    """What the enrichment may rely on where the delays are not on the turn span."""
    facts = _compat.release_facts()
    turns = [s for s in observed.call.spans if s.name == facts.turn_span]
    assert len(observed.eou) == len(observed.call.result.scenario.turns)
    for at, speech in observed.eou:
        answering = [t for t in turns if t.attributes.get("lk.speech_id") == speech]
        assert answering and at < max(t.end_time or 0 for t in answering), speech
    if facts.e2e_source == "message_metrics":
        # the assistant message is added while its agent_turn is the current span
        by_id = {t.context.span_id: t for t in turns}
        with_e2e = [(at, sid) for at, sid, m in observed.messages if "e2e_latency" in m]
        assert with_e2e
        for at, sid in with_e2e:
            assert sid in by_id and at < (by_id[sid].end_time or 0)


# --- the newer-release note -------------------------------------------------------------


def test_a_newer_release_is_noted_once_at_info(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(_compat, "_noted_untested", False)
    monkeypatch.setattr(_compat, "livekit_version", lambda: (1, 99, 0))
    with caplog.at_level(logging.DEBUG, logger="lk_otel"):
        assert _compat.note_untested_release() is True
        assert _compat.note_untested_release() is False
    records = [r for r in caplog.records if r.name == "lk_otel"]
    assert [r.levelno for r in records] == [logging.INFO]
    assert "1.99.0" in records[0].getMessage()
    assert _compat.NEWEST_TESTED in records[0].getMessage()
    assert _compat.facts_for((1, 99, 0)) is _compat.RELEASES[-1]


def test_a_tested_release_is_not_noted(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(_compat, "_noted_untested", False)
    with caplog.at_level(logging.DEBUG, logger="lk_otel"):
        assert _compat.note_untested_release() is False
        monkeypatch.setattr(_compat, "livekit_version", lambda: (1, 8, 9))
        assert _compat.note_untested_release() is False
    assert not [r for r in caplog.records if r.name == "lk_otel"]


def test_every_tested_minor_has_its_facts() -> None:
    minors = [r.minor for r in _compat.RELEASES]
    assert minors == sorted(minors) == [(1, m) for m in range(2, 9)]
    for r in _compat.RELEASES:
        assert _compat.facts_for(_compat._parse(r.tested)) is r
        assert r.tested.startswith(f"{r.minor[0]}.{r.minor[1]}.")


# --- the file backend: OTLP/JSON lines -------------------------------------------------


def _camel_case_keys(node: Any) -> bool:
    if isinstance(node, dict):
        return all(
            "_" not in k and k[:1].islower() and _camel_case_keys(v) for k, v in node.items()
        )
    if isinstance(node, list):
        return all(_camel_case_keys(v) for v in node)
    return True


def _plain(attributes: Any) -> Any:
    """Attributes with arrays as lists (the report keeps tuples, the receiver lists)."""
    return json.loads(json.dumps(dict(attributes)))


@pytest.fixture(scope="module")
def file_and_receiver(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Any]]:
    """One simulated call exported through setup_tracing() to a file and over OTLP/gRPC."""
    from lk_otel.simulation import load_scenario, run_scenario

    path = tmp_path_factory.mktemp("otlp-json") / "call.jsonl"
    with OtlpReceiver() as receiver:
        handle = lk_otel.setup_tracing(
            [lk_otel.File(path=str(path)), lk_otel.Jaeger(endpoint=receiver.grpc_endpoint)],
            schedule_delay=0.05,
        )
        try:
            asyncio.run(run_scenario(load_scenario(None), speed=4.0))
            handle.force_flush(10)
        finally:
            handle.shutdown(5)
        return path, receiver.spans()


def test_file_lines_are_otlp_json(file_and_receiver: tuple[Path, list[Any]]) -> None:
    path, _ = file_and_receiver
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert lines
    for request in lines:
        assert _camel_case_keys(request)
        for rs in request["resourceSpans"]:
            for ss in rs["scopeSpans"]:
                for span in ss["spans"]:
                    assert re.fullmatch(r"[0-9a-f]{32}", span["traceId"])
                    assert re.fullmatch(r"[0-9a-f]{16}", span["spanId"])
                    assert re.fullmatch(r"[0-9a-f]{16}", span.get("parentSpanId", "0" * 16))
                    assert isinstance(span["kind"], int)  # enums as integers
                    assert isinstance(span["startTimeUnixNano"], str)  # 64-bit as strings


def test_file_read_back_by_report_equals_what_the_receiver_got(
    file_and_receiver: tuple[Path, list[Any]],
) -> None:
    path, received = file_and_receiver
    from_file = read_otlp_json(path)
    assert from_file.malformed_lines == 0
    mine = {
        r.span_id: (
            r.trace_id,
            r.parent_id or "",
            r.name,
            r.start_ns,
            r.end_ns,
            _plain(r.attributes),
        )
        for r in from_file.records
    }
    theirs = {
        s.span_id: (
            s.trace_id,
            s.parent_span_id,
            s.name,
            s.start_ns,
            s.end_ns,
            _plain(s.attributes),
        )
        for s in received
    }
    assert len(mine) == len(from_file.records) == len(received) > 20
    assert mine == theirs
    resources = {json.dumps(dict(r.resource), sort_keys=True) for r in from_file.records}
    assert resources == {json.dumps(s.resource, sort_keys=True) for s in received}


def test_file_lines_are_accepted_as_otlp_json_over_http(
    file_and_receiver: tuple[Path, list[Any]],
) -> None:
    """Posted as ``application/json`` (OTLP/HTTP JSON), each line decodes to the same spans."""
    path, received = file_and_receiver
    with OtlpReceiver() as json_receiver:
        for line in path.read_text(encoding="utf-8").splitlines():
            request = urllib.request.Request(
                json_receiver.http_url("/v1/traces"),
                data=line.encode(),
                headers={"Content-Type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=5) as response:
                assert response.status == 200
        got = json_receiver.spans()

    def key(s: Any) -> tuple[Any, ...]:
        return (
            s.span_id,
            s.trace_id,
            s.parent_span_id,
            s.name,
            s.start_ns,
            s.end_ns,
            s.kind,
            s.status_code,
            json.dumps(s.attributes, sort_keys=True, default=str),
            [(e.name, e.time_ns) for e in s.events],
            s.links,
            s.scope,
        )

    assert sorted(map(key, got)) == sorted(map(key, received))


def test_metric_lines_are_otlp_json_with_hex_exemplar_ids() -> None:
    import io

    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider

    from lk_otel.export.otlp_json_file import OTLPJsonFileMetricExporter

    reader = InMemoryMetricReader()
    meter = MeterProvider(metric_readers=[reader]).get_meter("t")
    histogram = meter.create_histogram("lk_otel.turn.e2e_latency", unit="s")
    with TracerProvider().get_tracer("t").start_as_current_span("turn") as span:
        histogram.record(0.5, {"k": "v"})
        span_id = f"{span.get_span_context().span_id:016x}"
    out = io.StringIO()
    exporter = OTLPJsonFileMetricExporter(stream=out)
    assert exporter.export(reader.get_metrics_data()).name == "SUCCESS"
    (line,) = out.getvalue().splitlines()
    request = json.loads(line)
    assert _camel_case_keys(request)
    (metric,) = request["resourceMetrics"][0]["scopeMetrics"][0]["metrics"]
    (point,) = metric["histogram"]["dataPoints"]
    assert metric["name"] == "lk_otel.turn.e2e_latency" and point["count"] == "1"
    assert [e["spanId"] for e in point.get("exemplars", [])] == [span_id]
