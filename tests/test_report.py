"""``lk-otel report``: files written by the real OTLP/JSON FileSpanExporter, end to end."""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import re
import struct
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import context, trace
from opentelemetry.exporter.otlp.json.file import FileSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

from lk_otel import semconv as sc
from lk_otel.cli import report as cli
from lk_otel.report import (
    MissingDependencyError,
    SessionReport,
    build_report,
    format_table,
    read_otlp_json,
    records_from_spans,
    render_html,
    write_png,
)
from lk_otel.report.html import BAR_WIDTH
from lk_otel.report.table import turn_notes
from lk_otel.report.turn import USER_INPUT_KEYS

T0 = 1_700_000_000 * 10**9
SEC = 10**9
M = "—"
USER_INPUT_1_8, USER_INPUT_1_2 = USER_INPUT_KEYS

USAGE = [  # deliberately not in LLM, TTS, STT order
    {"type": "stt_usage", "provider": "deepgram", "model": "nova-3", "audio_duration": 30.25},
    {
        "type": "llm_usage",
        "provider": "openai",
        "model": "gpt-4o-mini",
        "input_tokens": 1540,
        "input_cached_tokens": 256,
        "output_tokens": 75,
    },
    {
        "type": "tts_usage",
        "provider": "cartesia",
        "model": "sonic-2",
        "characters_count": 420,
        "audio_duration": 21.5,
    },
]
SESSION_A_ATTRS = {
    sc.SESSION_ID: "sess-a",
    sc.SESSION_TURNS: 3,
    sc.SESSION_INPUT_TOKENS: 1540,
    sc.SESSION_OUTPUT_TOKENS: 75,
    sc.SESSION_CACHED_INPUT_TOKENS: 256,
    sc.SESSION_TTS_CHARACTERS: 420,
    sc.SESSION_TTS_AUDIO_DURATION: 21.5,
    sc.SESSION_STT_AUDIO_DURATION: 30.25,
    sc.SESSION_INTERRUPTIONS: 1,
    sc.SESSION_TOOL_CALLS: 2,
    sc.SESSION_COST: 0.01234,
    sc.SESSION_E2E_P50: 1.191,
    sc.SESSION_E2E_P95: 1.4081,
    sc.SESSION_USAGE: json.dumps(USAGE),
}


def turn_attrs(
    index: int,
    kind: str,
    *,
    user: tuple[str, str] | None = None,
    eot: float | None = None,
    transcr: float | None = None,
    ttft: float | None = None,
    ttfb: float | None = None,
    e2e: float | None = None,
    tokens: tuple[int, int] | None = None,
    interrupted: bool | None = None,
    cost: float | None = None,
) -> dict[str, Any]:
    """Enriched agent-turn attributes; ``None`` values are left out like real spans do."""
    attrs: dict[str, Any] = {sc.TURN_INDEX: index, sc.TURN_KIND: kind}
    optional = {
        sc.TURN_END_OF_TURN_DELAY: eot,
        sc.TURN_TRANSCRIPTION_DELAY: transcr,
        sc.TURN_LLM_TTFT: ttft,
        sc.TURN_TTS_TTFB: ttfb,
        sc.TURN_E2E_LATENCY: e2e,
        sc.TURN_INTERRUPTED: interrupted,
        sc.TURN_COST: cost,
    }
    attrs.update({k: v for k, v in optional.items() if v is not None})
    if tokens is not None:
        attrs[sc.TURN_INPUT_TOKENS], attrs[sc.TURN_OUTPUT_TOKENS] = tokens
    if user is not None:
        attrs[user[0]] = user[1]
    return attrs


