"""Self-test of the in-process OTLP receiver, driven by the official OTLP exporters.

Spans and metrics go over the real wire (gRPC and HTTP, gzip and none) and must come back
decoded; every fault mode must be seen by the exporters the way a real backend's would.
"""

from __future__ import annotations

import gzip
import itertools
import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import grpc
import pytest
from opentelemetry.exporter.otlp.json.common.trace_encoder import encode_spans as encode_json
from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import (
    OTLPMetricExporter as GrpcMetricExporter,
)
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
    OTLPSpanExporter as GrpcSpanExporter,
)
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.metric_exporter import (
    OTLPMetricExporter as HttpMetricExporter,
)
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as HttpSpanExporter,
)
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, MetricExportResult, MetricsData
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

from support.otlp_receiver import OtlpReceiver, SpanRecord, Transport

LANGFUSE_PATH = "/api/public/otel/v1/traces"
GRPC_TRACE_PATH = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
GRPC_METRICS_PATH = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export"
TRANSPORTS: list[Transport] = ["grpc", "http"]

pytest_plugins = ["support.receiver_fixtures"]


# --- data to export ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def finished_spans() -> Sequence[ReadableSpan]:
    """agent_session (SERVER) -> agent_turn (ERROR, one event), with typed attributes."""
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "lk-test", "pid": 42}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("livekit-agents", "1.8.9")
    with (
        tracer.start_as_current_span(
            "agent_session",
            kind=SpanKind.SERVER,
            attributes={
                "lk.agent_label": "support",
                "lk_otel.session.turns": 3,
                "lk_otel.turn.e2e_latency": 1.75,
                "lk.interrupted": False,
                "lk.function_tools": ["lookup", "book"],
                "lk_otel.latencies": [0.5, 1.25],
            },
        ),
        tracer.start_as_current_span("agent_turn") as turn,
    ):
        turn.add_event("tool_called", {"gen_ai.tool.name": "lookup", "n": 2})
        turn.set_status(Status(StatusCode.ERROR, "llm failed"))
    provider.shutdown()
    return memory.get_finished_spans()


@pytest.fixture(scope="module")
def metrics_data() -> MetricsData:
    """A histogram with explicit buckets, a monotonic counter and a gauge."""
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader], resource=Resource.create({"pid": 42}))
    meter = provider.get_meter("lk_otel")
    latency = meter.create_histogram(
        "lk_otel.turn.e2e_latency", unit="s", explicit_bucket_boundaries_advisory=[0.5, 1.0, 2.0]
    )
    for value in (0.3, 1.2, 1.7, 5.0):
        latency.record(value, {"agent": "support"})
    tokens = meter.create_counter("lk_otel.usage.tokens", unit="{token}")
    tokens.add(10, {"kind": "input"})
    tokens.add(5, {"kind": "input"})
    meter.create_gauge("lk_otel.sessions.active").set(3, {"host": "a"})
    data = reader.get_metrics_data()
    assert data is not None
    provider.shutdown()
    return data


# --- exporters ---------------------------------------------------------------------------

ExporterFactory = Callable[..., Any]


