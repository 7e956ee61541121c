"""Send one test trace to each backend and say, in plain words, whether it arrived.

The export runs through the same official exporter ``setup_tracing()`` would build, on a
daemon thread per backend (all in parallel). The whole check is bounded: the exporters get
``timeout`` and the caller waits at most ``timeout`` plus a short grace, so a stalled backend
cannot hang it. A failure that retrying cannot fix (connection refused, TLS, DNS) is
reported as soon as the exporter logs it, without waiting for its retries.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
import threading
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from google.protobuf.message import DecodeError
from google.rpc.status_pb2 import Status as RpcStatus
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from .. import __version__
from ..configure.backends import Backend, ExportTarget, backend_from_name, coerce_backends
from ..configure.env import Environ, environ, parse_positive_float
from ..configure.redaction import header_secrets, redact_text, redact_url, url_secrets
from ..configure.resource import build_resource
from ..errors import ConfigError
from . import diagnostics
from .factory import create_span_exporter

CHECK_SPAN_NAME = "lk_otel.check"
DEFAULT_TIMEOUT = 5.0
GRACE = 0.5  # waited beyond ``timeout`` so an exporter can report its own deadline
_POLL = 0.02
_NOT_RETRYABLE = frozenset({"tls", "dns", "refused", "protocol", "client"})
BODY_LIMIT = 200  # characters of a response body (or gRPC details) shown
_READ_LIMIT = 64 * 1024  # bytes of a response body kept for that
# ports where a refused gRPC connection suggests OTLP/HTTP, and the other way round
KNOWN_HTTP_PORTS: dict[int, str] = {
    4318: "the OTLP/HTTP port",
    6006: "Arize Phoenix's OTLP/HTTP port",
    3000: "self-hosted Langfuse's port (OTLP/HTTP only)",
    5000: "MLflow's port (OTLP/HTTP)",
}
KNOWN_GRPC_PORTS: dict[int, str] = {4317: "the OTLP/gRPC port"}


@dataclass(frozen=True)
class CheckResult:
    """The outcome for one backend. Nothing in it is a secret.

    ``kind`` is ``"ok"``, ``"config"`` (the configuration is wrong, nothing was sent) or a
    :class:`lk_otel.export.diagnostics.Cause` kind (``"refused"``, ``"auth"``, ``"timeout"``...)
    or one of this module's: ``"rejected"`` (the backend refused the request as invalid, or a
    thing it names), ``"redirect"``, ``"server_error"``, ``"protocol"`` (gRPC to an HTTP/1.1
    server or the other way round), ``"client"`` (the exporter could not send at all).
    """

    backend: str
    ok: bool
    kind: str
    destination: str  # e.g. "http://localhost:4317 (grpc)"; no credentials, no query
    seconds: float | None = None  # round trip of the export, when it succeeded
    cause: str | None = None  # plain words, when it failed
    trace_id: str | None = None  # of the test trace, when something was sent


def check_backends(
    backends: Sequence[Backend | str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    *,
    env: Environ | None = None,
    resource: Resource | None = None,
) -> list[CheckResult]:
    """Send one ``lk_otel.check`` span to each backend; one result per backend, in order.

    ``backends`` are names or backend objects; None chooses them from the environment
    exactly as ``setup_tracing()`` does. ``env`` defaults to ``os.environ``; ``resource`` to
    the one ``setup_tracing()`` would build. Returns within about ``timeout + GRACE``
    seconds. Raises ``ConfigError`` for a bad ``timeout`` or resource configuration; a
    backend's own ``ConfigError`` becomes its failed result.
    """
    timeout = parse_positive_float(timeout, "timeout")
    env = environ() if env is None else env
    if resource is None:
        resource = build_resource(
            env, service_name=None, service_version=None, environment=None, extra=None
        )
    items: Sequence[object] = coerce_backends(None, env) if backends is None else backends
    span = _test_span(resource)
    trace_id = f"{span.context.trace_id:032x}" if span.context else None
    diagnostics.install()

    slots: list[CheckResult | _Probe] = []
    for item in items:
        label = item if isinstance(item, str) else getattr(item, "name", type(item).__name__)
        try:
            backend = backend_from_name(item) if isinstance(item, str) else item
            if not isinstance(backend, Backend):
                raise ConfigError(f"backend: expected a name or a backend object, got {label}")
            target = backend.resolve(env)
            if target is None:
                raise ConfigError(f"{backend.name}: this backend does not take traces")
        except ConfigError as exc:
            slots.append(
                CheckResult(str(label), ok=False, kind="config", destination="-", cause=str(exc))
            )
            continue
        probe = _Probe(dataclasses.replace(target, timeout=timeout), span)
        probe.start()
        slots.append(probe)

    probes = [s for s in slots if isinstance(s, _Probe)]
    _wait(probes, time.monotonic() + timeout + GRACE)
    return [s if isinstance(s, CheckResult) else s.outcome(timeout, trace_id) for s in slots]


def _test_span(resource: Resource) -> ReadableSpan:
    """One ended span named ``lk_otel.check`` carrying ``resource``."""
    tracer = TracerProvider(resource=resource).get_tracer("lk_otel", __version__)
    span = tracer.start_span(CHECK_SPAN_NAME, attributes={CHECK_SPAN_NAME: True})
    span.end()
    return span  # type: ignore[return-value]  # an ended SDK span is a ReadableSpan


def _wait(probes: list[_Probe], deadline: float) -> None:
    """Until every probe finished or failed beyond retry, or ``deadline``."""
    pending = list(probes)
    while pending:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        pending[0].done.wait(min(_POLL, remaining))
        pending = [p for p in pending if not p.done.is_set() and not p.hopeless()]


@dataclass(frozen=True)
class HttpAnswer:
    """What an HTTP backend answered: status, reason phrase, content type, body (bounded)."""

    status: int
    reason: str = ""
    content_type: str = ""
    body: bytes = b""
    location: str | None = None


class _AnswerRecorder(requests.Session):
    """A requests session that keeps the last answer, body included (the exporter logs only
    the status and reason phrase)."""

    last: HttpAnswer | None = None

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        response = super().request(method, url, *args, **kwargs)
        self.last = HttpAnswer(
            status=response.status_code,
            reason=response.reason or "",
            content_type=response.headers.get("content-type", ""),
            body=(response.content or b"")[:_READ_LIMIT],
            location=response.headers.get("location"),
        )
        return response


_HTTP_COMPRESSION = {"gzip": "Gzip", "deflate": "Deflate", "none": "NoCompression"}


def _exporter(target: ExportTarget, recorder: _AnswerRecorder | None) -> SpanExporter:
    """The official exporter of ``target``; an OTLP/HTTP one on ``recorder``'s session."""
    if recorder is None:
        return create_span_exporter(target)
    from opentelemetry.exporter.otlp.proto.http import Compression
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    compression = target.compression and getattr(Compression, _HTTP_COMPRESSION[target.compression])
    return OTLPSpanExporter(
        endpoint=target.endpoint,
        headers=dict(target.headers),
        timeout=target.timeout,
        compression=compression or None,
        session=recorder,
    )


