"""An in-process OTLP receiver for tests: real gRPC and HTTP servers on 127.0.0.1.

``OtlpReceiver`` runs a grpcio server (``TraceService/Export`` and ``MetricsService/Export``)
and a stdlib ``ThreadingHTTPServer`` (``POST .../v1/traces`` and ``.../v1/metrics`` under any
path prefix, protobuf or OTLP/JSON, gzip or deflate). Every request is recorded, decoded and
flattened into plain records (``SpanRecord``, ``MetricRecord``). Faults can be switched on at
run time: answer with an HTTP status / gRPC code, stall until released, or go down (connection
refused) and come back up on the same port.

Typical use::

    with OtlpReceiver() as receiver:
        exporter = OTLPSpanExporter(endpoint=receiver.grpc_endpoint)
        ...
        receiver.wait_for_spans(lambda s: s.name == "agent_session")
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import json
import select
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

import grpc
from google.protobuf import json_format
from google.protobuf.duration_pb2 import Duration
from google.protobuf.message import DecodeError, Message
from google.rpc.error_details_pb2 import RetryInfo
from google.rpc.status_pb2 import Status as RpcStatus
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.metrics.v1 import metrics_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

Transport = Literal["grpc", "http"]
Signal = Literal["traces", "metrics", "unknown"]
TRANSPORTS: tuple[Transport, ...] = ("grpc", "http")

_TRACE_SERVICE = trace_service_pb2.DESCRIPTOR.services_by_name["TraceService"].full_name
_METRICS_SERVICE = metrics_service_pb2.DESCRIPTOR.services_by_name["MetricsService"].full_name
_GRPC_METHODS: dict[str, Signal] = {
    f"/{_TRACE_SERVICE}/Export": "traces",
    f"/{_METRICS_SERVICE}/Export": "metrics",
}
_REQUEST_TYPES: dict[str, type[Message]] = {
    "traces": trace_service_pb2.ExportTraceServiceRequest,
    "metrics": metrics_service_pb2.ExportMetricsServiceRequest,
}
_RESPONSE_TYPES: dict[str, type[Message]] = {
    "traces": trace_service_pb2.ExportTraceServiceResponse,
    "metrics": metrics_service_pb2.ExportMetricsServiceResponse,
}
_OTLP_HEX_ID_KEYS = frozenset({"traceId", "spanId", "parentSpanId"})
_POLL_S = 0.02

# HTTP status -> gRPC code, as in gRPC's "HTTP to gRPC Status Code Mapping".
_HTTP_TO_GRPC = {
    400: grpc.StatusCode.INTERNAL,
    401: grpc.StatusCode.UNAUTHENTICATED,
    403: grpc.StatusCode.PERMISSION_DENIED,
    404: grpc.StatusCode.UNIMPLEMENTED,
    429: grpc.StatusCode.UNAVAILABLE,
    502: grpc.StatusCode.UNAVAILABLE,
    503: grpc.StatusCode.UNAVAILABLE,
    504: grpc.StatusCode.UNAVAILABLE,
}
# gRPC code -> HTTP status, as grpc-gateway maps them.
_GRPC_TO_HTTP = {
    grpc.StatusCode.OK: 200,
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.UNKNOWN: 500,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.INTERNAL: 500,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DATA_LOSS: 500,
    grpc.StatusCode.UNAUTHENTICATED: 401,
}


# --- flat records ------------------------------------------------------------------------


@dataclass(frozen=True)
class SpanEvent:
    """One span event."""

    name: str
    time_ns: int
    attributes: dict[str, Any]


@dataclass(frozen=True)
class SpanRecord:
    """One received span, flattened; ids are lower-case hex ("" when absent)."""

    name: str
    trace_id: str
    span_id: str
    parent_span_id: str
    start_ns: int
    end_ns: int
    kind: str  # "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER", "UNSPECIFIED"
    status_code: str  # "UNSET", "OK", "ERROR"
    status_message: str
    attributes: dict[str, Any]
    resource: dict[str, Any]
    scope: str
    scope_version: str
    events: tuple[SpanEvent, ...]
    links: tuple[tuple[str, str], ...]  # (trace_id, span_id)
    transport: Transport

    @property
    def duration_s(self) -> float:
        """End minus start, in seconds."""
        return (self.end_ns - self.start_ns) / 1e9


@dataclass(frozen=True)
class DataPointRecord:
    """One metric data point; fields that do not apply to the metric type are None/empty."""

    attributes: dict[str, Any]
    start_ns: int
    time_ns: int
    value: int | float | None = None  # gauge and sum
    count: int | None = None  # histogram, exponential histogram, summary
    sum: float | None = None
    min: float | None = None
    max: float | None = None
    bucket_bounds: tuple[float, ...] = ()  # explicit-bucket histogram only
    bucket_counts: tuple[int, ...] = ()


@dataclass(frozen=True)
class MetricRecord:
    """One received metric (one per metric per export request)."""

    name: str
    description: str
    unit: str
    type: str  # "gauge", "sum", "histogram", "exponential_histogram", "summary"
    temporality: str | None  # "cumulative", "delta", "unspecified"; None for gauge/summary
    is_monotonic: bool | None  # sum only
    data_points: tuple[DataPointRecord, ...]
    resource: dict[str, Any]
    scope: str
    transport: Transport


@dataclass
class ReceivedRequest:
    """One export request as it arrived, and how it was answered.

    ``status`` is ``"pending"`` until answered, then the HTTP status as a string (``"200"``,
    ``"503"``) or the gRPC code name (``"OK"``, ``"UNAVAILABLE"``); ``"abandoned"`` when the
    client left (or the server went down) while the request was stalled. ``late`` marks a
    request answered after its client had given up: a backend keeps such data, but the client
    saw a failure and may send it again. Times are ``time.monotonic()`` seconds.
    """

    transport: Transport
    signal: Signal
    path: str
    headers: dict[str, str]
    compression: str | None  # "gzip", "deflate" or None
    content_type: str  # "protobuf" or "json"
    body_size: int  # bytes as received (compressed)
    message: Message | None
    error: str | None  # decoding error, if any
    received_at: float
    status: str = "pending"
    answered_at: float | None = None
    late: bool = False  # answered after the client had given up (it saw a failure)
    spans: tuple[SpanRecord, ...] = field(default=(), repr=False)
    metrics: tuple[MetricRecord, ...] = field(default=(), repr=False)
    query: str = ""  # HTTP: the URL's query string, as sent

    @property
    def accepted(self) -> bool:
        """True when the request was answered with success."""
        return self.status in ("OK", "200")


# --- decoding ----------------------------------------------------------------------------


def decode_any_value(value: AnyValue) -> Any:
    """An OTLP ``AnyValue`` as a Python value (str/bool/int/float/bytes/list/dict/None)."""
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [decode_any_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return decode_attributes(value.kvlist_value.values)
    return getattr(value, kind)


def decode_attributes(attributes: Iterable[KeyValue]) -> dict[str, Any]:
    """Repeated ``KeyValue`` as a dict with typed values."""
    return {kv.key: decode_any_value(kv.value) for kv in attributes}


def _enum_suffix(name: str, prefix: str) -> str:
    return name.removeprefix(prefix)


def _flatten_spans(
    request: trace_service_pb2.ExportTraceServiceRequest, transport: Transport
) -> tuple[SpanRecord, ...]:
    records: list[SpanRecord] = []
    for resource_spans in request.resource_spans:
        resource = decode_attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                records.append(
                    SpanRecord(
                        name=span.name,
                        trace_id=span.trace_id.hex(),
                        span_id=span.span_id.hex(),
                        parent_span_id=span.parent_span_id.hex(),
                        start_ns=span.start_time_unix_nano,
                        end_ns=span.end_time_unix_nano,
                        kind=_enum_suffix(trace_pb2.Span.SpanKind.Name(span.kind), "SPAN_KIND_"),
                        status_code=_enum_suffix(
                            trace_pb2.Status.StatusCode.Name(span.status.code), "STATUS_CODE_"
                        ),
                        status_message=span.status.message,
                        attributes=decode_attributes(span.attributes),
                        resource=resource,
                        scope=scope_spans.scope.name,
                        scope_version=scope_spans.scope.version,
                        events=tuple(
                            SpanEvent(e.name, e.time_unix_nano, decode_attributes(e.attributes))
                            for e in span.events
                        ),
                        links=tuple((ln.trace_id.hex(), ln.span_id.hex()) for ln in span.links),
                        transport=transport,
                    )
                )
    return tuple(records)


def _optional(point: Message, name: str) -> Any:
    return getattr(point, name) if point.HasField(name) else None


def _data_points(metric: metrics_pb2.Metric, kind: str) -> tuple[DataPointRecord, ...]:
    points: list[DataPointRecord] = []
    for p in getattr(metric, kind).data_points:
        common: dict[str, Any] = {
            "attributes": decode_attributes(p.attributes),
            "start_ns": p.start_time_unix_nano,
            "time_ns": p.time_unix_nano,
        }
        if kind in ("gauge", "sum"):
            which = p.WhichOneof("value")
            points.append(DataPointRecord(**common, value=getattr(p, which) if which else None))
        elif kind == "histogram":
            points.append(
                DataPointRecord(
                    **common,
                    count=p.count,
                    sum=_optional(p, "sum"),
                    min=_optional(p, "min"),
                    max=_optional(p, "max"),
                    bucket_bounds=tuple(p.explicit_bounds),
                    bucket_counts=tuple(p.bucket_counts),
                )
            )
        elif kind == "exponential_histogram":
            points.append(
                DataPointRecord(
                    **common,
                    count=p.count,
                    sum=_optional(p, "sum"),
                    min=_optional(p, "min"),
                    max=_optional(p, "max"),
                )
            )
        else:  # summary
            points.append(DataPointRecord(**common, count=p.count, sum=p.sum))
    return tuple(points)


def _flatten_metrics(
    request: metrics_service_pb2.ExportMetricsServiceRequest, transport: Transport
) -> tuple[MetricRecord, ...]:
    records: list[MetricRecord] = []
    for resource_metrics in request.resource_metrics:
        resource = decode_attributes(resource_metrics.resource.attributes)
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                kind = metric.WhichOneof("data")
                if kind is None:
                    continue
                data = getattr(metric, kind)
                temporality = None
                if hasattr(data, "aggregation_temporality"):
                    temporality = _enum_suffix(
                        metrics_pb2.AggregationTemporality.Name(data.aggregation_temporality),
                        "AGGREGATION_TEMPORALITY_",
                    ).lower()
                records.append(
                    MetricRecord(
                        name=metric.name,
                        description=metric.description,
                        unit=metric.unit,
                        type=kind,
                        temporality=temporality,
                        is_monotonic=data.is_monotonic if kind == "sum" else None,
                        data_points=_data_points(metric, kind),
                        resource=resource,
                        scope=scope_metrics.scope.name,
                        transport=transport,
                    )
                )
    return tuple(records)


def _decompress(body: bytes, encoding: str | None) -> bytes:
    if encoding in (None, "", "identity"):
        return body
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    raise ValueError(f"unsupported content encoding {encoding!r}")


def _sniff_grpc_compression(raw: bytes) -> str | None:
    """Compression of a raw gRPC message (the server does not decompress; see ``_GrpcFrontend``).

    An OTLP export request starts with protobuf tag 0x0a (field 1), never with the gzip
    magic ``1f 8b`` nor a zlib header ``78 xx``.
    """
    if raw[:2] == b"\x1f\x8b":
        return "gzip"
    if len(raw) >= 2 and raw[0] == 0x78 and (raw[0] << 8 | raw[1]) % 31 == 0:
        return "deflate"
    return None


def _http_signal(path: str) -> Signal:
    """The signal of an OTLP/HTTP path: any prefix, then ``/v1/traces`` or ``/v1/metrics``."""
    tail = path.rstrip("/").rsplit("/", 2)[-2:]
    if tail == ["v1", "traces"]:
        return "traces"
    if tail == ["v1", "metrics"]:
        return "metrics"
    return "unknown"


def _merge_headers(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Headers with lower-cased keys; repeated keys joined with ", "."""
    headers: dict[str, str] = {}
    for key, value in items:
        lower = key.lower()
        headers[lower] = f"{headers[lower]}, {value}" if lower in headers else value
    return headers


