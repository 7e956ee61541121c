"""A span exporter wrapper that never raises, keeps failed spans, and logs once.

The SDK's ``BatchSpanProcessor`` drops a batch its exporter failed to send. For a call that
went wrong that is the trace you most need, so failed spans are held here (up to
``max_held`` spans, oldest dropped first) and sent again, ahead of new ones, once the backend
answers. A backend that keeps failing is retried at most every ``retry_interval`` seconds;
in between, batches are held without touching the network.

Logging: one warning when a backend starts failing (with the cause in plain words), one
info when it recovers, and one line counting what was dropped.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Sequence

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from . import diagnostics

logger = logging.getLogger("lk_otel.export")
_CHUNK = 512  # spans per request when sending held spans


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
        self._lock = threading.Lock()
        self._failing_since: float | None = None
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
        """Spans waiting for the backend to come back."""
        return len(self._held)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        with self._lock:
            self._hold(spans)
            if self._failing_since is not None and time.monotonic() < self._next_attempt:
                return SpanExportResult.SUCCESS  # held; retried later
            return self._send_held()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        with self._lock:
            if self._held:
                self._send_held()
            return not self._held

    def shutdown(self) -> None:
        with self._lock:
            if self._held:
                self._send_held()
            lost = self.dropped + len(self._held)
            if lost:
                logger.warning(
                    "lk_otel: %d span(s) could not be delivered to %s (%s)",
                    lost,
                    self._label,
                    self.last_cause or "backend unavailable",
                )
        self._inner.shutdown()

    def _hold(self, spans: Sequence[ReadableSpan]) -> None:
        self._held.extend(spans)
        overflow = len(self._held) - self._max_held
        for _ in range(max(overflow, 0)):
            self._held.popleft()
        if overflow > 0:
            self.dropped += overflow

    def _send_held(self) -> SpanExportResult:
        while self._held:
            batch = [self._held[i] for i in range(min(_CHUNK, len(self._held)))]
            with diagnostics.capture() as messages:
                try:
                    result = self._inner.export(batch)
                except Exception as exc:  # an exporter must not raise into the pipeline
                    messages.append(f"{type(exc).__name__}: {exc}")
                    result = SpanExportResult.FAILURE
            if result is not SpanExportResult.SUCCESS:
                self._failed(messages)
                return SpanExportResult.SUCCESS
            for _ in batch:
                self._held.popleft()
            self.exported += len(batch)
            self._recovered()
        return SpanExportResult.SUCCESS

    def _failed(self, messages: list[str]) -> None:
        cause = diagnostics.describe(messages, auth_hint=self._auth_hint)
        self._next_attempt = time.monotonic() + self._retry_interval
        if self._failing_since is None or cause != self.last_cause:
            logger.warning(
                "lk_otel: export to %s failing: %s; holding up to %d spans and retrying",
                self._label,
                cause,
                self._max_held,
            )
        if self._failing_since is None:
            self._failing_since = time.monotonic()
        self.last_cause = cause

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
