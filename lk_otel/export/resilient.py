"""A span exporter wrapper that never raises, keeps failed spans, and logs once.

The SDK's ``BatchSpanProcessor`` drops a batch its exporter failed to send. For a call that
went wrong that is the trace you most need, so failed spans are held here (up to
``max_held`` spans, oldest dropped first) and sent again, ahead of new ones, once the backend
answers. A backend that keeps failing is retried at most every ``retry_interval`` seconds;
in between, batches are held without touching the network.

``export()`` only holds the batch and wakes a sender thread of this exporter's own, so the
processor's worker never waits on a slow or retrying backend: its queue does not overflow
behind it, and every span that cannot be kept is dropped here, where it is counted.

Logging: one warning when a backend starts failing (with the cause in plain words), one
info when it recovers, and one line counting what was dropped. While it keeps failing, a new
cause is warned about only when it asks for action (credentials, URL, TLS, DNS, ...), once
each: the exporters report the same outage now as 'refused', now as 'timeout'.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk.metrics.export import MetricExporter, MetricExportResult, MetricsData
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from .. import _compat
from . import diagnostics

logger = logging.getLogger("lk_otel.export")
_LAST_TRY_WAIT = 1.0  # seconds shutdown waits for a request under way before giving up on it
_CHUNK = 512  # spans per request when sending held spans
# causes that say what to fix; any other (refused, timeout, unavailable, unknown) is the
# backend being away, already warned about when the outage began
_ACTIONABLE = frozenset({"auth", "not_found", "too_large", "tls", "dns", "status"})


class ResilientSpanExporter(SpanExporter):
    """Wraps one exporter; see the module docstring."""

    def __init__(
        self,
        inner: SpanExporter,
        *,
        label: str,
        max_held: int = 4096,
        retry_interval: float = 5.0,
        auth_hint: str | None = None,
    ) -> None:
        self._inner = inner
        self._label = label
        self._auth_hint = auth_hint
        self._held: deque[ReadableSpan] = deque()
        self._max_held = max_held
        self._retry_interval = retry_interval
        self._lock = threading.Lock()  # guards _held and the counters; never held on the network
        self._send_lock = threading.Lock()  # one request to the backend at a time
        self._wake = threading.Event()
        self._sender: threading.Thread | None = None
        self._closed = False
        self._in_flight = 0  # spans taken from _held for the request under way
        self._failing_since: float | None = None
        self._warned: set[str] = set()  # cause kinds warned about in this outage
        self._next_attempt = 0.0
        self.dropped = 0
        self.exported = 0
        self.last_cause: str | None = None
        self._reported_dropped = 0
        diagnostics.install()

    def __repr__(self) -> str:
        return f"ResilientSpanExporter(label={self._label!r})"

    @property
    def held(self) -> int:
        """Spans not delivered yet: waiting, or in the request under way."""
        return len(self._held) + self._in_flight

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Hold ``spans`` and wake the sender thread; never waits for the network."""
        with self._lock:
            self._hold(spans)
            if self._closed:
                return SpanExportResult.SUCCESS  # sent, if at all, by shutdown()
            if self._sender is None or not self._sender.is_alive():  # first call, or forked
                self._sender = threading.Thread(
                    target=self._run, name=f"lk_otel-export-{self._label}", daemon=True
                )
                self._sender.start()
        self._wake.set()
        return SpanExportResult.SUCCESS

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Send everything held now, even while backing off; the caller bounds the wait."""
        return self._send_held()

    def shutdown(self) -> None:
        with self._lock:
            self._closed = True
            failing = self._failing_since is not None
        self._wake.set()
        # a request still under way after a short wait is a backend not answering
        if not failing and self._send_lock.acquire(timeout=_LAST_TRY_WAIT):
            self._send_lock.release()
            self._send_held()
        else:
            # a failing backend gets no last try: stopping the exporter first ends any retry
            # back-off it is sleeping in, so shutdown does not wait for it
            failing = True
            self._inner.shutdown()
        with self._lock:
            lost = self.dropped - self._reported_dropped + len(self._held) + self._in_flight
            self._reported_dropped = self.dropped
            if lost:
                logger.warning(
                    "lk_otel: %d span(s) could not be delivered to %s (%s)",
                    lost,
                    self._label,
                    self.last_cause or "backend unavailable",
                )
        if not failing:
            self._inner.shutdown()

    def _run(self) -> None:
        """The sender thread: sends what is held, backing off while the backend fails."""
        while True:
            self._wake.wait()
            self._wake.clear()
            with self._lock:
                if self._closed:
                    return
                backoff = self._next_attempt - time.monotonic()
                if self._failing_since is None:
                    backoff = 0.0
            if backoff > 0:  # new spans are held meanwhile; a flush may still try now
                self._wake.wait(backoff)
                self._wake.set()  # look again: retry due, more spans, or closed
                continue
            if not self._send_held():
                self._wake.set()  # retry after the interval even if no new span comes

    def _hold(self, spans: Sequence[ReadableSpan]) -> None:
        """Append (or, for a batch that failed, put back in front); drop the oldest over the
        bound. Called with ``_lock`` held."""
        self._held.extend(spans)
        self._trim()

    def _trim(self) -> None:
        """Drop the oldest waiting spans over ``max_held`` (the batch in flight counts)."""
        overflow = min(len(self._held) + self._in_flight - self._max_held, len(self._held))
        for _ in range(max(overflow, 0)):
            self._held.popleft()
        if overflow > 0:
            self.dropped += overflow

    def _send_held(self) -> bool:
        """Send held spans in chunks until none are left (True) or the backend fails."""
        with self._send_lock:
            while True:
                with self._lock:
                    if not self._held:
                        return True
                    batch = [self._held.popleft() for _ in range(min(_CHUNK, len(self._held)))]
                    self._in_flight = len(batch)
                with diagnostics.capture() as messages:
                    try:
                        result = self._inner.export(batch)
                    except Exception as exc:  # an exporter must not raise into the pipeline
                        messages.append(f"{type(exc).__name__}: {exc}")
                        result = SpanExportResult.FAILURE
                with self._lock:
                    self._in_flight = 0
                    if result is not SpanExportResult.SUCCESS:
                        self._held.extendleft(reversed(batch))  # oldest first, as before
                        self._trim()
                        self._failed(messages)
                        return False
                    self.exported += len(batch)
                    self._recovered()

    def _failed(self, messages: list[str]) -> None:
        cause = diagnostics.classify(messages, auth_hint=self._auth_hint)
        self._next_attempt = time.monotonic() + self._retry_interval
        starting = self._failing_since is None
        if starting or (cause.kind in _ACTIONABLE and cause.kind not in self._warned):
            logger.warning(
                "lk_otel: export to %s failing: %s; holding up to %d spans and retrying",
                self._label,
                cause.text,
                self._max_held,
            )
            self._warned = {cause.kind} if starting else self._warned | {cause.kind}
        if starting:
            self._failing_since = time.monotonic()
        self.last_cause = cause.text

    def _recovered(self) -> None:
        if self._failing_since is None:
            return
        logger.info(
            "lk_otel: export to %s recovered after %.1f s; %d span(s) dropped meanwhile",
            self._label,
            time.monotonic() - self._failing_since,
            self.dropped - self._reported_dropped,
        )
        self._reported_dropped = self.dropped
        self._failing_since = None


class QuietMetricExporter(MetricExporter):
    """Wraps a metric exporter: one warning when it starts failing, one info on recovery,
    instead of the official exporter's line per attempt. Never raises."""

    def __init__(self, inner: MetricExporter, *, label: str, auth_hint: str | None = None) -> None:
        super().__init__(**_compat.metric_exporter_preferences(inner))
        self._inner = inner
        self._label = label
        self._auth_hint = auth_hint
        self._failing = False
        diagnostics.install()

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        with diagnostics.capture() as messages:
            try:
                result = self._inner.export(metrics_data, timeout_millis=timeout_millis, **kwargs)
            except Exception as exc:
                messages.append(f"{type(exc).__name__}: {exc}")
                result = MetricExportResult.FAILURE
        if result is MetricExportResult.SUCCESS:
            if self._failing:
                logger.info("lk_otel: metrics export to %s recovered", self._label)
            self._failing = False
        elif not self._failing:
            self._failing = True
            cause = diagnostics.describe(messages, auth_hint=self._auth_hint)
            logger.warning("lk_otel: metrics export to %s failing: %s", self._label, cause)
        return result

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return self._inner.force_flush(timeout_millis=timeout_millis)

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        self._inner.shutdown(timeout_millis=timeout_millis, **kwargs)