# session A (livekit 1.8 names): greeting, a reply under an intermediate span, an
# interrupted reply that ends first (file order != turn order), one un-enriched turn
TURNS_A = [
    turn_attrs(0, "greeting", ttft=0.3123, ttfb=0.1876, tokens=(410, 22), interrupted=False),
    turn_attrs(
        1,
        "reply",
        user=(USER_INPUT_1_8, "What's the weather like in Paris tomorrow afternoon?"),
        eot=0.5204,
        transcr=0.2101,
        ttft=0.4107,
        ttfb=0.2306,
        e2e=1.4321,
        tokens=(530, 41),
        interrupted=False,
    ),
    turn_attrs(
        2,
        "reply",
        user=(USER_INPUT_1_8, "stop  please"),
        eot=0.3,
        transcr=0.15,
        ttft=0.35,
        ttfb=0.2,
        e2e=0.95,
        tokens=(600, 12),
        interrupted=True,
    ),
]
# session B (livekit 1.2 names, no lk_otel.session.id): a "say" with only a TTS TTFB, and a
# reply whose parts overlap (sum > e2e, so no "rest") with an exact half millisecond
TURNS_B = [
    turn_attrs(0, "say", ttfb=0.2),
    turn_attrs(
        1,
        "reply",
        user=(USER_INPUT_1_2, "Book a table for two"),
        eot=0.6,
        ttft=0.4125,
        ttfb=0.3,
        e2e=1.2,
        tokens=(300, 20),
        interrupted=False,
        cost=0.002,
    ),
]
ROWS_A = [
    ["0", "greeting", M, M, M, "312", M, "188", M, "410/22", M, M, "no"],
    ["1", "reply", "What's the weather like in Pari…", "520", "210", "411", M, "231", "1432",
     "530/41", M, M, "no"],
    ["2", "reply", "stop please", "300", "150", "350", M, "200", "950", "600/12", M, M, "yes"],
]  # fmt: skip
ROWS_B = [
    ["0", "say", M, M, M, M, M, "200", M, M, M, M, M],
    ["1", "reply", "Book a table for two", "600", M, "413", M, "300", "1200", "300/20", M,
     "0.002", "no"],
]  # fmt: skip
# (segment kind, seconds) per turn, in page order; the longest bar is A1 (1.4321 s). These
# turns have no critical path (no raw livekit spans): a reply is one e2e segment, never its
# parts stacked; a greeting's LLM TTFT and TTS TTFB follow one another
SEGMENTS = [
    [("llm_ttft", 0.3123), ("tts_ttfb", 0.1876)],
    [("e2e", 1.4321)],
    [("e2e", 0.95)],
    [("tts_ttfb", 0.2)],
    [("e2e", 1.2)],
]


class _Memory(SpanExporter):
    """Keeps exported spans (the in-process path ``lk-otel demo`` uses)."""

    def __init__(self) -> None:
        self.spans: list[ReadableSpan] = []

    def export(self, spans: Any) -> SpanExportResult:
        self.spans.extend(spans)
        return SpanExportResult.SUCCESS


def provider(*exporters: SpanExporter) -> TracerProvider:
    tp = TracerProvider(resource=Resource.create({sc.SERVICE_NAME: "voice-agent"}))
    for exporter in exporters:
        tp.add_span_processor(SimpleSpanProcessor(exporter))
    return tp


def start(tracer: trace.Tracer, name: str, parent: Any, at: float, attrs: Any = None) -> Any:
    ctx = trace.set_span_in_context(parent) if parent is not None else context.Context()
    return tracer.start_span(name, context=ctx, start_time=T0 + int(at * SEC), attributes=attrs)


def write_two_sessions(tp: TracerProvider) -> None:
    """Session A (trace 1) and session B (trace 2), both ended and exported."""
    tracer = tp.get_tracer("test")
    a = start(tracer, sc.SPAN_AGENT_SESSION, None, 0, SESSION_A_ATTRS)
    activity = start(tracer, "agent_activity", a, 0.1)
    turns = [
        start(tracer, sc.SPAN_AGENT_TURN, activity if i == 1 else a, 1 + 5 * i, attrs)
        for i, attrs in enumerate(TURNS_A)
    ]
    for i, end in ((2, 14), (0, 4), (1, 9)):  # turn 2 is written first
        turns[i].end(T0 + end * SEC)
    start(tracer, sc.SPAN_AGENT_TURN, a, 20).end(T0 + 21 * SEC)  # not enriched
    activity.end(T0 + 29 * SEC)
    a.end(T0 + 30 * SEC)
    b = start(tracer, sc.SPAN_AGENT_SESSION, None, 40)
    for i, attrs in enumerate(TURNS_B):
        start(tracer, sc.SPAN_ASSISTANT_TURN, b, 41 + 5 * i, attrs).end(T0 + (44 + 5 * i) * SEC)
    b.end(T0 + 60 * SEC)
    tp.shutdown()


@pytest.fixture
def two_sessions(tmp_path: Path) -> Path:
    path = tmp_path / "traces.jsonl"
    write_two_sessions(provider(FileSpanExporter(path)))
    return path


def cells(table: str) -> list[list[str]]:
    return [re.split(r"\s{2,}", line.strip()) for line in table.splitlines()]


def run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    return cli.run(parser.parse_args(list(argv)))