def _hex_ids_to_base64(node: Any) -> Any:
    """OTLP/JSON writes trace/span ids as hex; protobuf's JSON mapping wants base64."""
    if isinstance(node, dict):
        return {
            k: (
                base64.b64encode(bytes.fromhex(v)).decode()
                if k in _OTLP_HEX_ID_KEYS and isinstance(v, str)
                else _hex_ids_to_base64(v)
            )
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_hex_ids_to_base64(v) for v in node]
    return node


def _parse(signal: Signal, payload: bytes, content_type: str) -> Message:
    message = _REQUEST_TYPES[signal]()
    if content_type == "json":
        json_format.ParseDict(
            _hex_ids_to_base64(json.loads(payload)), message, ignore_unknown_fields=True
        )
    else:
        message.ParseFromString(payload)
    return message


# --- faults ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Answer:
    http_status: int = 200
    grpc_code: grpc.StatusCode = grpc.StatusCode.OK
    retry_after: float | None = None
    message: str = ""
    body: bytes | None = None  # HTTP only: sent as is instead of a google.rpc.Status
    content_type: str | None = None  # with ``body``


class _Faults:
    """Per-transport answer and stall switch, shared by the request handlers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._answer: dict[Transport, _Answer] = {t: _Answer() for t in TRANSPORTS}
        self._stalled: dict[Transport, bool] = dict.fromkeys(TRANSPORTS, False)
        self._gate = threading.Event()
        self._delays: dict[Transport, list[float]] = {t: [] for t in TRANSPORTS}

    def answer(self, transport: Transport) -> _Answer:
        with self._lock:
            return self._answer[transport]

    def set_answer(self, transports: tuple[Transport, ...], answer: _Answer) -> None:
        with self._lock:
            for t in transports:
                self._answer[t] = answer

    def delay(self, transports: tuple[Transport, ...], seconds: float, count: int) -> None:
        with self._lock:
            for t in transports:
                self._delays[t] = [seconds] * count

    def take_delay(self, transport: Transport) -> float:
        """Seconds the next request waits before its answer (0 when none is set)."""
        with self._lock:
            return self._delays[transport].pop(0) if self._delays[transport] else 0.0

    def gate(self, transport: Transport) -> threading.Event | None:
        """The event a new request must wait on, or None when not stalled."""
        with self._lock:
            return self._gate if self._stalled[transport] else None

    def stall(self, transports: tuple[Transport, ...]) -> None:
        with self._lock:
            if not any(self._stalled.values()):
                self._gate = threading.Event()
            for t in transports:
                self._stalled[t] = True

    def release(self) -> None:
        with self._lock:
            self._stalled = dict.fromkeys(TRANSPORTS, False)
            self._delays = {t: [] for t in TRANSPORTS}
            self._gate.set()


def _wait_gate(gate: threading.Event, client_alive: Callable[[], bool]) -> bool:
    """Wait until ``gate`` opens (True) or the client is gone (False)."""
    while not gate.wait(_POLL_S):
        if not client_alive():
            return False
    return True


# --- gRPC --------------------------------------------------------------------------------

_ANSWER_TRANSIT_S = 0.1  # an answer sent this close to the client's deadline may arrive after it


def _client_gave_up(context: grpc.ServicerContext) -> bool:
    """True when the client's deadline has passed (or is too close for the answer to reach
    it in time): the client will report a failure for a request the receiver keeps."""
    remaining = context.time_remaining()
    return not context.is_active() or (remaining is not None and remaining < _ANSWER_TRANSIT_S)


class _GrpcFrontend(grpc.GenericRpcHandler):
    """grpcio server on 127.0.0.1; gets raw (still compressed) messages so it can tell."""

    def __init__(self, receiver: OtlpReceiver, host: str) -> None:
        self._receiver = receiver
        self._host = host
        self._server: grpc.Server | None = None
        self._executor: ThreadPoolExecutor | None = None
        self.port = 0

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> None:
        if self._server is not None:
            return
        self._executor = ThreadPoolExecutor(max_workers=16, thread_name_prefix="otlp-grpc")
        server = grpc.server(
            self._executor,
            handlers=[self],
            options=[("grpc.per_message_decompression", 0), ("grpc.so_reuseport", 0)],
        )
        port = server.add_insecure_port(f"{self._host}:{self.port}")
        if not port or (self.port and port != self.port):
            raise RuntimeError(f"gRPC receiver could not bind {self._host}:{self.port}")
        self.port = port
        server.start()
        self._server = server

    def stop(self) -> None:
        server, executor = self._server, self._executor
        self._server = self._executor = None
        if server is not None:
            server.stop(grace=0).wait(1.0)
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    def service(self, handler_call_details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler:
        path = handler_call_details.method
        signal = _GRPC_METHODS.get(path, "unknown")
        response_type = _RESPONSE_TYPES.get(signal)

        def handle(raw: bytes, context: grpc.ServicerContext) -> Message:
            return self._handle(path, signal, raw, context)

        return grpc.unary_unary_rpc_method_handler(
            handle,
            request_deserializer=None,
            response_serializer=response_type.SerializeToString if response_type else None,
        )

    def _handle(
        self, path: str, signal: Signal, raw: bytes, context: grpc.ServicerContext
    ) -> Message:
        headers = _merge_headers(
            (key, value.decode("latin-1") if isinstance(value, bytes) else value)
            for key, value in context.invocation_metadata()
        )
        compression = _sniff_grpc_compression(raw)
        message, error = None, None
        if signal != "unknown":
            try:
                message = _parse(signal, _decompress(raw, compression), "protobuf")
            except (DecodeError, OSError, ValueError, zlib.error) as exc:
                error = f"{type(exc).__name__}: {exc}"
        request = self._receiver._record(
            "grpc", signal, path, headers, compression, "protobuf", len(raw), message, error
        )

        gate = self._receiver._faults.gate("grpc")
        if gate is not None and not _wait_gate(gate, context.is_active):
            self._receiver._answered(request, "abandoned")
            context.abort(grpc.StatusCode.CANCELLED, "stalled request abandoned")
        time.sleep(self._receiver._faults.take_delay("grpc"))

        answer = self._receiver._faults.answer("grpc")
        code, details = answer.grpc_code, answer.message
        if code == grpc.StatusCode.OK:
            if signal == "unknown":
                code, details = grpc.StatusCode.UNIMPLEMENTED, f"unknown method {path}"
            elif error is not None:
                code, details = grpc.StatusCode.INVALID_ARGUMENT, error
        if code != grpc.StatusCode.OK:
            if answer.retry_after is not None:
                delay = Duration()
                delay.FromNanoseconds(int(answer.retry_after * 1e9))
                info = RetryInfo(retry_delay=delay).SerializeToString()
                context.set_trailing_metadata((("google.rpc.retryinfo-bin", info),))
            self._receiver._answered(request, code.name, late=_client_gave_up(context))
            context.abort(code, details)
        self._receiver._answered(request, "OK", late=_client_gave_up(context))
        return _RESPONSE_TYPES[signal]()


# --- HTTP --------------------------------------------------------------------------------


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    frontend: _HttpFrontend


class _HttpHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HttpServer

    def setup(self) -> None:
        super().setup()
        self.server.frontend.track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.frontend.track(self.connection, add=False)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def do_POST(self) -> None:
        try:
            self.server.frontend.handle_post(self)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def client_alive(self) -> bool:
        """False once the peer closed (or the server shut) the connection."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return not readable or self.connection.recv(1, socket.MSG_PEEK) != b""
        except (OSError, ValueError):
            return False

    def read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def reply(self, status: int, body: bytes, content_type: str, extra: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in extra.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()


class _HttpFrontend:
    """ThreadingHTTPServer in a thread; tracks open connections so ``stop`` can cut them."""

    def __init__(self, receiver: OtlpReceiver, host: str) -> None:
        self._receiver = receiver
        self._host = host
        self._server: _HttpServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._connections: dict[socket.socket, threading.Thread] = {}
        self.port = 0

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> None:
        if self._server is not None:
            return
        server = _HttpServer((self._host, self.port), _HttpHandler)
        server.frontend = self
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="otlp-http",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        with self._lock:
            connections = dict(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + 1.0
        for handler_thread in [*connections.values(), thread]:
            if handler_thread is not None and handler_thread is not threading.current_thread():
                handler_thread.join(max(0.0, deadline - time.monotonic()))

    def track(self, conn: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._connections[conn] = threading.current_thread()
            else:
                self._connections.pop(conn, None)

    def handle_post(self, handler: _HttpHandler) -> None:
        path = urlsplit(handler.path).path
        signal = _http_signal(path)
        headers = _merge_headers(handler.headers.items())
        compression = (headers.get("content-encoding") or "").strip().lower() or None
        if compression == "identity":
            compression = None
        content_type = "json" if "json" in headers.get("content-type", "").lower() else "protobuf"
        body = handler.read_body()
        message, error = None, None
        if signal != "unknown":
            try:
                message = _parse(signal, _decompress(body, compression), content_type)
            except (DecodeError, OSError, ValueError, zlib.error, json_format.ParseError) as exc:
                error = f"{type(exc).__name__}: {exc}"
        request = self._receiver._record(
            "http",
            signal,
            path,
            headers,
            compression,
            content_type,
            len(body),
            message,
            error,
            query=urlsplit(handler.path).query,
        )

        gate = self._receiver._faults.gate("http")
        if gate is not None and not _wait_gate(gate, handler.client_alive):
            self._receiver._answered(request, "abandoned")
            handler.close_connection = True
            return
        time.sleep(self._receiver._faults.take_delay("http"))

        answer = self._receiver._faults.answer("http")
        status, text = answer.http_status, answer.message
        if status == 200:
            if signal == "unknown":
                status, text = 404, f"no OTLP signal at {path}"
            elif error is not None:
                status, text = 400, error
        extra: dict[str, str] = {}
        if status == 200:
            payload = _RESPONSE_TYPES[signal]()
        else:
            if answer.retry_after is not None:
                extra["Retry-After"] = f"{answer.retry_after:g}"
            if 300 <= status < 400:
                extra["Location"] = handler.path
            code = _HTTP_TO_GRPC.get(status, grpc.StatusCode.UNKNOWN).value[0]
            payload = RpcStatus(code=code, message=text)
        if status != 200 and answer.body is not None:
            body_out, mime = answer.body, answer.content_type or "text/plain; charset=utf-8"
        elif content_type == "json":
            body_out = json_format.MessageToJson(payload).encode()
            mime = "application/json"
        else:
            body_out = payload.SerializeToString()
            mime = "application/x-protobuf"
        self._receiver._answered(request, str(status), late=not handler.client_alive())
        handler.reply(status, body_out, mime, extra)


# --- the receiver ------------------------------------------------------------------------

_T = TypeVar("_T")


class OtlpReceiver:
    """OTLP receiver over gRPC and HTTP for tests; see the module docstring.

    Thread-safe. ``start()``/``stop()`` or use as a context manager.
    """

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self._faults = _Faults()
        self._lock = threading.Condition()
        self._requests: list[ReceivedRequest] = []
        self._grpc = _GrpcFrontend(self, host)
        self._http = _HttpFrontend(self, host)
        self._frontends: dict[Transport, _GrpcFrontend | _HttpFrontend] = {
            "grpc": self._grpc,
            "http": self._http,
        }

    # lifecycle
    def start(self) -> OtlpReceiver:
        """Start both servers (free ports the first time, the same ports after ``stop()``)."""
        self._grpc.start()
        self._http.start()
        return self

    def stop(self) -> None:
        """Stop both servers and cut open connections; stalled requests end ``"abandoned"``."""
        self._grpc.stop()
        self._http.stop()
        self._faults.release()

    def __enter__(self) -> OtlpReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # endpoints
    @property
    def grpc_port(self) -> int:
        return self._grpc.port

    @property
    def http_port(self) -> int:
        return self._http.port

    @property
    def grpc_endpoint(self) -> str:
        """``http://127.0.0.1:PORT`` for the OTLP gRPC exporters (scheme http = insecure)."""
        return f"http://{self.host}:{self._grpc.port}"

    @property
    def http_endpoint(self) -> str:
        """``http://127.0.0.1:PORT``: the base for ``OTEL_EXPORTER_OTLP_ENDPOINT``."""
        return f"http://{self.host}:{self._http.port}"

    def http_url(self, path: str = "/v1/traces") -> str:
        """Full URL for an OTLP/HTTP exporter, e.g. ``http_url("/api/public/otel/v1/traces")``."""
        return f"{self.http_endpoint}/{path.lstrip('/')}"

    # faults
    def fail_with(
        self,
        http_status: int | None = None,
        grpc_code: grpc.StatusCode | None = None,
        *,
        retry_after: float | None = None,
        message: str = "fault injected by OtlpReceiver",
        body: bytes | str | None = None,
        content_type: str | None = None,
    ) -> None:
        """Answer every request with this HTTP status / gRPC code until ``reset_faults()``.

        Give one or both; the missing one is derived (401 <-> UNAUTHENTICATED, 503 <->
        UNAVAILABLE, ...). ``200`` / ``StatusCode.OK`` means "answer normally" for that
        transport. ``retry_after`` adds a ``Retry-After`` header (HTTP) or a
        ``google.rpc.RetryInfo`` trailer (gRPC), both of which the OTLP exporters honour.
        ``body`` (with ``content_type``, default text/plain) replaces the HTTP error body,
        a ``google.rpc.Status`` carrying ``message`` otherwise; gRPC still gets ``message``
        as its status details.
        """
        if http_status is None and grpc_code is None:
            raise ValueError("give http_status, grpc_code or both")
        if http_status is None:
            assert grpc_code is not None
            http_status = _GRPC_TO_HTTP[grpc_code]
        if grpc_code is None:
            grpc_code = (
                grpc.StatusCode.OK
                if 200 <= http_status < 300
                else _HTTP_TO_GRPC.get(http_status, grpc.StatusCode.UNKNOWN)
            )
        raw = body.encode() if isinstance(body, str) else body
        self._faults.set_answer(
            ("http",),
            _Answer(
                http_status,
                retry_after=retry_after,
                message=message,
                body=raw,
                content_type=content_type,
            ),
        )
        self._faults.set_answer(
            ("grpc",), _Answer(grpc_code=grpc_code, retry_after=retry_after, message=message)
        )

    def stall(self, transport: Transport | None = None) -> None:
        """Accept requests but do not answer them until ``release()``/``reset_faults()``.

        A stalled request is recorded on arrival; if its client gives up (or the server goes
        down) while it waits, its status becomes ``"abandoned"``.
        """
        self._faults.stall(self._pick(transport))

    def delay(self, seconds: float, count: int = 1, transport: Transport | None = None) -> None:
        """Answer the next ``count`` requests only after ``seconds``, even if their client has
        given up meanwhile (they are then recorded as ``late``): a slow backend that keeps
        data its client counted as failed."""
        self._faults.delay(self._pick(transport), seconds, count)

    def release(self) -> None:
        """Let stalled requests go on (answered as ``fail_with`` says, else OK); stop stalling
        and delaying."""
        self._faults.release()

    def reset_faults(self) -> None:
        """Answer normally again: clears ``fail_with`` and releases any stall."""
        self._faults.set_answer(TRANSPORTS, _Answer())
        self._faults.release()

    def down(self, transport: Transport | None = None) -> None:
        """Stop listening (connection refused) and cut open connections; ports are kept."""
        for t in self._pick(transport):
            self._frontends[t].stop()

    def up(self, transport: Transport | None = None) -> None:
        """Listen again on the same port(s) after ``down()``."""
        for t in self._pick(transport):
            self._frontends[t].start()

    def is_up(self, transport: Transport) -> bool:
        return self._frontends[transport].running

    # recorded data
    @property
    def requests(self) -> list[ReceivedRequest]:
        """Every request received so far, failing ones included, in arrival order."""
        with self._lock:
            return list(self._requests)

    def request_count(
        self, transport: Transport | None = None, signal: Signal | None = None
    ) -> int:
        return sum(
            1
            for r in self.requests
            if (transport is None or r.transport == transport)
            and (signal is None or r.signal == signal)
        )

    def spans(self, name: str | None = None, *, include_rejected: bool = False) -> list[SpanRecord]:
        """Spans of accepted requests (all requests with ``include_rejected``), by arrival."""
        return [
            s
            for r in self.requests
            if include_rejected or r.accepted
            for s in r.spans
            if name is None or s.name == name
        ]

    def metrics(
        self, name: str | None = None, *, include_rejected: bool = False
    ) -> list[MetricRecord]:
        """Metrics of accepted requests (all requests with ``include_rejected``), by arrival."""
        return [
            m
            for r in self.requests
            if include_rejected or r.accepted
            for m in r.metrics
            if name is None or m.name == name
        ]

    def clear(self) -> None:
        """Forget every recorded request (faults are kept)."""
        with self._lock:
            self._requests.clear()

    def wait_for_spans(
        self, predicate_or_count: int | Callable[[SpanRecord], bool], timeout: float = 5.0
    ) -> list[SpanRecord]:
        """Wait until N spans were accepted, or one accepted span satisfies the predicate.

        Returns every accepted span; raises ``TimeoutError`` naming what did arrive.
        """
        return self._wait(self.spans, predicate_or_count, timeout, lambda s: s.name)

    def wait_for_metrics(
        self, predicate_or_count: int | Callable[[MetricRecord], bool], timeout: float = 5.0
    ) -> list[MetricRecord]:
        """Like ``wait_for_spans`` for metric records."""
        return self._wait(self.metrics, predicate_or_count, timeout, lambda m: m.name)

    def wait_for_requests(
        self, predicate_or_count: int | Callable[[ReceivedRequest], bool], timeout: float = 5.0
    ) -> list[ReceivedRequest]:
        """Like ``wait_for_spans`` over every received request (failing ones included)."""
        return self._wait(
            lambda: self.requests, predicate_or_count, timeout, lambda r: f"{r.path}:{r.status}"
        )

    # internals
    def _wait(
        self,
        items: Callable[[], list[_T]],
        predicate_or_count: int | Callable[[_T], bool],
        timeout: float,
        describe: Callable[[_T], str],
    ) -> list[_T]:
        if isinstance(predicate_or_count, int):
            count = predicate_or_count

            def done(xs: list[_T]) -> bool:
                return len(xs) >= count
        else:
            predicate = predicate_or_count

            def done(xs: list[_T]) -> bool:
                return any(predicate(x) for x in xs)

        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                current = items()
                if done(current):
                    return current
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = ", ".join(describe(x) for x in current[:50]) or "nothing"
                    raise TimeoutError(
                        f"waited {timeout:g}s for {predicate_or_count!r}; "
                        f"have {len(current)}: {seen}"
                    )
                self._lock.wait(remaining)

    def _pick(self, transport: Transport | None) -> tuple[Transport, ...]:
        if transport is None:
            return TRANSPORTS
        if transport not in TRANSPORTS:
            raise ValueError(f"transport must be one of {TRANSPORTS}, not {transport!r}")
        return (transport,)

    def _record(
        self,
        transport: Transport,
        signal: Signal,
        path: str,
        headers: dict[str, str],
        compression: str | None,
        content_type: str,
        body_size: int,
        message: Message | None,
        error: str | None,
        *,
        query: str = "",
    ) -> ReceivedRequest:
        spans: tuple[SpanRecord, ...] = ()
        metrics: tuple[MetricRecord, ...] = ()
        if isinstance(message, trace_service_pb2.ExportTraceServiceRequest):
            spans = _flatten_spans(message, transport)
        elif isinstance(message, metrics_service_pb2.ExportMetricsServiceRequest):
            metrics = _flatten_metrics(message, transport)
        request = ReceivedRequest(
            transport=transport,
            signal=signal,
            path=path,
            headers=headers,
            compression=compression,
            content_type=content_type,
            body_size=body_size,
            message=message,
            error=error,
            received_at=time.monotonic(),
            spans=spans,
            metrics=metrics,
            query=query,
        )
        with self._lock:
            self._requests.append(request)
            self._lock.notify_all()
        return request

    def _answered(self, request: ReceivedRequest, status: str, *, late: bool = False) -> None:
        with self._lock:
            request.status = status
            request.late = late
            request.answered_at = time.monotonic()
            self._lock.notify_all()