class _Probe(threading.Thread):
    """Builds the exporter for one target and exports the test span, on a daemon thread."""

    def __init__(self, target: ExportTarget, span: ReadableSpan) -> None:
        super().__init__(name=f"lk_otel-check-{target.label}", daemon=True)
        self.target = target
        self.span = span
        self.done = threading.Event()
        self.messages: list[str] = []
        self.result: SpanExportResult | None = None
        self.seconds: float | None = None
        self.error: str | None = None
        self._exporter: SpanExporter | None = None
        self._lock = threading.Lock()
        http = target.kind == "otlp" and target.protocol == "http/protobuf"
        self.recorder = _AnswerRecorder() if http else None

    def run(self) -> None:
        with diagnostics.capture() as messages:
            self.messages = messages
            try:
                exporter = _exporter(self.target, self.recorder)
                with self._lock:
                    self._exporter = exporter
                started = time.perf_counter()
                result = exporter.export([self.span])
                self.seconds = time.perf_counter() - started
                self.result = result
            except Exception as exc:  # report it; never let it escape a daemon thread
                self.error = f"{type(exc).__name__}: {exc}"
            finally:
                self.stop()
                self.done.set()

    def stop(self) -> None:
        """Shut the exporter down once (this also cuts short its retry back-off)."""
        with self._lock:
            exporter, self._exporter = self._exporter, None
        if exporter is not None:
            with contextlib.suppress(Exception):
                exporter.shutdown()

    def cause(self) -> diagnostics.Cause:
        return explain(
            list(self.messages),
            self.target,
            self.recorder.last if self.recorder is not None else None,
        )

    def hopeless(self) -> bool:
        """True once the exporter logged a failure that retrying will not fix."""
        return bool(self.messages) and self.cause().kind in _NOT_RETRYABLE

    def outcome(self, timeout: float, trace_id: str | None) -> CheckResult:
        """The result as of now; stops the exporter if it is still trying."""
        finished = self.done.is_set()
        if not finished:
            self.stop()
        base = CheckResult(
            self.target.label,
            ok=False,
            kind="unknown",
            destination=destination(self.target),
            trace_id=trace_id,
        )
        answer = self.recorder.last if self.recorder is not None else None
        redirected = answer is not None and 300 <= answer.status < 400
        if finished and self.result is SpanExportResult.SUCCESS and not redirected:
            return dataclasses.replace(base, ok=True, kind="ok", seconds=self.seconds)
        if finished and self.error is not None:
            text = f"the exporter failed before anything was sent ({self.error})"
            return dataclasses.replace(base, kind="client", cause=self._redact(text))
        cause = self.cause()
        ran_out = finished and cause.kind == "unknown" and (self.seconds or 0) >= 0.9 * timeout
        if (
            (ran_out or not finished)
            and cause.kind not in _NOT_RETRYABLE
            and cause.kind != "unavailable"
        ):
            cause = diagnostics.Cause(
                "timeout", f"the backend did not answer within {timeout:g} s (timeout)"
            )
        return dataclasses.replace(base, kind=cause.kind, cause=self._redact(cause.text))

    def _redact(self, text: str) -> str:
        return redact_text(text, _secrets(self.target))


