"""``LkOtelSpanProcessor`` with a real AgentSession: the enrichment runs on its worker thread,
sinks get the enriched spans, observers hear the turns, and ``reconfigure`` hands over
without losing a span of the call that runs across it."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from livekit.agents import telemetry
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider

from lk_otel import semconv as sc
from lk_otel.collect.instrumentor import LiveKitAgentsInstrumentor
from lk_otel.collect.processor import LkOtelSpanProcessor
from lk_otel.enrich.extract import LlmCall, TtsCall
from lk_otel.enrich.options import EnrichOptions
from lk_otel.enrich.state import TurnSummary
from lk_otel.simulation import load_scenario, run_scenario
from support.tracing_helpers import EndedSpans, hex_id


def short(turns: int = 2) -> Any:
    return load_scenario(
        {
            "turns": [
                {
                    "user": {"text": f"question {i}", "speech_duration": 0.8, "stt_delay": 0.1},
                    "llm": [
                        {
                            "ttft": 0.2,
                            "duration": 0.4,
                            "text": f"Answer {i}.",
                            "input_tokens": 100 + i,
                            "output_tokens": 5,
                            "cached_input_tokens": 0,
                        }
                    ],
                    "tts": {"ttfb": 0.1, "audio_duration": 0.6},
                }
                for i in range(turns)
            ]
        }
    )


class ListSink:
    """A SpanSink that keeps what it is offered, and on which thread."""

    def __init__(self) -> None:
        self.spans: list[ReadableSpan] = []
        self.threads: set[str] = set()
        self._lock = threading.Lock()

    def offer(self, spans: Sequence[ReadableSpan]) -> None:
        with self._lock:
            self.spans.extend(spans)
            self.threads.add(threading.current_thread().name)

    def named(self, name: str) -> list[ReadableSpan]:
        with self._lock:
            return [s for s in self.spans if s.name == name]


class Heard:
    """An EnrichmentObserver that keeps what it hears."""

    def __init__(self) -> None:
        self.turns: list[TurnSummary] = []
        self.llm: list[LlmCall] = []
        self.tts: list[TtsCall] = []
        self.users: list[float] = []
        self.threads: set[str] = set()

    def on_turn(self, turn: TurnSummary) -> None:
        self.turns.append(turn)
        self.threads.add(threading.current_thread().name)

    def on_user_turn(self, stt_audio_seconds: float, agent_name: str | None) -> None:
        self.users.append(stt_audio_seconds)

    def on_llm(self, call: LlmCall, agent_name: str | None) -> None:
        self.llm.append(call)

    def on_tts(self, call: TtsCall, agent_name: str | None) -> None:
        self.tts.append(call)


@pytest.fixture
def provider() -> Iterator[TracerProvider]:
    instrumentor = LiveKitAgentsInstrumentor()
    if not instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.instrument()
    tp = TracerProvider(shutdown_on_exit=False)
    telemetry.set_tracer_provider(tp)
    yield tp
    tp.shutdown()


def ids(spans: Sequence[ReadableSpan]) -> set[str]:
    return {hex_id(s.context.span_id) for s in spans}


async def test_enrichment_runs_on_the_worker_and_observers_hear_every_turn(
    provider: TracerProvider,
) -> None:
    sink, heard = ListSink(), Heard()
    processor = LkOtelSpanProcessor([sink], EnrichOptions(), schedule_delay=0.05, observers=[heard])
    ended = EndedSpans()
    provider.add_span_processor(processor)
    provider.add_span_processor(ended)
    await run_scenario(short(2), speed=8.0)
    assert processor.force_flush(5000)
    assert ended.ids <= ids(sink.spans)  # every livekit span, plus the waterfall
    assert sink.threads == {"lk_otel-enrich"} and heard.threads == {"lk_otel-enrich"}
    turns = [s for s in sink.named(sc.SPAN_AGENT_TURN) if sc.TURN_INDEX in s.attributes]
    if not turns:  # livekit 1.2
        turns = [s for s in sink.named(sc.SPAN_ASSISTANT_TURN) if sc.TURN_INDEX in s.attributes]
    assert [t.attributes[sc.TURN_KIND] for t in turns] == ["reply", "reply"]
    assert [t.index for t in heard.turns] == [t.attributes[sc.TURN_INDEX] for t in turns]
    assert [c.input_tokens for c in heard.llm] == [100, 101]
    assert len(heard.users) >= 2
    assert processor.tracked() == dict.fromkeys(processor.tracked(), 0)
    processor.shutdown()


async def test_reconfigure_mid_call_keeps_the_running_call_on_its_sinks(
    provider: TracerProvider,
) -> None:
    old, new = ListSink(), ListSink()
    released: list[str] = []
    processor = LkOtelSpanProcessor([old], EnrichOptions(), schedule_delay=0.02)
    ended = EndedSpans()
    provider.add_span_processor(processor)
    provider.add_span_processor(ended)
    call = asyncio.ensure_future(run_scenario(short(3), speed=8.0))
    while not old.named(sc.SPAN_USER_TURN):  # the call is under way
        await asyncio.sleep(0.02)
    processor.reconfigure(
        [new],
        EnrichOptions(tags=("second",)),
        lambda: released.append(threading.current_thread().name),
        handover_timeout=30.0,
    )
    await asyncio.sleep(0.1)
    assert released == []  # the first call is still open
    await call
    first = set(ended.ids)
    await run_scenario(short(1), speed=8.0)
    assert processor.force_flush(5000)
    assert first <= ids(old.spans)  # 0 lost of the running call, agent_session included
    assert len(old.named(sc.SPAN_AGENT_SESSION)) == 1
    assert released == ["lk_otel-enrich"]
    (second,) = new.named(sc.SPAN_AGENT_SESSION)
    assert list(second.attributes[sc.LANGFUSE_TRACE_TAGS]) == ["second"]
    assert not ids(new.spans) & first
    assert processor.handover_overdue == 0
    processor.shutdown()


async def test_handover_timeout_moves_open_sessions_counts_and_warns_once(
    provider: TracerProvider, caplog: pytest.LogCaptureFixture
) -> None:
    old, new = ListSink(), ListSink()
    released: list[bool] = []
    processor = LkOtelSpanProcessor([old], EnrichOptions(), schedule_delay=0.02)
    provider.add_span_processor(processor)
    call = asyncio.ensure_future(run_scenario(short(2), speed=8.0))
    while not old.named(sc.SPAN_USER_TURN):
        await asyncio.sleep(0.02)
    with caplog.at_level(logging.WARNING, logger="lk_otel"):
        processor.reconfigure(
            [new], EnrichOptions(), lambda: released.append(True), handover_timeout=0.0
        )
        await call
        assert processor.force_flush(5000)
    assert released == [True]
    assert processor.handover_overdue == 1
    assert len(new.named(sc.SPAN_AGENT_SESSION)) == 1  # the rest of the call went on
    warnings = [r for r in caplog.records if "handover" in r.getMessage()]
    assert len(warnings) == 1
    processor.shutdown()


def test_force_flush_with_nothing_queued_and_after_shutdown() -> None:
    processor = LkOtelSpanProcessor([ListSink()], EnrichOptions(), schedule_delay=10.0)
    assert processor.force_flush(1000)  # does not wait for the 10 s delay
    processor.shutdown()
    assert processor.force_flush(1000)
    processor.shutdown()  # twice is harmless


class Seen(EndedSpans):
    """Another processor on the provider: what it sees of livekit's own spans."""

    def __init__(self) -> None:
        super().__init__()
        self.attributes: dict[str, dict[str, Any]] = {}

    def on_end(self, span: ReadableSpan) -> None:
        self.attributes[span.name] = dict(span.attributes or {})


async def test_shared_spans_stay_untouched_mappings_go_on_the_copy(
    provider: TracerProvider,
) -> None:
    sink = ListSink()
    processor = LkOtelSpanProcessor([sink], EnrichOptions(), schedule_delay=0.05)
    seen = Seen()
    provider.add_span_processor(processor)
    provider.add_span_processor(seen)
    await run_scenario(short(1), speed=8.0)
    assert processor.force_flush(5000)
    (exported,) = sink.named(sc.SPAN_AGENT_SESSION)
    shared = seen.attributes[sc.SPAN_AGENT_SESSION]
    assert exported.attributes[sc.LANGFUSE_SESSION_ID] == exported.attributes[sc.SESSION_ID]
    assert exported.attributes[sc.OI_SESSION_ID] == exported.attributes[sc.SESSION_ID]
    assert not [k for k in shared if k.startswith(("lk_otel.", "langfuse.", "session."))]
    processor.shutdown()
