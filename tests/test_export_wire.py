"""Export over a real OTLP wire under ordinary faults: a flapping backend, one span over the
backend's size limit, a reconfiguration in the middle of a call."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

import lk_otel
from lk_otel import semconv as sc
from lk_otel.configure.config import DEFAULT_ATTRIBUTE_VALUE_LENGTH_LIMIT
from lk_otel.simulation import load_scenario, run_scenario
from support.otlp_receiver import OtlpReceiver, Transport
from support.tracing_helpers import EndedSpans

pytest_plugins = ["support.receiver_fixtures", "support.setup_fixtures"]
SHUTDOWN_MARGIN = 1.0
BIG = 5_000_000  # characters a tool returns


def figure(text: str) -> None:
    print(f"FIGURE: {text}")


def scenario(turns: int = 2, *, tool_result: str | None = None) -> dict[str, Any]:
    """Plain question/answer turns; with ``tool_result``, the first answer calls a tool."""
    out: list[dict[str, Any]] = []
    for i in range(turns):
        llm: list[dict[str, Any]] = [{"ttft": 0.3, "duration": 0.6, "text": f"Answer {i}."}]
        if i == 0 and tool_result is not None:
            call = {"name": "lookup", "arguments": {"q": "x"}, "result": tool_result}
            llm.insert(0, {"ttft": 0.2, "duration": 0.3, "tool_call": call})
        out.append(
            {
                "user": {"text": f"question number {i}", "speech_duration": 1.0},
                "llm": llm,
                "tts": {"ttfb": 0.2, "audio_duration": 1.0},
            }
        )
    return {"name": "wire", "turns": out}


def otlp(receiver: OtlpReceiver, transport: Transport, **kwargs: Any) -> lk_otel.OTLP:
    if transport == "grpc":
        return lk_otel.OTLP(endpoint=receiver.grpc_endpoint, protocol="grpc", **kwargs)
    return lk_otel.OTLP(endpoint=receiver.http_endpoint, protocol="http/protobuf", **kwargs)


def record(handle: lk_otel.TracingHandle, ended: EndedSpans | None = None) -> EndedSpans:
    ended = ended or EndedSpans()
    assert handle.provider is not None
    handle.provider.add_span_processor(ended)
    return ended


def received(receiver: OtlpReceiver) -> set[str]:
    return {s.span_id for s in receiver.spans()}


async def wait_until(check: Any, timeout: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


@contextmanager
def flapping(receiver: OtlpReceiver, period: float = 0.2) -> Iterator[list[int]]:
    """The backend goes down and up every ``period`` seconds until the block ends."""
    stop = threading.Event()
    flips = [0]

    def run() -> None:
        while not stop.wait(period):
            (receiver.up if flips[0] % 2 else receiver.down)()
            flips[0] += 1

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield flips
    finally:
        stop.set()
        thread.join()
        receiver.up()


# --- a flapping backend ------------------------------------------------------------------


@pytest.mark.parametrize("transport", ["grpc", "http"])
async def test_a_flapping_backend_loses_nothing(
    otlp_receiver: OtlpReceiver, handles: list[lk_otel.TracingHandle], transport: Transport
) -> None:
    """Up and down every 200 ms through the call and its shutdown: every span arrives,
    agent_session included, within the bound. gRPC with the exporter's default timeout (its
    own retries are off: lk_otel retries); the HTTP exporter always retries inside one
    export() call, up to its ``timeout``, so that is kept short (1 s) there."""
    timeout = {} if transport == "grpc" else {"timeout": 1.0}
    h = lk_otel.setup_tracing(otlp(otlp_receiver, transport, **timeout), schedule_delay=0.05)
    handles.append(h)
    ended = record(h)
    loop = asyncio.get_running_loop()
    with flapping(otlp_receiver) as flips:
        result = await run_scenario(load_scenario(scenario(3)), speed=6.0)
        began = time.monotonic()
        finished = await loop.run_in_executor(None, h.shutdown)
        took = time.monotonic() - began
    assert result.anomalies == []
    got = received(otlp_receiver)
    missing = ended.ids - got
    exporter = h.exporters[0]
    assert not missing, f"{len(missing)} of {len(ended.ids)} lost"
    assert otlp_receiver.spans(sc.SPAN_AGENT_SESSION)
    assert otlp_receiver.spans(sc.SPAN_RESPONSE_LATENCY)  # lk_otel's own spans too
    assert finished and exporter.dropped == 0 and exporter.held == 0
    assert took <= h.flush_timeout + SHUTDOWN_MARGIN
    figure(
        f"flapping ({transport}, {flips[0]} flips): {len(ended.ids)} ended, all delivered; "
        f"shutdown {took:.2f} s"
    )


# --- one span over the backend's limit -----------------------------------------------------


class _SizeLimitedFront(BaseHTTPRequestHandler):
    """An OTLP/HTTP front that answers 413 to a body over 4 MiB and passes the rest on."""

    limit = 4 * 1024 * 1024
    target = ""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if len(body) > self.limit:
            status, answer, mime = 413, b"request entity too large", "text/plain"
        else:
            headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
            request = urllib.request.Request(self.target + self.path, body, headers)
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    status, answer = response.status, response.read()
                    mime = response.headers.get("Content-Type", "")
            except urllib.error.HTTPError as err:
                status, answer, mime = err.code, err.read(), "text/plain"
        self.send_response(status)
        self.send_header("Content-Type", mime)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def size_limited(receiver: OtlpReceiver) -> Iterator[str]:
    handler = type("Front", (_SizeLimitedFront,), {"target": receiver.http_endpoint})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("transport", ["grpc", "http"])
async def test_one_span_over_the_limit_is_dropped_named_and_blocks_nothing(
    otlp_receiver: OtlpReceiver,
    handles: list[lk_otel.TracingHandle],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    transport: Transport,
) -> None:
    """A tool returns 5 MB with the attribute limit raised: gRPC's 4 MB message limit or an
    HTTP 413 refuses the span. It alone is dropped, counted and named once; every other
    span of that call and of the next one arrives."""
    monkeypatch.setenv("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", str(4 * BIG))
    with size_limited(otlp_receiver) as front:
        if transport == "grpc":
            backend = otlp(otlp_receiver, "grpc", timeout=2.0)
        else:
            backend = lk_otel.OTLP(endpoint=front, protocol="http/protobuf", timeout=2.0)
        with caplog.at_level(logging.INFO):
            h = lk_otel.setup_tracing(backend, schedule_delay=0.05)
            handles.append(h)
            ended = record(h)
            big = load_scenario(scenario(2, tool_result="x" * BIG))
            first = await run_scenario(big, speed=6.0)
            second = await run_scenario(load_scenario(scenario(3)), speed=6.0)
            assert h.force_flush(10)
    assert first.anomalies == [] and second.anomalies == []
    got = received(otlp_receiver)
    lost = ended.ids - got
    exporter = h.exporters[0]
    # the tool's span and the spans that carry its result on (the next LLM call's context)
    assert len(lost) == exporter.dropped >= 1 and exporter.held == 0
    assert not otlp_receiver.spans(sc.SPAN_FUNCTION_TOOL)
    sessions = otlp_receiver.spans(sc.SPAN_AGENT_SESSION)
    assert len(sessions) == 2
    later = {s.trace_id for s in sessions} - {t for t in map(ended.trace_of.get, lost)}
    assert len(later) == 1 and ended.in_trace(later.pop()) <= got  # the next call: all of it
    named = [r.getMessage() for r in caplog.records if "over the backend's limit" in r.getMessage()]
    assert len(named) == 1 and "'function_tool'" in named[0], named
    assert " MB is over" in named[0]
    assert not [r for r in caplog.records if "failing" in r.getMessage()]  # not an outage
    figure(f"oversized span ({transport}): {named[0]}")


async def test_the_default_attribute_limit_keeps_a_huge_tool_result_sendable(
    otlp_receiver: OtlpReceiver, handles: list[lk_otel.TracingHandle]
) -> None:
    h = lk_otel.setup_tracing(otlp(otlp_receiver, "grpc", timeout=2.0), schedule_delay=0.05)
    handles.append(h)
    ended = record(h)
    result = await run_scenario(load_scenario(scenario(2, tool_result="y" * BIG)), speed=6.0)
    assert h.force_flush(10) and result.anomalies == []
    assert ended.ids <= received(otlp_receiver)
    (tool,) = otlp_receiver.spans(sc.SPAN_FUNCTION_TOOL)
    lengths = [len(v) for v in tool.attributes.values() if isinstance(v, str)]
    assert max(lengths) == DEFAULT_ATTRIBUTE_VALUE_LENGTH_LIMIT  # cut, not dropped


# --- reconfiguration mid-call ------------------------------------------------------------


def session_trace(receiver: OtlpReceiver) -> str:
    (session,) = receiver.spans(sc.SPAN_AGENT_SESSION)
    return session.trace_id


async def test_reconfiguring_mid_call_hands_over_and_loses_nothing(
    otlp_receiver: OtlpReceiver, handles: list[lk_otel.TracingHandle]
) -> None:
    """A second setup_tracing() to another backend while a call runs: every span of the
    running call reaches the first backend, the next call goes to the second."""
    with OtlpReceiver() as other:
        first = lk_otel.setup_tracing(otlp(otlp_receiver, "grpc", timeout=1.0), schedule_delay=0.05)
        handles.append(first)
        ended = record(first)
        call = asyncio.create_task(run_scenario(load_scenario(scenario(4)), speed=6.0))
        await wait_until(lambda: len(ended.ids) >= 8, what="the call under way")
        await asyncio.sleep(0.3)
        second = lk_otel.setup_tracing(otlp(other, "http", timeout=1.0), schedule_delay=0.05)
        handles.append(second)
        record(second, ended)  # the running call's later spans start on the new provider
        swapped_at = len(ended.ids)
        assert (await call).anomalies == []
        assert (await run_scenario(load_scenario(scenario(2)), speed=6.0)).anomalies == []
        assert second.force_flush(10)
        await wait_until(lambda: first._closed, what="the first pipeline released")
        trace = session_trace(otlp_receiver)
        running = ended.in_trace(trace)
        assert running <= received(otlp_receiver)
        assert not {s for s in other.spans() if s.trace_id == trace}
        assert len(other.spans(sc.SPAN_AGENT_SESSION)) == 1
        assert first.exporters[0].dropped == 0
        assert len(running) > swapped_at  # spans of the call ended after the swap are in it
    figure(
        f"reconfigured mid-call: {len(running)} spans of the running call, "
        f"{len(running) - swapped_at}+ after the swap, all at the first backend"
    )


async def test_another_metadata_per_job_keeps_the_exporter_and_loses_nothing(
    otlp_receiver: OtlpReceiver, handles: list[lk_otel.TracingHandle]
) -> None:
    backend = otlp(otlp_receiver, "grpc", timeout=1.0)
    first = lk_otel.setup_tracing(backend, schedule_delay=0.05, metadata={"job": "one"})
    handles.append(first)
    ended = record(first)
    call = asyncio.create_task(run_scenario(load_scenario(scenario(4)), speed=6.0))
    await wait_until(lambda: len(ended.ids) >= 8, what="the call under way")
    second = lk_otel.setup_tracing(backend, schedule_delay=0.05, metadata={"job": "two"})
    handles.append(second)
    record(second, ended)
    assert second is not first and second.exporters[0] is first.exporters[0]  # handed over
    assert (await call).anomalies == []
    assert (await run_scenario(load_scenario(scenario(2)), speed=6.0)).anomalies == []
    assert second.force_flush(10)
    assert ended.ids <= received(otlp_receiver)
    sessions = sorted(otlp_receiver.spans(sc.SPAN_AGENT_SESSION), key=lambda s: s.start_ns)
    assert [s.attributes.get("job") for s in sessions] == ["one", "two"]
    assert second.exporters[0].dropped == 0


# --- over the bound ------------------------------------------------------------------------


async def test_over_the_bound_the_oldest_spans_are_the_ones_dropped(
    otlp_receiver: OtlpReceiver, handles: list[lk_otel.TracingHandle]
) -> None:
    """Backend down, 20 spans for room for 8 (``max_queue_size=4``): the 12 oldest are
    dropped and counted, the 8 newest arrive once it is back; delivered + dropped = ended."""
    otlp_receiver.down()
    h = lk_otel.setup_tracing(
        otlp(otlp_receiver, "grpc", timeout=1.0),
        max_queue_size=4,
        schedule_delay=0.05,
        retry_interval=60,
    )
    handles.append(h)
    assert h.provider is not None
    tracer = h.provider.get_tracer("bound")
    for i in range(20):
        tracer.start_span(f"b{i:02d}").end()
    exporter = h.exporters[0]
    await wait_until(lambda: exporter.last_cause is not None, what="the first failure")
    otlp_receiver.up()
    assert h.force_flush(10)
    names = sorted(s.name for s in otlp_receiver.spans())
    assert names == [f"b{i:02d}" for i in range(12, 20)]
    assert (exporter.dropped, exporter.exported, exporter.held) == (12, 8, 0)