def destination(target: ExportTarget) -> str:
    """Where ``target`` sends, for display: no credentials, no query string."""
    if target.kind == "console":
        return "stdout"
    if target.kind == "file":
        return f"file {target.path}"
    parts = urlsplit(target.endpoint or "")
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    with contextlib.suppress(ValueError):
        if parts.port is not None:
            netloc += f":{parts.port}"
    return f"{urlunsplit((parts.scheme, netloc, parts.path, '', ''))} ({target.protocol})"


def _secrets(target: ExportTarget) -> set[str]:
    """What must never be printed for ``target``: header values and URL credentials."""
    return header_secrets(target.headers) | url_secrets(target.endpoint or "")


# --- what went wrong, in plain words -------------------------------------------------------

_GRPC_FAILED = re.compile(r"error code: StatusCode\.([A-Z_]+), error details: (.*)", re.S)
_GRPC_RETRIED = re.compile(
    r"Transient error StatusCode\.([A-Z_]+) encountered.*?Error details: (.*)", re.S
)
_GRPC_CLIENT = (
    "invalid metadata",
    "illegal header",
    "exception serializing request",
    "exception iterating requests",
    "exception deserializing response",
)
_GRPC_TO_HTTP1 = ("failed parsing http/2", "http1.x server")
_HTTP_CLIENT = re.compile(r"batch code: None, reason: (.*)", re.S)
_MISSING_HEADER = (
    re.compile(
        r"\bheader\s+['\"`]?([A-Za-z0-9][\w.-]*)['\"`]?\s*(?::|is|was)?\s*(?:field\s+)?"
        r"(?:missing|required|not\s+(?:set|provided|present|found))",
        re.I,
    ),
    re.compile(
        r"\b(?:missing|required|no)\s+(?:request\s+)?header\s*[:=]?\s*['\"`]?"
        r"([A-Za-z0-9][\w.-]*)",
        re.I,
    ),
)
# words of a plain "no such path" answer: a 404 saying only these is about the URL's path
_ROUTE_WORDS = frozenset(
    {
        *("404", "not", "found", "page", "cannot", "post", "no", "route", "matches"),
        *("matched", "the", "requested", "url", "was", "on", "this", "server", "error"),
        *("http", "path", "unknown", "endpoint", "handler", "for", "method", "a", "an"),
        *("file", "or", "directory", "does", "exist", "status", "code", "resource"),
        *("detail", "nginx", "apache"),
    }
)
_NAME_NOISE = frozenset(
    {
        *("x", "api", "key", "id", "ids", "token", "auth", "authorization", "bearer"),
        *("header", "otel", "otlp", "version"),
    }
)


