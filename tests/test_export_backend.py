"""BackendExporter's keep / drop / split / retry policy, with exact counts and orders.

The inner exporter is an SDK ``SpanExporter`` that answers from a script and reports a
failure the way the official OTLP exporters do: a log line on their logger.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
import weakref
from collections.abc import Callable, Sequence

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import SpanContext, TraceFlags

from lk_otel.export.backend import STALLED_AFTER, BackendExporter

HTTP_LOG = logging.getLogger("opentelemetry.exporter.otlp.proto.http.trace_exporter")
GRPC_LOG = logging.getLogger("opentelemetry.exporter.otlp.proto.grpc.exporter")
REFUSED = "Failed to export span batch due to ConnectionError: connection refused"
TOO_LARGE = "Failed to export span batch code: 413, reason: Request Entity Too Large"
Answer = Callable[[list[str]], str | None]  # span names -> failure log line, None for success


def spans(*names: str) -> list[ReadableSpan]:
    return [
        ReadableSpan(
            name=n,
            context=SpanContext(
                trace_id=1, span_id=i + 1, is_remote=False, trace_flags=TraceFlags(1)
            ),
        )
        for i, n in enumerate(names)
    ]


def named(count: int, prefix: str = "s", start: int = 0) -> list[ReadableSpan]:
    return spans(*(f"{prefix}{i}" for i in range(start, start + count)))


class Scripted(SpanExporter):
    """Answers each request with ``answer(names)``: a failure line it logs, or success."""

    def __init__(self, answer: Answer | None = None) -> None:
        self.answer = answer or (lambda names: None)
        self.calls: list[list[str]] = []
        self.delivered: list[str] = []
        self.entered = threading.Event()
        self.gate: threading.Event | None = None
        self.shut = False

    def export(self, batch: Sequence[ReadableSpan]) -> SpanExportResult:
        names = [s.name for s in batch]
        self.calls.append(names)
        self.entered.set()
        if self.gate is not None:
            self.gate.wait()
        failure = self.answer(names)
        if failure is not None:
            HTTP_LOG.error(failure)
            return SpanExportResult.FAILURE
        self.delivered += names
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        self.shut = True


def fails_first(count: int, line: str = REFUSED) -> Answer:
    left = [count]

    def answer(names: list[str]) -> str | None:
        left[0] -= 1
        return line if left[0] >= 0 else None

    return answer


def texts(caplog: pytest.LogCaptureFixture, needle: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if needle in r.getMessage()]


def test_over_capacity_the_oldest_waiting_spans_are_dropped() -> None:
    inner = Scripted()
    inner.gate = threading.Event()
    exporter = BackendExporter(inner, label="t", capacity=4, batch_size=2, schedule_delay=0)
    exporter.offer(named(2))
    assert inner.entered.wait(2)  # s0, s1 in flight, on top of the bound
    exporter.offer(named(6, start=2))  # 4 may wait: s2 s3 go, s4..s7 stay
    assert (exporter.held, exporter.dropped) == (6, 2)
    inner.gate.set()
    assert exporter.force_flush(2)
    assert inner.delivered == ["s0", "s1", "s4", "s5", "s6", "s7"]
    assert (exporter.exported, exporter.dropped, exporter.held) == (6, 2, 0)
    assert exporter.exported + exporter.dropped == 8


def test_a_failed_batch_is_held_and_sent_again_oldest_first(
    caplog: pytest.LogCaptureFixture,
) -> None:
    inner = Scripted(fails_first(2))
    exporter = BackendExporter(inner, label="t", batch_size=8, schedule_delay=10)
    with caplog.at_level(logging.INFO):
        exporter.offer(named(3))
        assert exporter.force_flush(2)
    assert inner.calls == [["s0", "s1", "s2"]] * 3
    assert inner.delivered == ["s0", "s1", "s2"]
    assert (exporter.exported, exporter.dropped, exporter.held) == (3, 0, 0)
    assert len(texts(caplog, "export to t failing: connection refused")) == 1
    assert (
        texts(caplog, "recovered") == [texts(caplog, "recovered")[0]]
        and "0 span(s) dropped" in texts(caplog, "recovered")[0]
    )
    assert "refused" in (exporter.last_cause or "")


def test_spans_offered_during_an_outage_queue_behind_the_held_ones() -> None:
    inner = Scripted(fails_first(1))
    exporter = BackendExporter(inner, label="t", batch_size=2, schedule_delay=10)
    exporter.offer(named(2))
    exporter.offer(named(1, start=2))
    assert exporter.force_flush(2)
    assert inner.calls == [["s0", "s1"], ["s0", "s1"], ["s2"]]


def test_a_failed_request_over_capacity_is_the_first_to_go() -> None:
    inner = Scripted(lambda names: REFUSED)
    exporter = BackendExporter(
        inner, label="t", capacity=3, batch_size=3, schedule_delay=0, retry_interval=60
    )
    inner.gate = threading.Event()
    exporter.offer(named(3))
    assert inner.entered.wait(2)  # s0..s2 in flight
    exporter.offer(named(2, start=3))  # s3 s4 wait: within the bound
    assert (exporter.held, exporter.dropped) == (5, 0)
    inner.gate.set()  # s0..s2 fail and come back in front: s0 s1 are the oldest, and go
    for _ in range(100):
        if exporter.dropped:
            break
        time.sleep(0.01)
    assert (exporter.held, exporter.dropped) == (3, 2)
    inner.answer = fails_first(0)
    assert exporter.force_flush(2)
    assert inner.delivered == ["s2", "s3", "s4"]
    assert exporter.exported + exporter.dropped == 5


def test_an_unsendable_batch_is_split_and_the_one_span_dropped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    inner = Scripted(lambda names: TOO_LARGE if "big" in names else None)
    exporter = BackendExporter(inner, label="t", batch_size=8, schedule_delay=10)
    with caplog.at_level(logging.INFO):
        exporter.offer(spans("a", "b", "big", "c", "d"))
        assert exporter.force_flush(2)
        exporter.offer(spans("e", "big", "f"))
        assert exporter.force_flush(2)
    assert inner.calls == [
        ["a", "b", "big", "c", "d"],
        ["a", "b", "big"],
        ["a", "b"],
        ["big"],
        ["c", "d"],
        ["e", "big", "f"],
        ["e", "big"],
        ["e"],
        ["big"],
        ["f"],
    ]
    assert inner.delivered == ["a", "b", "c", "d", "e", "f"]
    assert (exporter.exported, exporter.dropped, exporter.held) == (6, 2, 0)
    named_once = texts(caplog, "over the backend's limit")
    assert len(named_once) == 1 and "a span of 0.0 MB" in named_once[0] and "'big'" in named_once[0]
    assert texts(caplog, "failing") == []  # not an outage
    assert exporter.last_cause is None


def test_a_malformed_span_is_dropped_alone() -> None:
    bad = "Failed to export span batch code: 400, reason: Bad Request"
    inner = Scripted(lambda names: bad if "bad" in names else None)
    exporter = BackendExporter(inner, label="t", batch_size=8, schedule_delay=10)
    exporter.offer(spans("bad", "a"))
    assert exporter.force_flush(2)
    assert inner.calls == [["bad", "a"], ["bad"], ["a"]]
    assert (exporter.exported, exporter.dropped) == (1, 1)


def test_force_flush_keeps_retrying_until_its_timeout() -> None:
    inner = Scripted(lambda names: REFUSED)
    exporter = BackendExporter(inner, label="t", retry_interval=60, schedule_delay=10)
    exporter.offer(named(1))
    began = time.monotonic()
    assert exporter.force_flush(0.4) is False
    took = time.monotonic() - began
    assert 0.4 <= took < 0.6
    assert len(inner.calls) >= 4  # one try every URGENT_RETRY, not one per retry_interval
    assert (exporter.held, exporter.dropped) == (1, 0)


def test_flush_delivers_what_comes_back_before_the_timeout() -> None:
    inner = Scripted(fails_first(5))
    exporter = BackendExporter(inner, label="t", retry_interval=60, schedule_delay=10)
    exporter.offer(named(2))
    assert exporter.force_flush(3)
    assert len(inner.calls) == 6 and inner.delivered == ["s0", "s1"]


def test_shutdown_retries_until_its_timeout_then_counts_the_rest(
    caplog: pytest.LogCaptureFixture,
) -> None:
    inner = Scripted(lambda names: REFUSED)
    exporter = BackendExporter(inner, label="t", retry_interval=60, schedule_delay=10)
    exporter.offer(named(3))
    began = time.monotonic()
    with caplog.at_level(logging.INFO):
        assert exporter.shutdown(0.3) is False
    assert 0.3 <= time.monotonic() - began < 0.5
    assert len(inner.calls) >= 3 and inner.shut
    assert (exporter.held, exporter.dropped, exporter.exported) == (0, 3, 0)
    assert texts(caplog, "could not be delivered") == [
        "lk_otel: 3 span(s) could not be delivered to t "
        "(connection refused or dropped: is the backend running and reachable?)"
    ]
    exporter.offer(named(2))  # after shutdown: dropped and counted, never queued
    assert (exporter.held, exporter.dropped) == (0, 5)


def test_shutdown_gives_up_on_a_request_that_gets_no_answer() -> None:
    inner = Scripted()
    inner.gate = threading.Event()  # the backend never answers
    exporter = BackendExporter(inner, label="t", schedule_delay=0)
    exporter.offer(named(4))
    assert inner.entered.wait(2)
    began = time.monotonic()
    assert exporter.shutdown(5) is False
    took = time.monotonic() - began
    inner.gate.set()
    assert STALLED_AFTER <= took < STALLED_AFTER + 0.3
    assert (exporter.held, exporter.dropped, exporter.exported) == (0, 4, 0)
    time.sleep(0.05)  # the late answer changes nothing
    assert (exporter.dropped, exporter.exported, exporter.last_cause) == (4, 0, None)


def test_shutdown_of_a_healthy_backend_sends_everything_at_once() -> None:
    inner = Scripted()
    exporter = BackendExporter(inner, label="t", batch_size=2, schedule_delay=60)
    exporter.offer(named(5))
    assert exporter.shutdown(2) is True
    assert inner.calls == [["s0", "s1"], ["s2", "s3"], ["s4"]] and inner.shut
    assert exporter.shutdown(2) is True  # a second shutdown is a no-op


def test_a_full_batch_goes_without_waiting_for_the_schedule() -> None:
    inner = Scripted()
    exporter = BackendExporter(inner, label="t", batch_size=3, schedule_delay=60)
    exporter.offer(named(3))
    assert inner.entered.wait(2)
    assert inner.calls[0] == ["s0", "s1", "s2"]


def test_a_partial_batch_waits_for_the_schedule_delay() -> None:
    inner = Scripted()
    exporter = BackendExporter(inner, label="t", batch_size=3, schedule_delay=0.2)
    exporter.offer(named(1))
    assert not inner.entered.wait(0.1)
    assert inner.entered.wait(1)


def test_a_delivered_batch_is_not_kept_while_the_worker_waits() -> None:
    """The worker once held the last batch it sent until the next one came: after a burst,
    up to a batch of spans (with their 64 KB attribute values) stayed in memory."""
    inner = Scripted()
    exporter = BackendExporter(inner, label="t", batch_size=4, schedule_delay=60)
    batch = named(3)
    refs = [weakref.ref(s) for s in batch]
    exporter.offer(batch)
    del batch
    assert exporter.force_flush(2) and inner.delivered == ["s0", "s1", "s2"]
    deadline = time.monotonic() + 5
    while any(r() is not None for r in refs) and time.monotonic() < deadline:
        gc.collect()
        time.sleep(0.01)
    assert all(r() is None for r in refs), "the exporter still holds a delivered span"
    exporter.shutdown(1)


def test_offer_never_raises() -> None:
    exporter = BackendExporter(Scripted(), label="t")
    exporter.offer(None)  # type: ignore[arg-type]
    assert exporter.held == 0


def test_the_same_refusal_again_keeps_its_cause_and_warns_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    inner = Scripted(lambda names: REFUSED)
    exporter = BackendExporter(inner, label="t", retry_interval=60, schedule_delay=10)
    with caplog.at_level(logging.INFO):
        exporter.offer(named(1))
        assert [exporter.force_flush(0.12) for _ in range(3)] == [False] * 3
        exporter.shutdown(0.1)
    assert len(texts(caplog, "export to t failing")) == 1
    assert "refused" in (exporter.last_cause or "")