@pytest.fixture
def make_exporter(otlp_receiver: OtlpReceiver) -> Iterator[ExporterFactory]:
    """Build an official OTLP exporter aimed at the receiver; all are shut down afterwards."""
    made: list[Any] = []

    def make(
        transport: Transport,
        signal: str = "traces",
        *,
        gzip: bool = False,
        headers: dict[str, str] | None = None,
        timeout: float = 5.0,
        path: str | None = None,
    ) -> Any:
        if transport == "grpc":
            cls = GrpcSpanExporter if signal == "traces" else GrpcMetricExporter
            exporter = cls(
                endpoint=otlp_receiver.grpc_endpoint,
                headers=headers,
                timeout=timeout,
                compression=grpc.Compression.Gzip if gzip else grpc.Compression.NoCompression,
            )
        else:
            cls = HttpSpanExporter if signal == "traces" else HttpMetricExporter
            exporter = cls(
                endpoint=otlp_receiver.http_url(path or f"/v1/{signal}"),
                headers=headers,
                timeout=timeout,
                compression=Compression.Gzip if gzip else Compression.NoCompression,
            )
        made.append(exporter)
        return exporter

    yield make
    for exporter in made:
        exporter.shutdown()


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.monotonic()
    result = fn()
    return result, time.monotonic() - start


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def _assert_span_tree(spans: list[SpanRecord], transport: Transport) -> None:
    by_name = {s.name: s for s in spans}
    assert set(by_name) == {"agent_session", "agent_turn"}
    root, turn = by_name["agent_session"], by_name["agent_turn"]
    assert len(root.trace_id) == 32 and len(root.span_id) == 16
    assert root.parent_span_id == ""
    assert turn.parent_span_id == root.span_id and turn.trace_id == root.trace_id
    assert root.attributes == {
        "lk.agent_label": "support",
        "lk_otel.session.turns": 3,
        "lk_otel.turn.e2e_latency": 1.75,
        "lk.interrupted": False,
        "lk.function_tools": ["lookup", "book"],
        "lk_otel.latencies": [0.5, 1.25],
    }
    assert type(root.attributes["lk_otel.session.turns"]) is int
    assert root.kind == "SERVER" and turn.kind == "INTERNAL"
    assert (turn.status_code, turn.status_message) == ("ERROR", "llm failed")
    assert [(e.name, e.attributes) for e in turn.events] == [
        ("tool_called", {"gen_ai.tool.name": "lookup", "n": 2})
    ]
    assert root.resource["service.name"] == "lk-test" and root.resource["pid"] == 42
    assert (root.scope, root.scope_version) == ("livekit-agents", "1.8.9")
    assert 0 < root.start_ns <= turn.start_ns <= turn.end_ns <= root.end_ns
    assert root.duration_s >= 0
    assert root.transport == transport


# --- decoding ----------------------------------------------------------------------------


@pytest.mark.parametrize("use_gzip", [False, True], ids=["none", "gzip"])
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_spans_round_trip(
    otlp_receiver: OtlpReceiver,
    make_exporter: ExporterFactory,
    finished_spans: Sequence[ReadableSpan],
    transport: Transport,
    use_gzip: bool,
) -> None:
    """Official exporter -> receiver: ids, typed attributes, events, resource, scope, headers."""
    headers = {"authorization": "Basic cGs6c2s=", "x-langfuse-ingestion-version": "4"}
    if transport == "http":  # HTTP header names are case-insensitive; recorded lower-case
        headers = {"Authorization": "Basic cGs6c2s=", "X-Langfuse-Ingestion-Version": "4"}
    exporter = make_exporter(transport, gzip=use_gzip, headers=headers, path=LANGFUSE_PATH)

    assert exporter.export(finished_spans) == SpanExportResult.SUCCESS

    [request] = otlp_receiver.requests
    assert (request.transport, request.signal, request.status) == (
        transport,
        "traces",
        "OK" if transport == "grpc" else "200",
    )
    assert request.path == (GRPC_TRACE_PATH if transport == "grpc" else LANGFUSE_PATH)
    assert request.compression == ("gzip" if use_gzip else None)
    assert request.headers["authorization"] == "Basic cGs6c2s="
    assert request.headers["x-langfuse-ingestion-version"] == "4"
    assert all(key == key.lower() for key in request.headers)
    assert request.error is None and request.accepted
    _assert_span_tree(otlp_receiver.spans(), transport)