def explain(
    messages: list[str], target: ExportTarget, answer: HttpAnswer | None
) -> diagnostics.Cause:
    """The cause of a failed check export: from the HTTP answer when there is one, else
    from the exporter's log lines (gRPC status and details, connection errors)."""
    hint = f"; check {target.auth_hint}" if target.auth_hint else "; check the headers"
    if answer is not None and not 200 <= answer.status < 300:
        return http_cause(answer, target, hint)
    text = " ".join(messages)
    lowered = text.lower()
    if target.protocol == "grpc" and any(m in lowered for m in _GRPC_TO_HTTP1):
        return diagnostics.Cause(
            "protocol",
            f"{_host_port(target)} answered in HTTP/1.1, not gRPC: it is likely an OTLP/HTTP "
            "endpoint; set protocol http/protobuf (OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf)",
        )
    if target.protocol == "http/protobuf" and "badstatusline" in lowered:
        return diagnostics.Cause(
            "protocol",
            f"{_host_port(target)} did not answer in HTTP/1.1 (an OTLP/gRPC port?): set "
            "protocol grpc (OTEL_EXPORTER_OTLP_PROTOCOL=grpc)",
        )
    base = diagnostics.classify(messages, auth_hint=target.auth_hint)
    if base.kind == "refused":
        return refused_cause(target)
    if base.kind in ("tls", "dns"):
        return base
    status = grpc_status(messages) if target.protocol == "grpc" else None
    if status is not None and status[0] not in ("DEADLINE_EXCEEDED", "CANCELLED"):
        return grpc_cause(*status, target, hint)
    if base.kind == "unknown" and (client := _HTTP_CLIENT.search(text)):
        reason = bounded(redact_text(client.group(1), _secrets(target)))
        return diagnostics.Cause(
            "client",
            f"the HTTP client could not send the request ({reason}): "
            "nothing reached the backend; check the endpoint and headers",
        )
    return base


def http_cause(answer: HttpAnswer, target: ExportTarget, hint: str) -> diagnostics.Cause:
    """Plain words for an HTTP error answer, matched to what its body says."""
    status = answer.status
    # redacted before it is cut: a secret cut in two would not be found any more
    whole = body_summary(answer.content_type, answer.body, limit=_READ_LIMIT)
    said = bounded(redact_text(whole, _secrets(target)))
    tail = f' — the backend said: "{said}"' if said else ""
    what = f"HTTP {status}"
    if 300 <= status < 400:
        where = redact_url(answer.location) if answer.location else "another URL"
        return diagnostics.Cause(
            "redirect",
            f"the endpoint redirects ({what}) to {where}: use that URL (OTLP exporters do "
            "not follow redirects)",
        )
    if status in (401, 403):
        return diagnostics.Cause(
            "auth", f"the backend rejected the credentials ({what}){hint}{tail}"
        )
    missing = missing_header(said)
    if missing is not None and 400 <= status < 500:
        if missing in target.headers:
            return diagnostics.Cause(
                "rejected",
                f"the backend rejected header {missing!r} ({what}): check its value{tail}",
            )
        return diagnostics.Cause(
            "rejected",
            f"the backend says header {missing!r} is missing ({what}): add it (headers= or "
            f"OTEL_EXPORTER_OTLP_HEADERS){tail}",
        )
    if status == 404:
        if is_route_not_found(said, urlsplit(target.endpoint or "").path):
            return diagnostics.Cause(
                "not_found",
                f"the endpoint path does not exist ({what}): check the endpoint URL and "
                f"protocol{tail}",
            )
        related = related_headers(said, target.headers)
        check = (
            f"check header {', '.join(related)}" if related else "check the ids the headers carry"
        )
        return diagnostics.Cause(
            "rejected",
            f"the endpoint exists but the backend did not find something the request names "
            f"({what}): {check}{tail}",
        )
    if status == 405:
        return diagnostics.Cause(
            "not_found",
            f"the URL does not take POST ({what}): it is not an OTLP/HTTP traces endpoint; "
            "check the path (usually …/v1/traces)",
        )
    if status == 413:
        return diagnostics.Cause(
            "too_large", f"the backend refused the batch as too large ({what})"
        )
    if status == 415:
        return diagnostics.Cause(
            "rejected",
            f"the backend does not take OTLP/protobuf at this URL ({what}): check the "
            f"endpoint path{tail}",
        )
    if status in (429, 502, 503, 504):
        reason = answer.reason or _phrase(status)
        return diagnostics.Cause(
            "unavailable",
            f"the backend kept answering {reason!r} ({what}) until the time ran out "
            f"(overloaded, starting up or rate-limiting){tail}",
        )
    if 400 <= status < 500:
        return diagnostics.Cause("rejected", f"the backend rejected the request ({what}){tail}")
    if status >= 500:
        return diagnostics.Cause("server_error", f"the backend failed ({what}){tail}")
    return diagnostics.Cause("status", f"the backend answered {what}{tail}")


