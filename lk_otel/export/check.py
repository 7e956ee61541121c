"""Send one test trace to each backend and say, in plain words, whether it arrived.

The export runs through the same official exporter ``setup_tracing()`` would build, on a
daemon thread per backend (all in parallel). The whole check is bounded: the exporters get
``timeout`` and the caller waits at most ``timeout`` plus a short grace, so a stalled backend
cannot hang it. A failure that retrying cannot fix (connection refused, TLS, DNS) is
reported as soon as the exporter logs it, without waiting for its retries.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import dataclasses
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from .. import __version__
from ..configure.backends import Backend, ExportTarget, backend_from_name, coerce_backends
from ..configure.env import Environ, environ, parse_positive_float
from ..configure.resource import build_resource
from ..errors import ConfigError
from . import diagnostics
from .factory import create_span_exporter

CHECK_SPAN_NAME = "lk_otel.check"
DEFAULT_TIMEOUT = 5.0
GRACE = 0.5  # waited beyond ``timeout`` so an exporter can report its own deadline
_POLL = 0.02
_NOT_RETRYABLE = frozenset({"tls", "dns", "refused"})


@dataclass(frozen=True)
class CheckResult:
    """The outcome for one backend. Nothing in it is a secret.

    ``kind`` is ``"ok"``, ``"config"`` (the configuration is wrong, nothing was sent) or a
    :class:`lk_otel.export.diagnostics.Cause` kind (``"refused"``, ``"auth"``, ``"timeout"``...).
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

    def run(self) -> None:
        with diagnostics.capture() as messages:
            self.messages = messages
            try:
                exporter = create_span_exporter(self.target)
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
        return diagnostics.classify(list(self.messages), auth_hint=self.target.auth_hint)

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
        if finished and self.result is SpanExportResult.SUCCESS:
            return dataclasses.replace(base, ok=True, kind="ok", seconds=self.seconds)
        if finished and self.error is not None:
            return dataclasses.replace(base, cause=self._redact(self.error))
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
        for secret in sorted(_secrets(self.target), key=len, reverse=True):
            text = text.replace(secret, "***")
        return text


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
    """Header values, their tokens, and the halves of a Basic token."""
    found: set[str] = set()
    for value in target.headers.values():
        scheme, _, token = value.partition(" ")
        found.update(v for v in (value, token.strip()) if len(v) >= 4)
        if scheme.lower() == "basic" and token:
            with contextlib.suppress(binascii.Error, UnicodeDecodeError):
                pair = base64.b64decode(token.strip(), validate=True).decode()
                found.update(v for v in pair.split(":", 1) if len(v) >= 4)
    return found