@pytest.mark.parametrize("use_gzip", [False, True], ids=["none", "gzip"])
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_metrics_round_trip(
    otlp_receiver: OtlpReceiver,
    make_exporter: ExporterFactory,
    metrics_data: MetricsData,
    transport: Transport,
    use_gzip: bool,
) -> None:
    """Histogram buckets/count/sum, counter sum and gauge value survive the wire."""
    exporter = make_exporter(transport, "metrics", gzip=use_gzip, headers={"x-tenant": "acme"})

    assert exporter.export(metrics_data) == MetricExportResult.SUCCESS

    [request] = otlp_receiver.requests
    assert request.signal == "metrics" and request.accepted
    assert request.path == (GRPC_METRICS_PATH if transport == "grpc" else "/v1/metrics")
    assert request.compression == ("gzip" if use_gzip else None)
    assert request.headers["x-tenant"] == "acme"
    by_name = {m.name: m for m in otlp_receiver.metrics()}
    assert set(by_name) == {
        "lk_otel.turn.e2e_latency",
        "lk_otel.usage.tokens",
        "lk_otel.sessions.active",
    }

    latency = by_name["lk_otel.turn.e2e_latency"]
    assert (latency.type, latency.unit, latency.temporality) == ("histogram", "s", "cumulative")
    assert (latency.scope, latency.resource["pid"], latency.transport) == ("lk_otel", 42, transport)
    [point] = latency.data_points
    assert point.attributes == {"agent": "support"}
    assert point.count == 4 and point.sum == pytest.approx(8.2)
    assert (point.min, point.max) == (0.3, 5.0)
    assert point.bucket_bounds == (0.5, 1.0, 2.0)
    assert point.bucket_counts == (1, 0, 2, 1)

    tokens = by_name["lk_otel.usage.tokens"]
    assert (tokens.type, tokens.is_monotonic, tokens.unit) == ("sum", True, "{token}")
    assert [(p.attributes, p.value) for p in tokens.data_points] == [({"kind": "input"}, 15)]

    active = by_name["lk_otel.sessions.active"]
    assert (active.type, active.temporality, active.is_monotonic) == ("gauge", None, None)
    assert [(p.attributes, p.value) for p in active.data_points] == [({"host": "a"}, 3)]


@pytest.mark.parametrize("use_gzip", [False, True], ids=["none", "gzip"])
def test_http_accepts_otlp_json(
    otlp_receiver: OtlpReceiver,
    finished_spans: Sequence[ReadableSpan],
    use_gzip: bool,
) -> None:
    """OTLP/JSON (hex ids, lowerCamelCase) from the official JSON encoder decodes the same."""
    body = encode_json(finished_spans).to_json().encode()
    headers = {"Content-Type": "application/json"}
    if use_gzip:
        body, headers["Content-Encoding"] = gzip.compress(body), "gzip"

    status, response_headers, response = _post(otlp_receiver.http_url(LANGFUSE_PATH), body, headers)

    assert status == 200
    assert response_headers["Content-Type"] == "application/json"
    assert json.loads(response) == {}
    [request] = otlp_receiver.requests
    assert request.content_type == "json"
    assert request.compression == ("gzip" if use_gzip else None)
    _assert_span_tree(otlp_receiver.spans(), "http")
    assert {s.span_id for s in otlp_receiver.spans()} == {
        format(s.context.span_id, "016x") for s in finished_spans
    }


def test_http_rejects_what_is_not_otlp(otlp_receiver: OtlpReceiver) -> None:
    """Unknown path -> 404, undecodable body -> 400; both are recorded, neither is accepted."""
    protobuf = {"Content-Type": "application/x-protobuf"}
    assert _post(otlp_receiver.http_url("/v1/logs"), b"", protobuf)[0] == 404
    assert _post(otlp_receiver.http_url("/v1/traces"), b"\xff\xff\xff", protobuf)[0] == 400

    unknown, garbage = otlp_receiver.requests
    assert (unknown.signal, unknown.status, unknown.path) == ("unknown", "404", "/v1/logs")
    assert (garbage.signal, garbage.status) == ("traces", "400")
    assert garbage.message is None and garbage.error
    assert not unknown.accepted and not garbage.accepted
    assert otlp_receiver.spans(include_rejected=True) == []


