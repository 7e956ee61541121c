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
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from ..configure.backends import Backend, ExportTarget
from ..configure.env import Environ, environ, parse_positive_float
from ..configure.redaction import redact_text
from ..configure.resource import build_resource
from ..configure.selection import backend_from_name, coerce_backends
from ..errors import ConfigError
from ..version import __version__
from . import diagnostics
from .explain import READ_LIMIT, HttpAnswer, explain, target_secrets
from .factory import create_span_exporter

CHECK_SPAN_NAME = "lk_otel.check"
DEFAULT_TIMEOUT = 5.0
GRACE = 0.5  # waited beyond ``timeout`` so an exporter can report its own deadline
_POLL = 0.02
_NOT_RETRYABLE = frozenset({"tls", "dns", "refused", "protocol", "client"})


@dataclass(frozen=True)
class CheckResult:
    """The outcome for one backend. Nothing in it is a secret.

    ``kind`` is ``"ok"``, ``"config"`` (the configuration is wrong, nothing was sent) or a
    :class:`lk_otel.export.diagnostics.Cause` kind (``"refused"``, ``"auth"``, ``"timeout"``...)
    or one of :mod:`lk_otel.export.explain`'s: ``"rejected"`` (the backend refused the
    request as invalid, or a thing it names), ``"redirect"``, ``"server_error"``,
    ``"protocol"`` (gRPC to an HTTP/1.1 server or the other way round), ``"client"`` (the
    exporter could not send at all).
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
            body=(response.content or b"")[:READ_LIMIT],
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
        return redact_text(text, target_secrets(self.target))


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