def test_exporter_writes_camelcase_hex_ids_and_string_int64(two_sessions: Path) -> None:
    lines = two_sessions.read_text().splitlines()
    request = json.loads(lines[0])
    span = request["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    assert re.fullmatch(r"[0-9a-f]{32}", span["traceId"])
    assert re.fullmatch(r"[0-9a-f]{16}", span["spanId"])
    assert isinstance(span["startTimeUnixNano"], str)
    values = {kv["key"]: kv["value"] for kv in span["attributes"]}
    assert values[sc.TURN_INDEX] == {"intValue": "2"}  # SimpleSpanProcessor: turn 2 ends first
    assert values[sc.TURN_E2E_LATENCY] == {"doubleValue": 0.95}


def test_reader_decodes_typed_attributes_and_ids(two_sessions: Path) -> None:
    result = read_otlp_json(two_sessions)
    assert result.malformed_lines == 0
    assert result.files == (two_sessions,)
    turns = {r.attributes.get(sc.TURN_INDEX): r for r in result.records if r.name == "agent_turn"}
    turn = turns[1]
    assert turn.attributes[sc.TURN_E2E_LATENCY] == 1.4321
    assert turn.attributes[sc.TURN_INTERRUPTED] is False
    assert type(turn.attributes[sc.TURN_INDEX]) is int
    assert turn.resource[sc.SERVICE_NAME] == "voice-agent"
    parent = next(r for r in result.records if r.span_id == turn.parent_id)
    assert parent.name == "agent_activity"
    assert next(r for r in result.records if r.span_id == parent.parent_id).parent_id is None


def test_table_has_every_turn_figure_in_order(two_sessions: Path) -> None:
    sessions = build_report(read_otlp_json(two_sessions).records)
    assert [len(s.turns) for s in sessions] == [3, 2]
    a, b = sessions
    assert a.session_id == "sess-a"
    records = read_otlp_json(two_sessions).records
    b_span = next(
        r for r in records if r.name == sc.SPAN_AGENT_SESSION and r.trace_id == b.trace_id
    )
    assert b.session_id == b_span.span_id  # no lk_otel.session.id: the span id
    assert b.trace_id != a.trace_id and b.has_session_span

    table = format_table(sessions)
    rows = cells(table)
    where = [rows.index(row) for row in ROWS_A + ROWS_B]  # ValueError if any row is missing
    assert where == sorted(where)
    assert table.index("Session sess-a") < table.index(f"Session {b.session_id}")
    assert "not recorded" in table and "rounded half up" in table


def test_table_usage_summary_and_totals(two_sessions: Path) -> None:
    table = format_table(build_report(read_otlp_json(two_sessions).records))
    lines = [line.strip() for line in table.splitlines()]
    llm = lines.index("LLM  openai/gpt-4o-mini  input tokens 1540 · cached input tokens 256 · "
                      "output tokens 75")  # fmt: skip
    assert lines[llm + 1] == "TTS  cartesia/sonic-2    characters 420 · audio 21.5 s"
    assert lines[llm + 2] == "STT  deepgram/nova-3     audio 30.2 s"
    assert lines[llm + 3] == (
        "Totals   3 turns · 30.0 s · tokens 1540 in (256 cached) / 75 out · TTS 420 chars · "
        "TTS audio 21.5 s · STT audio 30.2 s · 1 interrupted · 2 tool calls · cost 0.01234"
    )
    assert lines[llm + 4].startswith("Latency  ms: e2e p50 1191 / p95 1408 / max 1432 ·")
    # session B has no roll-up attributes: totals come from its turns
    assert "Totals   2 turns · 20.0 s · tokens 300 in / 20 out · 0 interrupted · cost 0.002" in (
        table
    )
    assert "(no per-model usage)" in table


def test_html_is_self_contained_with_proportional_waterfalls(
    two_sessions: Path, tmp_path: Path
) -> None:
    out = tmp_path / "report.html"
    assert run_cli(str(two_sessions), "--html", str(out)) == 0
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page)
    assert "http://" not in page and "https://" not in page
    assert "<script" not in page and "<link" not in page and "@import" not in page

    bars = re.findall(r'<svg class="path".*?</svg>', page)
    assert len(bars) == 5  # one per enriched turn
    scale = BAR_WIDTH / 1.4321
    for bar, expected in zip(bars, SEGMENTS, strict=True):
        rects = re.findall(r'<rect class="seg seg-(\w+)" x="[^"]*" y="2" width="([^"]*)"', bar)
        assert [kind for kind, _ in rects] == [kind for kind, _ in expected]
        for (_, width), (_, seconds) in zip(rects, expected, strict=True):
            assert float(width) == pytest.approx(seconds * scale, abs=2e-3)
    assert page.count('class="e2e-mark"') == 3  # turns with an e2e latency
    for label in ("end of turn", "transcription", "LLM", "tool", "TTS", "playout", "untracked"):
        assert f"{label}</span>" in page  # legend
    assert "Rest of e2e" not in page
    assert "<title>voice-agent · 2 sessions</title>" in page  # not the file name
    assert "openai/gpt-4o-mini" in page and "cost 0.01234" in page
    assert page.count('class="intr"') == 1