def test_wait_helpers_and_clear(
    otlp_receiver: OtlpReceiver,
    make_exporter: ExporterFactory,
    finished_spans: Sequence[ReadableSpan],
    metrics_data: MetricsData,
) -> None:
    """wait_for_* by count and by predicate; a timeout names what arrived; clear() forgets."""
    exporter = make_exporter("http")
    threading.Timer(0.2, exporter.export, [finished_spans]).start()
    spans = otlp_receiver.wait_for_spans(lambda s: s.name == "agent_turn", timeout=5)
    assert {s.name for s in spans} == {"agent_session", "agent_turn"}
    assert len(otlp_receiver.wait_for_spans(2, timeout=0.1)) == 2

    with pytest.raises(TimeoutError, match="agent_session"):
        otlp_receiver.wait_for_spans(3, timeout=0.2)
    with pytest.raises(TimeoutError):
        otlp_receiver.wait_for_spans(lambda s: s.name == "nope", timeout=0.2)

    make_exporter("grpc", "metrics").export(metrics_data)
    assert len(otlp_receiver.wait_for_metrics(lambda m: m.type == "gauge", timeout=5)) == 3
    assert len(otlp_receiver.wait_for_requests(2, timeout=1)) == 2
    assert otlp_receiver.request_count(transport="grpc", signal="metrics") == 1

    otlp_receiver.clear()
    assert otlp_receiver.requests == [] and otlp_receiver.spans() == []


# --- answered faults ---------------------------------------------------------------------


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_http_error_status_fails_export_without_retry(
    otlp_receiver: OtlpReceiver,
    make_exporter: ExporterFactory,
    finished_spans: Sequence[ReadableSpan],
    status: int,
) -> None:
    """A non-retryable status fails the export at once; the request is still recorded."""
    otlp_receiver.fail_with(http_status=status)
    result, elapsed = _timed(lambda: make_exporter("http").export(finished_spans))

    assert result == SpanExportResult.FAILURE
    assert elapsed < 1.0
    assert [r.status for r in otlp_receiver.requests] == [str(status)]
    assert otlp_receiver.spans() == []
    assert len(otlp_receiver.spans(include_rejected=True)) == 2


@pytest.mark.parametrize(
    "code",
    [
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.UNIMPLEMENTED,
    ],
    ids=lambda c: c.name,
)
def test_grpc_error_code_fails_export_without_retry(
    otlp_receiver: OtlpReceiver,
    make_exporter: ExporterFactory,
    finished_spans: Sequence[ReadableSpan],
    code: grpc.StatusCode,
) -> None:
    """A non-retryable gRPC code fails the export at once; the request is still recorded."""
    otlp_receiver.fail_with(grpc_code=code)
    result, elapsed = _timed(lambda: make_exporter("grpc").export(finished_spans))

    assert result == SpanExportResult.FAILURE
    assert elapsed < 1.0
    assert [r.status for r in otlp_receiver.requests] == [code.name]
    assert otlp_receiver.spans() == []


def test_fail_with_derives_the_other_transport(
    otlp_receiver: OtlpReceiver,
    make_exporter: ExporterFactory,
    finished_spans: Sequence[ReadableSpan],
) -> None:
    """fail_with(http_status=401) also answers gRPC with UNAUTHENTICATED; OK means healthy."""
    with pytest.raises(ValueError):
        otlp_receiver.fail_with()
    otlp_receiver.fail_with(http_status=401)
    for transport in TRANSPORTS:
        assert make_exporter(transport).export(finished_spans) == SpanExportResult.FAILURE
    assert sorted(r.status for r in otlp_receiver.requests) == ["401", "UNAUTHENTICATED"]

    otlp_receiver.fail_with(http_status=503, grpc_code=grpc.StatusCode.OK)
    assert make_exporter("grpc").export(finished_spans) == SpanExportResult.SUCCESS
    otlp_receiver.reset_faults()
    assert make_exporter("http").export(finished_spans) == SpanExportResult.SUCCESS
    assert len(otlp_receiver.spans()) == 4