def grpc_status(messages: list[str]) -> tuple[str, str] | None:
    """``(code name, details)`` of the last gRPC failure the exporter logged."""
    for message in reversed(messages):
        found = _GRPC_FAILED.search(message) or _GRPC_RETRIED.search(message)
        if found:
            return found.group(1), found.group(2).strip()
    return None


def grpc_cause(code: str, details: str, target: ExportTarget, hint: str) -> diagnostics.Cause:
    """Plain words for a gRPC status and its details."""
    said = bounded(redact_text(details, _secrets(target)))
    tail = f' — the backend said: "{said}"' if said else ""
    if code in ("INTERNAL", "UNKNOWN") and any(m in details.lower() for m in _GRPC_CLIENT):
        return diagnostics.Cause(
            "client",
            f"the gRPC client could not send the request ({said}): nothing reached the "
            "backend; check the headers (gRPC metadata: lower-case ASCII names, printable "
            "ASCII values)",
        )
    if code in ("UNAUTHENTICATED", "PERMISSION_DENIED"):
        return diagnostics.Cause(
            "auth", f"the backend rejected the credentials ({code}){hint}{tail}"
        )
    if code == "UNIMPLEMENTED":
        return diagnostics.Cause(
            "not_found",
            "the endpoint path does not exist (gRPC UNIMPLEMENTED): check the endpoint URL "
            f"and protocol (is it an OTLP/gRPC endpoint?){tail}",
        )
    if code == "RESOURCE_EXHAUSTED" and "metadata" in details.lower():
        return diagnostics.Cause(
            "too_large",
            f"the backend refused the headers as too large (gRPC {code}): gRPC servers "
            f"accept 8 KiB of metadata by default{tail}",
        )
    if code in ("UNAVAILABLE", "RESOURCE_EXHAUSTED"):
        return diagnostics.Cause(
            "unavailable",
            f"the backend kept answering gRPC {code} until the time ran out (overloaded, "
            f"starting up or rate-limiting){tail}",
        )
    missing = missing_header(said)
    if missing is not None and missing not in target.headers:
        return diagnostics.Cause(
            "rejected",
            f"the backend says header {missing!r} is missing (gRPC {code}): add it (headers= "
            f"or OTEL_EXPORTER_OTLP_HEADERS){tail}",
        )
    if code in ("INVALID_ARGUMENT", "FAILED_PRECONDITION", "NOT_FOUND"):
        return diagnostics.Cause(
            "rejected", f"the backend rejected the request (gRPC {code}){tail}"
        )
    return diagnostics.Cause("status", f"the backend answered gRPC {code}{tail}")


def refused_cause(target: ExportTarget) -> diagnostics.Cause:
    """Connection refused: where and over what, and the other protocol when the port is
    one that protocol usually has."""
    grpc = target.protocol == "grpc"
    port = _port(target)
    text = (
        f"connection refused by {_host_port(target)} (tried OTLP/{'gRPC' if grpc else 'HTTP'}): "
        "is the backend running and reachable?"
    )
    if grpc and port in KNOWN_HTTP_PORTS:
        text += (
            f" Port {port} is {KNOWN_HTTP_PORTS[port]}: if that is what listens there, set "
            "protocol http/protobuf (OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf)"
        )
    elif not grpc and port in KNOWN_GRPC_PORTS:
        text += (
            f" Port {port} is {KNOWN_GRPC_PORTS[port]}: if that is what listens there, set "
            "protocol grpc (OTEL_EXPORTER_OTLP_PROTOCOL=grpc)"
        )
    return diagnostics.Cause("refused", text)