def test_png_is_a_real_chart(two_sessions: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.png"
    assert run_cli(str(two_sessions), "--png", str(out)) == 0
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])  # IHDR
    assert width >= 800 and height >= 300
    assert len(data) > 20_000
    from PIL import Image

    with Image.open(out) as img:
        img.verify()


def test_png_without_matplotlib_says_how_to_install(
    two_sessions: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes the import fail
    with pytest.raises(MissingDependencyError, match=re.escape("pip install 'lk-otel[report]'")):
        write_png([], tmp_path / "x.png")
    assert run_cli(str(two_sessions), "--png", str(tmp_path / "x.png")) == 1
    captured = capsys.readouterr()
    assert "pip install 'lk-otel[report]'" in captured.err
    assert captured.out == ""  # fails before printing the table
    assert not (tmp_path / "x.png").exists()


def test_malformed_lines_are_skipped_and_counted_once(
    two_sessions: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    good = two_sessions.read_text().splitlines()
    bad_span = {"resourceSpans": [{"scopeSpans": [{"spans": [{"name": "no ids"}]}]}]}
    noisy = tmp_path / "noisy.jsonl"
    noisy.write_text(
        "\n".join(
            [good[0], "", "not json", *good[1:3], "   ", json.dumps(bad_span), "[1, 2]",
             *good[3:], good[-1][: len(good[-1]) // 2]]
        ) + "\n"
    )  # fmt: skip
    with caplog.at_level(logging.WARNING, logger="lk_otel.report"):
        result = read_otlp_json(noisy)
    assert result.malformed_lines == 4
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "skipped 4 malformed line(s)" in warnings[0].getMessage()
    assert "noisy.jsonl:3" in warnings[0].getMessage()
    expected = read_otlp_json(two_sessions).records
    assert sorted(r.span_id for r in result.records) == sorted(r.span_id for r in expected)


def write_split_session(directory: Path) -> None:
    """Session C over two files; turn 2's parent span never ends, so its ancestry breaks.
    A third trace has turns but no agent_session span (still running at export)."""
    first, second = (
        provider(FileSpanExporter(directory / "part-1.jsonl")),
        provider(FileSpanExporter(directory / "part-2.json")),
    )
    t1, t2 = first.get_tracer("a"), second.get_tracer("b")
    session = start(t1, sc.SPAN_AGENT_SESSION, None, 0, {sc.SESSION_ID: "sess-c"})
    start(t1, sc.SPAN_AGENT_TURN, session, 5, turn_attrs(1, "reply", e2e=0.8)).end(T0 + 6 * SEC)
    dangling = start(t2, "agent_activity", session, 8)  # never ended: never exported
    start(t2, sc.SPAN_AGENT_TURN, dangling, 10, turn_attrs(2, "reply", e2e=0.9)).end(T0 + 11 * SEC)
    session.end(T0 + 30 * SEC)
    running = start(t2, "job_entrypoint", None, 50)  # no agent_session in this trace
    start(t2, sc.SPAN_AGENT_TURN, running, 52, turn_attrs(0, "greeting", ttfb=0.25)).end(
        T0 + 53 * SEC
    )
    first.shutdown()
    second.shutdown()


def test_directory_of_two_files(tmp_path: Path, capsys: Any) -> None:
    write_split_session(tmp_path)
    (tmp_path / "notes.txt").write_text("not a trace file")
    result = read_otlp_json(tmp_path)
    assert [f.name for f in result.files] == ["part-1.jsonl", "part-2.json"]
    sessions = build_report(result.records)
    c, live = sessions
    assert c.session_id == "sess-c"
    assert [t.index for t in c.turns] == [1, 2]  # turn 2 joined through its trace
    assert not live.has_session_span and live.session_id == live.trace_id
    assert [t.kind for t in live.turns] == ["greeting"]

    assert run_cli(str(tmp_path)) == 0
    out = capsys.readouterr().out
    rows = cells(out)
    assert ["1", "reply", M, M, M, M, M, M, "800", M, M, M, M] in rows
    assert ["2", "reply", M, M, M, M, M, M, "900", M, M, M, M] in rows
    assert ["0", "greeting", M, M, M, M, M, "250", M, M, M, M, M] in rows
    assert "no agent_session span" in out


def test_session_filter(two_sessions: Path, capsys: Any) -> None:
    assert run_cli(str(two_sessions), "--session", "sess-a") == 0
    out = capsys.readouterr().out
    assert out.count("Session ") == 1 and "Session sess-a" in out
    assert run_cli(str(two_sessions), "--session", "nope") == 1
    assert "no session 'nope'" in capsys.readouterr().err


def test_missing_input_and_no_turns_exit_1(tmp_path: Path, capsys: Any) -> None:
    assert run_cli(str(tmp_path / "absent.jsonl")) == 1
    assert "no such file or directory" in capsys.readouterr().err
    assert run_cli(str(tmp_path)) == 1  # empty directory
    assert "no *.jsonl or *.json files" in capsys.readouterr().err

    plain = tmp_path / "plain.jsonl"
    tp = provider(FileSpanExporter(plain))
    tracer = tp.get_tracer("t")
    session = start(tracer, sc.SPAN_AGENT_SESSION, None, 0)
    start(tracer, sc.SPAN_AGENT_TURN, session, 1, {sc.LK_SPEECH_ID: "x"}).end(T0 + 2 * SEC)
    session.end(T0 + 3 * SEC)
    tp.shutdown()
    assert run_cli(str(plain)) == 1
    err = capsys.readouterr().err
    assert "no lk_otel agent turns" in err and "1 turn span(s) without lk_otel.turn.*" in err


def test_in_memory_spans_give_the_same_table(tmp_path: Path) -> None:
    memory, path = _Memory(), tmp_path / "t.jsonl"
    write_two_sessions(provider(memory, FileSpanExporter(path)))
    from_spans = build_report(records_from_spans(memory.spans))
    from_file = build_report(read_otlp_json(path).records)
    assert from_spans == from_file
    assert format_table(from_spans) == format_table(from_file)


def collector_line(trace_b64: bool = False) -> str:
    """A line as the Collector's file exporter writes it (plus protobuf base64 ids)."""
    trace_id, span_id = "5b8efff798038103d269b633813fc60c", "eee19b7ec3c1b174"
    if trace_b64:
        import base64

        trace_id = base64.b64encode(bytes.fromhex(trace_id)).decode()
    turn = {
        "traceId": trace_id,
        "spanId": span_id,
        "parentSpanId": "",
        "name": sc.SPAN_AGENT_TURN,
        "kind": 1,
        "startTimeUnixNano": "1700000000000000000",
        "endTimeUnixNano": "1700000001000000000",
        "attributes": [
            {"key": sc.TURN_INDEX, "value": {"intValue": "3"}},
            {"key": sc.TURN_KIND, "value": {"stringValue": "reply"}},
            {"key": sc.TURN_E2E_LATENCY, "value": {"doubleValue": 1.0625}},
            {"key": sc.TURN_LLM_TTFT, "value": {"doubleValue": "NaN"}},
            {"key": sc.TURN_INTERRUPTED, "value": {"boolValue": True}},
            {"key": "tags", "value": {"arrayValue": {"values": [{"stringValue": "a"}]}}},
            {
                "key": "kv",
                "value": {"kvlistValue": {"values": [{"key": "n", "value": {"intValue": 7}}]}},
            },
        ],
        "droppedAttributesCount": 0,
        "status": {},
    }
    resource = {"attributes": [{"key": sc.SERVICE_NAME, "value": {"stringValue": "otelcol"}}]}
    scope_spans = [{"scope": {"name": "livekit-agents"}, "spans": [turn]}]
    return json.dumps({"resourceSpans": [{"resource": resource, "scopeSpans": scope_spans}]})


@pytest.mark.parametrize("trace_b64", [False, True])
def test_collector_style_lines(tmp_path: Path, trace_b64: bool) -> None:
    path = tmp_path / "otelcol.json"
    metrics = json.dumps({"resourceMetrics": []})
    path.write_text(collector_line(trace_b64) + "\n" + metrics + "\n")
    result = read_otlp_json(path)
    assert result.malformed_lines == 0
    (rec,) = result.records
    assert rec.trace_id == "5b8efff798038103d269b633813fc60c" and rec.parent_id is None
    assert rec.attributes["tags"] == ("a",) and rec.attributes["kv"] == {"n": 7}
    (session,) = build_report(result.records)
    (turn,) = session.turns
    assert (turn.index, turn.e2e_latency, turn.llm_ttft, turn.interrupted) == (
        3,
        1.0625,
        None,
        True,
    )
    assert ["3", "reply", M, M, M, M, M, M, "1063", M, M, M, "yes"] in cells(
        format_table([session])
    )


def test_pretty_printed_single_request_file(two_sessions: Path, tmp_path: Path) -> None:
    first = json.loads(two_sessions.read_text().splitlines()[0])
    pretty = tmp_path / "pretty.json"
    pretty.write_text(json.dumps(first, indent=2))
    result = read_otlp_json(pretty)
    assert result.malformed_lines == 0 and len(result.records) == 1


def _html_turns(sessions: list[SessionReport]) -> Iterator[str]:
    yield from re.findall(r'data-turn="([^"]*)"', render_html(sessions))


def test_turns_without_index_order_by_start_and_html_escapes(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    tp = provider(FileSpanExporter(path))
    tracer = tp.get_tracer("t")
    session = start(tracer, sc.SPAN_AGENT_SESSION, None, 0)
    late = {sc.TURN_KIND: "reply", sc.TURN_E2E_LATENCY: 1.0, USER_INPUT_1_8: "<b>hi</b> & bye"}
    start(tracer, sc.SPAN_AGENT_TURN, session, 9, late).end(T0 + 10 * SEC)
    early = {sc.TURN_KIND: "greeting", sc.TURN_TTS_TTFB: 0.1}
    start(tracer, sc.SPAN_AGENT_TURN, session, 1, early).end(T0 + 2 * SEC)
    session.end(T0 + 20 * SEC)
    tp.shutdown()
    sessions = build_report(read_otlp_json(path).records)
    assert [t.kind for t in sessions[0].turns] == ["greeting", "reply"]
    assert list(_html_turns(sessions)) == ["#1", "#2"]
    page = render_html(sessions)
    assert "<b>hi</b>" not in page and "&lt;b&gt;hi&lt;/b&gt; &amp; bye" in page


def test_ancestry_wins_over_time_when_sessions_share_a_trace(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    tp = provider(FileSpanExporter(path))
    tracer = tp.get_tracer("t")
    root = start(tracer, sc.SPAN_JOB_ENTRYPOINT, None, 0)
    outer = start(tracer, sc.SPAN_AGENT_SESSION, root, 1, {sc.SESSION_ID: "outer"})
    inner = start(tracer, sc.SPAN_AGENT_SESSION, root, 10, {sc.SESSION_ID: "inner"})
    # both turns start while both sessions are open: only their parents tell them apart
    start(tracer, sc.SPAN_AGENT_TURN, outer, 15, turn_attrs(7, "reply")).end(T0 + 16 * SEC)
    start(tracer, sc.SPAN_AGENT_TURN, inner, 17, turn_attrs(1, "reply")).end(T0 + 18 * SEC)
    inner.end(T0 + 50 * SEC)
    outer.end(T0 + 100 * SEC)
    root.end(T0 + 101 * SEC)
    tp.shutdown()
    sessions = {s.session_id: s for s in build_report(read_otlp_json(path).records)}
    assert [t.index for t in sessions["outer"].turns] == [7]
    assert [t.index for t in sessions["inner"].turns] == [1]


def test_turn_index_beats_start_time(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    tp = provider(FileSpanExporter(path))
    tracer = tp.get_tracer("t")
    session = start(tracer, sc.SPAN_AGENT_SESSION, None, 0)
    start(tracer, sc.SPAN_AGENT_TURN, session, 5, turn_attrs(0, "greeting")).end(T0 + 6 * SEC)
    start(tracer, sc.SPAN_AGENT_TURN, session, 2, turn_attrs(1, "reply")).end(T0 + 3 * SEC)
    session.end(T0 + 9 * SEC)
    tp.shutdown()
    (report,) = build_report(read_otlp_json(path).records)
    assert [t.index for t in report.turns] == [0, 1]


# --- the critical path (issue 11) -------------------------------------------------------


def _stage_attrs(name: str, critical: bool, **extra: Any) -> dict[str, Any]:
    attrs = {sc.STAGE_NAME: name, sc.STAGE_CRITICAL: critical, **extra}
    return attrs


# (span name, start s, end s, attributes) under the stage root at 10.0-10.6; the names are
# deliberately not lk_otel's: stage spans are recognised by their attributes alone
STAGE_SPANS = [
    ("a", 10.0, 10.3, _stage_attrs("end_of_turn", True)),
    ("b", 10.0, 10.2, _stage_attrs("transcription", False)),
    ("c", 10.3, 10.302, _stage_attrs("tool", True, **{sc.STAGE_TOOL: "find_slot"})),
    ("d", 10.302, 10.552, _stage_attrs("llm", True, **{sc.STAGE_ROUND: 2})),
    ("e", 10.552, 10.6, _stage_attrs("tts", True)),
]


def write_staged_turn(path: Path) -> None:
    tp = provider(FileSpanExporter(path))
    tracer = tp.get_tracer("t")
    session = start(tracer, sc.SPAN_AGENT_SESSION, None, 0, {sc.SESSION_ID: "staged"})
    turn = start(tracer, sc.SPAN_AGENT_TURN, session, 9.9, turn_attrs(1, "reply", e2e=0.6))
    root = start(tracer, "root-of-stages", turn, 10.0, {sc.STAGE_NAME: "response_latency"})
    for name, begin, end, attrs in STAGE_SPANS:
        start(tracer, name, root, begin, attrs).end(T0 + round(end * SEC))
    # an old lk_otel waterfall span (no lk_otel.stage.critical) is not a stage of the path
    start(tracer, "llm_ttft", turn, 10.1, {sc.STAGE_NAME: "llm_ttft"}).end(T0 + 11 * SEC)
    root.end(T0 + round(10.6 * SEC))
    turn.end(T0 + 12 * SEC)
    session.end(T0 + 13 * SEC)
    tp.shutdown()


def test_stage_spans_are_read_by_their_attributes(tmp_path: Path) -> None:
    path = tmp_path / "staged.jsonl"
    write_staged_turn(path)
    ((turn,),) = [s.turns for s in build_report(read_otlp_json(path).records)]
    assert turn.path is not None and not turn.path.computed
    assert (turn.path.start_ns, turn.path.end_ns) == (T0 + 10 * SEC, T0 + round(10.6 * SEC))
    got = [
        (s.name, s.start_ns - T0, s.end_ns - T0, s.critical, s.round, s.tool)
        for s in turn.path.stages
    ]
    assert got == [
        ("end_of_turn", 10 * SEC, 10_300_000_000, True, None, None),
        ("transcription", 10 * SEC, 10_200_000_000, False, None, None),
        ("tool", 10_300_000_000, 10_302_000_000, True, None, "find_slot"),
        ("llm", 10_302_000_000, 10_552_000_000, True, 2, None),
        ("tts", 10_552_000_000, 10_600_000_000, True, None, None),
    ]
    table = format_table(build_report(read_otlp_json(path).records))
    assert "end of turn 300 ms → find_slot 2 ms → LLM 250 ms → TTS 48 ms" in table
    assert "in parallel: transcription 200 ms" in table


def test_html_draws_the_path_at_real_timestamps_and_nothing_past_e2e(tmp_path: Path) -> None:
    path = tmp_path / "staged.jsonl"
    write_staged_turn(path)
    page = render_html(build_report(read_otlp_json(path).records))
    (bar,) = re.findall(r'<svg class="path".*?</svg>', page)
    rects = re.findall(
        r'<rect class="stage stage-(\w+)" x="([^"]*)" y="(\d+)" width="([^"]*)"[^>]*'
        r'data-ms="(\d+)" data-critical="(\w+)"',
        bar,
    )
    scale = BAR_WIDTH / 0.6
    expected = {  # name: (offset s, seconds, lane y, ms, critical)
        "end_of_turn": (0.0, 0.3, "2", "300", "true"),
        "transcription": (0.0, 0.2, "22", "200", "false"),
        "tool": (0.3, 0.002, "2", "2", "true"),
        "llm": (0.302, 0.25, "2", "250", "true"),
        "tts": (0.552, 0.048, "2", "48", "true"),
    }
    assert sorted(r[0] for r in rects) == sorted(expected)
    for name, x, y, width, ms, critical in rects:
        offset, seconds, lane, want_ms, want_critical = expected[name]
        assert float(x) == pytest.approx(1 + offset * scale, abs=2e-3)
        assert float(width) == pytest.approx(seconds * scale, abs=2e-3)
        assert (y, ms, critical) == (lane, want_ms, want_critical)
    (mark,) = re.findall(r'class="e2e-mark" x1="([^"]*)"', bar)
    ends = [float(x) + float(w) for _, x, _, w, _, _ in rects]
    assert max(ends) == pytest.approx(float(mark), abs=2e-3)  # the path ends at e2e
    assert "<title>tool find_slot: 2 ms</title>" in bar
    assert "<title>voice-agent · session staged</title>" in page


def test_why_slow_above_the_threshold_or_the_sessions_p95(tmp_path: Path, capsys: Any) -> None:
    path = tmp_path / "staged.jsonl"
    write_staged_turn(path)
    # one turn: no p95 to compare with; 600 ms is above a 500 ms threshold, not a 700 ms one
    assert run_cli(str(path), "--slow-ms", "700") == 0
    assert "why slow" not in capsys.readouterr().out
    assert run_cli(str(path), "--slow-ms", "500") == 0
    out = capsys.readouterr().out
    assert "why slow: end of turn 300 ms (50% of 600 ms); the tool round (find_slot) " in out


def test_call_speech_overlaps_barge_ins_and_silences() -> None:
    from lk_otel.report.records import SpanRecord
    from lk_otel.report.speech import call_speech

    def span(name: str, begin: float, end: float) -> SpanRecord:
        return SpanRecord("t" * 32, f"{begin:016.0f}", None, name, T0 + round(begin * SEC),
                          T0 + round(end * SEC))  # fmt: skip

    records = [
        span(sc.SPAN_AGENT_SPEAKING, 0.0, 2.0),  # greeting
        span(sc.SPAN_USER_SPEAKING, 3.0, 5.0),
        span(sc.SPAN_AGENT_SPEAKING, 5.5, 8.0),
        span(sc.SPAN_USER_SPEAKING, 7.0, 9.0),  # barges in at 7.0
        span(sc.SPAN_AGENT_SPEAKING, 9.1, 10.0),  # a 0.1 s gap is no silence
        span("llm_node", 1.0, 4.0),
    ]
    speech = call_speech(records, T0, None)
    s = lambda a, b: (T0 + round(a * SEC), T0 + round(b * SEC))  # noqa: E731
    assert speech.user == (s(3, 5), s(7, 9))
    assert speech.agent == (s(0, 2), s(5.5, 8), s(9.1, 10))
    assert speech.overlaps == (s(7, 8),)
    assert speech.barge_ins == (T0 + 7 * SEC,)
    assert speech.silences == (s(2, 3), s(5, 5.5))
    assert (speech.start_ns, speech.end_ns) == s(0, 10)


async def test_a_real_call_file_gets_every_reply_path(tmp_path: Path) -> None:
    """A simulated call written by the file backend: each reply's path tiles its e2e and
    names the tool round; the HTML shows the whole call with its barge-in."""
    import lk_otel
    from lk_otel.simulation import load_scenario, run_scenario

    out = tmp_path / "call.jsonl"
    handle = lk_otel.setup_tracing(lk_otel.File(path=str(out)), schedule_delay=0.05)
    try:
        result = await run_scenario(load_scenario(None), speed=4.0)
        handle.force_flush(10)
    finally:
        handle.shutdown(5)
    (session,) = build_report(read_otlp_json(out).records)
    replies = [t for t in session.turns if t.kind == "reply"]
    assert len(replies) == len(result.scenario.turns)
    for turn in replies:
        assert turn.path is not None and turn.e2e_latency is not None
        crit = turn.path.critical
        assert sum(s.seconds for s in crit) == pytest.approx(turn.e2e_latency, abs=0.020)
        for a, b in itertools.pairwise(crit):
            assert b.start_ns == a.end_ns
    notes = {label: rest for label, *rest in turn_notes(session)}
    tool_line = notes[str(replies[0].index)][0]
    # a gap of a millisecond or more between two stages is an "untracked" stage of its own
    assert re.search(
        r"LLM \d+ ms → (.* → )?check_availability \d+ ms → .*LLM \d+ ms → "
        r"(untracked \d+ ms → )?TTS",
        tool_line,
    ), tool_line
    # the answer's TTFT (0.55 s scripted), not the tool call's (0.42 s): lk_otel.turn.llm_ttft
    assert replies[0].spoken_llm_ttft > replies[0].llm_ttft
    assert replies[0].llm_rounds == 2
    page = render_html([session])
    assert page.count('class="barge-in"') == 1  # the scripted interruption
    assert 'class="speech speech-overlap"' in page and 'class="silence"' in page
    assert "why slow:" in page  # the slowest turn is at the session's p95