@pytest.mark.parametrize(
    ("transport", "http_status", "grpc_code"),
    [
        ("http", 503, None),
        ("http", 429, None),
        ("grpc", None, grpc.StatusCode.UNAVAILABLE),
        ("grpc", None, grpc.StatusCode.RESOURCE_EXHAUSTED),
    ],
    ids=["http-503", "http-429", "grpc-UNAVAILABLE", "grpc-RESOURCE_EXHAUSTED"],
)
def test_retryable_answer_is_retried_honouring_retry_after(
    otlp_receiver: OtlpReceiver,
    make_exporter: ExporterFactory,
    finished_spans: Sequence[ReadableSpan],
    transport: Transport,
    http_status: int | None,
    grpc_code: grpc.StatusCode | None,
) -> None:
    """Retry-After / RetryInfo of 50 ms replaces the 1 s, 2 s ... backoff: 6 tries, then fail."""
    otlp_receiver.fail_with(http_status, grpc_code, retry_after=0.05)
    result, elapsed = _timed(lambda: make_exporter(transport, timeout=5).export(finished_spans))

    assert result == SpanExportResult.FAILURE
    assert otlp_receiver.request_count() == 6  # the exporters' _MAX_RETRIES
    assert elapsed < 2.0
    arrivals = [r.received_at for r in otlp_receiver.requests]
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
    assert all(gap >= 0.04 for gap in gaps)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_retryable_answer_backs_off_about_one_second(
    otlp_receiver: OtlpReceiver,
    make_exporter: ExporterFactory,
    finished_spans: Sequence[ReadableSpan],
    transport: Transport,
) -> None:
    """Without Retry-After: retry after 1 s +-20 %; gives up early when the next wait won't fit."""
    otlp_receiver.fail_with(http_status=503)  # gRPC: UNAVAILABLE
    result, elapsed = _timed(lambda: make_exporter(transport, timeout=1.5).export(finished_spans))

    assert result == SpanExportResult.FAILURE
    first, second = otlp_receiver.requests
    assert 0.75 <= second.received_at - first.received_at <= 1.35
    assert elapsed < 1.5


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_export_succeeds_when_fault_clears_between_retries(
    otlp_receiver: OtlpReceiver,
    make_exporter: ExporterFactory,
    finished_spans: Sequence[ReadableSpan],
    transport: Transport,
) -> None:
    """503/UNAVAILABLE then healthy: the same export() call retries and is delivered once."""
    otlp_receiver.fail_with(http_status=503, retry_after=0.2)
    threading.Timer(0.3, otlp_receiver.reset_faults).start()

    assert make_exporter(transport).export(finished_spans) == SpanExportResult.SUCCESS
    statuses = [r.status for r in otlp_receiver.requests]
    assert statuses[-1] in ("OK", "200") and len(statuses) >= 2
    assert len(otlp_receiver.spans()) == 2


def test_http_redirect_counts_as_success_for_the_exporter(
    otlp_receiver: OtlpReceiver,
    make_exporter: ExporterFactory,
    finished_spans: Sequence[ReadableSpan],
) -> None:
    """Exporter quirk: a 3xx is reported SUCCESS (no redirect follow) and the data is lost."""
    otlp_receiver.fail_with(http_status=308)
    assert make_exporter("http").export(finished_spans) == SpanExportResult.SUCCESS
    assert [r.status for r in otlp_receiver.requests] == ["308"]
    assert otlp_receiver.spans() == []


def test_grpc_exporter_rejects_upper_case_header_keys_client_side(
    otlp_receiver: OtlpReceiver,
    make_exporter: ExporterFactory,
    finished_spans: Sequence[ReadableSpan],
) -> None:
    """Exporter quirk: gRPC metadata keys must be lower-case; nothing reaches the receiver."""
    exporter = make_exporter("grpc", headers={"Authorization": "Bearer x"})
    assert exporter.export(finished_spans) == SpanExportResult.FAILURE
    assert otlp_receiver.requests == []