def body_summary(content_type: str, body: bytes, limit: int = BODY_LIMIT) -> str:
    """The first meaningful part of a response body, on one line, at most ``limit`` chars:
    a ``google.rpc.Status`` message (OTLP's error body), a JSON error's message, an HTML
    page's title or text, or the text itself."""
    mime = content_type.partition(";")[0].strip().lower()
    text = ""
    if "protobuf" in mime or "grpc" in mime:
        text = _status_message(body)
    elif "json" in mime or body.lstrip()[:1] in (b"{", b"["):
        text = _json_message(body)
    if not text and "protobuf" not in mime:
        decoded = body.decode("utf-8", errors="replace")
        text = _html_text(decoded) if "html" in mime or decoded.lstrip()[:1] == "<" else decoded
    return bounded(text, limit)


def bounded(text: str, limit: int = BODY_LIMIT) -> str:
    """``text`` on one line, printable characters only, cut to ``limit`` with ``…``."""
    line = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def missing_header(text: str) -> str | None:
    """The header a backend's message says is missing or required, lower-cased."""
    for pattern in _MISSING_HEADER:
        found = pattern.search(text)
        if found:
            return found.group(1).lower()
    return None


def is_route_not_found(said: str, path: str) -> bool:
    """True when a 404's message is about the URL path (empty, generic, or naming the
    path), not about something the request names."""
    lowered = said.lower()
    if path and path.lower() in lowered:
        return True
    return set(re.findall(r"[a-z0-9]+", lowered)) <= _ROUTE_WORDS


def related_headers(said: str, headers: Collection[str]) -> list[str]:
    """Header names sharing a word with the message (``x-mlflow-experiment-id`` for
    "No Experiment with id=999 exists")."""
    words = set(re.findall(r"[a-z0-9]+", said.lower()))
    related = []
    for name in sorted(headers):
        parts = {p for p in re.split(r"[-_.]", name) if len(p) >= 3 and p not in _NAME_NOISE}
        if any(p in words or f"{p}s" in words for p in parts):
            related.append(name)
    return related


def _status_message(body: bytes) -> str:
    status = RpcStatus()
    try:
        status.ParseFromString(body)
    except DecodeError:
        return ""
    return status.message


def _json_message(body: bytes) -> str:
    try:
        node = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return ""
    return _message_of(node)


def _message_of(node: object, depth: int = 0) -> str:
    """The human message of a JSON error (``message``, ``detail``, ``error`` …)."""
    if depth > 4 or node is None:
        return ""
    if isinstance(node, str):
        return node
    if isinstance(node, list):
        return "; ".join(m for m in (_message_of(i, depth + 1) for i in node[:3]) if m)
    if isinstance(node, dict):
        if "loc" in node and "msg" in node:  # a FastAPI / pydantic validation error
            loc = node["loc"] if isinstance(node["loc"], list) else [node["loc"]]
            return f"{' '.join(map(str, loc))}: {node['msg']}"
        for key in ("message", "error_description", "detail", "error", "errors", "msg", "title"):
            if key in node and (found := _message_of(node[key], depth + 1)):
                return found
        return json.dumps(node)
    return str(node)


def _html_text(html: str) -> str:
    title = re.search(r"<title[^>]*>(.*?)</title>", html, re.I | re.S)
    if title and title.group(1).strip():
        return title.group(1)
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.I | re.S)
    return re.sub(r"<[^>]+>", " ", html)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"


def _port(target: ExportTarget) -> int | None:
    parts = urlsplit(target.endpoint or "")
    try:
        return parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        return None


def _host_port(target: ExportTarget) -> str:
    host = urlsplit(target.endpoint or "").hostname or "?"
    host = f"[{host}]" if ":" in host else host
    port = _port(target)
    return f"{host}:{port}" if port else host