# --- stall -------------------------------------------------------------------------------


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_stall_times_out_the_export(
    otlp_receiver: OtlpReceiver,
    make_exporter: ExporterFactory,
    finished_spans: Sequence[ReadableSpan],
    transport: Transport,
) -> None:
    """A stalled request makes export() fail after its timeout; the receiver sees it abandoned."""
    otlp_receiver.stall(transport)
    exporter = make_exporter(transport, timeout=0.5)
    result, elapsed = _timed(lambda: exporter.export(finished_spans))

    assert result == SpanExportResult.FAILURE
    assert 0.4 <= elapsed < 1.5
    [request] = otlp_receiver.wait_for_requests(lambda r: r.status == "abandoned", timeout=2)
    assert request.transport == transport and request.signal == "traces"
    assert otlp_receiver.spans() == []

    otlp_receiver.release()
    assert exporter.export(finished_spans) == SpanExportResult.SUCCESS
    assert len(otlp_receiver.spans()) == 2


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_stall_then_release_delivers(
    otlp_receiver: OtlpReceiver,
    make_exporter: ExporterFactory,
    finished_spans: Sequence[ReadableSpan],
    transport: Transport,
) -> None:
    """Released before the exporter's timeout, a stalled request is answered and accepted."""
    other: Transport = "http" if transport == "grpc" else "grpc"
    otlp_receiver.stall(transport)
    assert make_exporter(other).export(finished_spans) == SpanExportResult.SUCCESS  # not stalled
    threading.Timer(0.3, otlp_receiver.release).start()

    result, elapsed = _timed(lambda: make_exporter(transport, timeout=5).export(finished_spans))

    assert result == SpanExportResult.SUCCESS
    assert 0.25 <= elapsed < 2.0
    assert [s.transport for s in otlp_receiver.spans()] == [other, other, transport, transport]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_delay_past_the_timeout_is_accepted_late(
    otlp_receiver: OtlpReceiver,
    make_exporter: ExporterFactory,
    finished_spans: Sequence[ReadableSpan],
    transport: Transport,
) -> None:
    """A delayed answer outlives the client's timeout: the client fails, the receiver keeps
    the spans and marks the request late; the next request is answered at once."""
    otlp_receiver.delay(1.0, count=1, transport=transport)
    exporter = make_exporter(transport, timeout=0.3)

    assert exporter.export(finished_spans) == SpanExportResult.FAILURE
    [late] = otlp_receiver.wait_for_requests(lambda r: r.answered_at is not None, timeout=3)
    assert late.accepted and late.late
    assert len(otlp_receiver.spans()) == 2

    assert exporter.export(finished_spans) == SpanExportResult.SUCCESS
    assert [r.late for r in otlp_receiver.requests] == [True, False]


# --- down / up ---------------------------------------------------------------------------


def _refused(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        try:
            sock.connect(("127.0.0.1", port))
        except ConnectionRefusedError:
            return True
    return False


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_down_refuses_then_up_on_same_port(
    otlp_receiver: OtlpReceiver,
    make_exporter: ExporterFactory,
    finished_spans: Sequence[ReadableSpan],
    transport: Transport,
) -> None:
    """down(): connection refused, kept-alive connections cut; up(): same port, same exporter."""
    exporter = make_exporter(transport, timeout=1.5)
    assert exporter.export(finished_spans) == SpanExportResult.SUCCESS  # warm connection
    port = otlp_receiver.grpc_port if transport == "grpc" else otlp_receiver.http_port

    otlp_receiver.down(transport)
    assert not otlp_receiver.is_up(transport)
    assert _refused(port)
    assert exporter.export(finished_spans) == SpanExportResult.FAILURE
    assert otlp_receiver.request_count() == 1  # nothing got through while down

    otlp_receiver.up(transport)
    assert (otlp_receiver.grpc_port if transport == "grpc" else otlp_receiver.http_port) == port
    assert exporter.export(finished_spans) == SpanExportResult.SUCCESS
    assert len(otlp_receiver.spans()) == 4


def test_stop_is_fast_and_frees_stalled_requests(
    finished_spans: Sequence[ReadableSpan],
) -> None:
    """stop() with stalled requests on both transports and open connections takes < 1 s."""
    receiver = OtlpReceiver().start()
    try:
        receiver.stall()
        exporters = [
            GrpcSpanExporter(endpoint=receiver.grpc_endpoint, timeout=10),
            HttpSpanExporter(endpoint=receiver.http_url(), timeout=10),
        ]
        threads = [
            threading.Thread(target=e.export, args=(finished_spans,), daemon=True)
            for e in exporters
        ]
        for thread in threads:
            thread.start()
        receiver.wait_for_requests(2, timeout=5)
    finally:
        _, elapsed = _timed(receiver.stop)
    assert elapsed < 1.0
    assert not receiver.is_up("grpc") and not receiver.is_up("http")
    assert [r.status for r in receiver.requests] == ["abandoned", "abandoned"]
    for exporter in exporters:
        exporter.shutdown()  # aborts the retry backoff the cut connection started
    for thread in threads:
        thread.join(3)
        assert not thread.is_alive()
