"""One backend's export layer: one bounded queue, one worker thread, one place where spans
are kept, retried, split, dropped and counted.

``offer()`` (the ``SpanSink`` the enrichment hands finished spans to) only appends to the
queue: it never waits for the network and never raises. Over ``capacity`` the OLDEST waiting
spans are dropped and counted (the request under way is on top of the bound: if it fails, its
spans are the oldest and go first). The worker sends batches of up to ``batch_size`` spans every
``schedule_delay`` seconds (at once when a batch is full). When the backend fails, the batch
goes back to the front of the queue and is held across the outage; the backend is tried
again every ``retry_interval`` seconds, and while a flush or shutdown waits, every
``URGENT_RETRY`` seconds until its timeout is spent. A batch the backend can never take
(over its size limit, malformed) is split in halves; a span that alone cannot go is dropped,
counted and named in one warning, and never blocks the spans behind it.

Logging: one warning when the backend starts failing (the cause in plain words), one more
only for a new cause that asks for action (credentials, URL, TLS, DNS ...), one info line on
recovery with the count dropped meanwhile, one warning at shutdown counting what was lost.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from . import diagnostics, policy
from .diagnostics import Cause

logger = logging.getLogger("lk_otel.export")
URGENT_RETRY = 0.05  # s between tries while a flush or shutdown waits
STALLED_AFTER = 1.0  # s shutdown waits for a request the backend does not answer at all


class BackendExporter:
    """Exports to one backend through ``inner`` (an official OTLP exporter or any SDK
    ``SpanExporter``); see the module docstring. Implements ``SpanSink``."""

    def __init__(
        self,
        inner: SpanExporter,
        *,
        label: str,
        capacity: int = 4096,
        batch_size: int = 512,
        schedule_delay: float = 1.0,
        retry_interval: float = 5.0,
        auth_hint: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.inner = inner
        self.label = label
        self._capacity = capacity
        self._batch_size = max(1, min(batch_size, capacity))
        self._schedule_delay = schedule_delay
        self._retry_interval = retry_interval
        self._auth_hint = auth_hint
        self._clock = clock
        self._cond = threading.Condition(threading.Lock())
        self._queue: deque[ReadableSpan] = deque()
        self._in_flight = 0  # spans of the request under way
        self._request_log: list[str] | None = None  # what the exporter logged in that request
        self._request_since = 0.0
        self._oldest_at = 0.0  # when the oldest waiting span was queued
        self._offered = 0
        self._resolved = 0  # exported + dropped: spans that need no more work
        self._urgent_target = 0  # a flush waits until _resolved reaches this …
        self._urgent_until = 0.0  # … or this time
        self._closing_until: float | None = None  # shutdown: drain until this time, then stop
        self._stopped = False  # the worker's late outcomes no longer count
        self._worker: threading.Thread | None = None
        self._pid = os.getpid()
        self._failing_since: float | None = None
        self._failed_at = 0.0
        self._warned: set[str] = set()  # cause kinds warned about in this outage
        self._dropped_named: set[str] = set()  # unsendable kinds already named in a warning
        self._reported_dropped = 0
        self._overflow_warned = False
        self.exported = 0
        self.dropped = 0
        self.last_cause: str | None = None
        diagnostics.install()

    def __repr__(self) -> str:
        return f"BackendExporter(label={self.label!r})"

    @property
    def held(self) -> int:
        """Spans not delivered yet: waiting, or in the request under way."""
        return len(self._queue) + self._in_flight

    # --- the caller's side ----------------------------------------------------------
    def offer(self, spans: Sequence[ReadableSpan]) -> None:
        """Queue ``spans``; never waits for the network, never raises."""
        try:
            with self._cond:
                if self._stopped:
                    self.dropped += len(spans)
                    self._offered += len(spans)
                    self._resolved += len(spans)
                    return
                was_empty = not self._queue
                if was_empty:
                    self._oldest_at = self._clock()
                self._queue.extend(spans)
                self._offered += len(spans)
                overflow = len(self._queue) - self._capacity
                if overflow > 0:
                    self._drop_oldest(overflow)
                if was_empty or len(self._queue) >= self._batch_size:
                    self._ensure_worker()
                    self._cond.notify_all()
        except Exception:  # a sink must not raise into the span pipeline
            logger.debug("lk_otel: offer to %s failed", self.label, exc_info=True)

    def force_flush(self, timeout: float = 5.0) -> bool:
        """Send everything offered so far, retrying until ``timeout`` seconds are spent.

        True when all of it was delivered or dropped; never raises."""
        deadline = self._clock() + timeout
        with self._cond:
            target = self._offered
            if self._resolved >= target:
                return True
            if self._stopped:
                return False
            self._urgent_target = max(self._urgent_target, target)
            self._urgent_until = max(self._urgent_until, deadline)
            self._ensure_worker()
            self._cond.notify_all()
            while self._resolved < target:
                left = deadline - self._clock()
                if left <= 0 or self._stopped:
                    return False
                self._cond.wait(left)
            return True

    def shutdown(self, timeout: float = 5.0) -> bool:
        """Send what is held, retrying until ``timeout``; then stop. A request the backend
        does not answer at all is given up after ``STALLED_AFTER`` seconds. What is left
        is counted in ``dropped`` and warned about once. True when nothing was lost."""
        began = self._clock()
        deadline = began + timeout
        with self._cond:
            if self._stopped or self._closing_until is not None:
                return self.held == 0
            self._closing_until = deadline
            if self._queue or self._in_flight:
                self._ensure_worker()
            self._cond.notify_all()
            while self._queue or self._in_flight:
                now = self._clock()
                limit = deadline
                if self._in_flight and not self._request_log:  # sent, and no answer yet
                    limit = min(limit, max(self._request_since, began) + STALLED_AFTER)
                if now >= limit:
                    break
                self._cond.wait(min(limit - now, URGENT_RETRY))
            self._stopped = True
            lost = len(self._queue) + self._in_flight
            self._queue.clear()
            self._in_flight = 0
            self.dropped += lost
            self._resolved += lost
            unreported = self.dropped - self._reported_dropped
            self._reported_dropped = self.dropped
            cause = self.last_cause
            self._cond.notify_all()
        try:
            self.inner.shutdown()  # also ends the inner exporter's own retry back-off
        except Exception:
            logger.debug("lk_otel: shutdown of %s failed", self.label, exc_info=True)
        if unreported:
            logger.warning(
                "lk_otel: %d span(s) could not be delivered to %s (%s)",
                unreported,
                self.label,
                cause or "queue full",
            )
        return lost == 0

    # --- the worker -------------------------------------------------------------------
    def _ensure_worker(self) -> None:
        """Start the worker (first use, or the first use in a forked child). Lock held."""
        if self._worker is not None and self._worker.is_alive() and self._pid == os.getpid():
            return
        if self._pid != os.getpid():  # forked: the parent's request is not ours
            self._pid = os.getpid()
            self._in_flight = 0
        self._worker = threading.Thread(
            target=self._run, name=f"lk_otel-export-{self.label}", daemon=True
        )
        self._worker.start()

    def _run(self) -> None:
        while (batch := self._next_batch()) is not None:
            self._deliver(batch)
            del batch  # not held while waiting for the next: a burst's spans are freed now

    def _next_batch(self) -> list[ReadableSpan] | None:
        """Wait until a batch is due; take it from the front of the queue (None: stop)."""
        with self._cond:
            while True:
                if self._stopped:
                    return None
                now = self._clock()
                closing = self._closing_until is not None
                if not self._queue:
                    if closing:
                        return None
                    self._cond.wait()
                    continue
                urgent = closing or (
                    self._resolved < self._urgent_target and now < self._urgent_until
                )
                if self._failing_since is not None:
                    due = self._failed_at + (URGENT_RETRY if urgent else self._retry_interval)
                elif urgent or len(self._queue) >= self._batch_size:
                    due = now
                else:
                    due = self._oldest_at + self._schedule_delay
                if due > now:
                    self._cond.wait(due - now)
                    continue
                size = min(self._batch_size, len(self._queue))
                batch = [self._queue.popleft() for _ in range(size)]
                self._in_flight = size
                self._request_since = now
                self._oldest_at = now - self._schedule_delay  # the rest is due at once
                return batch

    def _deliver(self, batch: list[ReadableSpan]) -> None:
        """Send ``batch``, splitting what the backend can never take; hold it on failure."""
        parts = [batch]
        while parts:
            part = parts.pop(0)
            ok, cause = self._export(part)
            with self._cond:
                if self._stopped:  # shutdown gave up on this request and counted it
                    return
                if ok:
                    self._settle(len(part), exported=True)
                    self._recovered()
                    continue
                assert cause is not None
                fate = policy.verdict(cause, len(part))
                if fate is policy.Verdict.SPLIT:
                    parts[:0] = policy.halves(part)
                    continue
                if fate is policy.Verdict.DROP:
                    self._settle(1, exported=False)
                    first = cause.kind not in self._dropped_named
                    self._dropped_named.add(cause.kind)
                else:  # HOLD: the backend is away; keep everything, oldest first
                    held = [s for p in (part, *parts) for s in p]
                    self._in_flight = 0
                    self._queue.extendleft(reversed(held))
                    overflow = len(self._queue) - self._capacity
                    if overflow > 0:
                        self._drop_oldest(overflow)
                    self._failed(cause)
                    return
            if first:  # outside the lock: sizing a span encodes it
                logger.warning(policy.drop_warning(self.label, part[0], cause))

    def _export(self, part: list[ReadableSpan]) -> tuple[bool, Cause | None]:
        """One request to the backend; what the exporter logged is its cause."""
        with diagnostics.capture() as messages:
            with self._cond:
                self._request_log = messages
            try:
                result = self.inner.export(part)
            except Exception as exc:  # an exporter must not raise into the pipeline
                messages.append(f"{type(exc).__name__}: {exc}")
                result = SpanExportResult.FAILURE
        with self._cond:
            self._request_log = None
        if result is SpanExportResult.SUCCESS:
            return True, None
        return False, diagnostics.classify(messages, auth_hint=self._auth_hint)

    # --- counting (lock held) ---------------------------------------------------------
    def _settle(self, count: int, *, exported: bool) -> None:
        """``count`` spans of the request under way need no more work."""
        self._in_flight -= count
        self._resolved += count
        if exported:
            self.exported += count
        else:
            self.dropped += count
        self._cond.notify_all()

    def _drop_oldest(self, count: int) -> None:
        """Drop the ``count`` oldest waiting spans. The request under way is not waiting: if
        it fails, its spans come back to the front and are the first to go."""
        count = min(count, len(self._queue))
        for _ in range(count):
            self._queue.popleft()
        self.dropped += count
        self._resolved += count
        if count and self._failing_since is None and not self._overflow_warned:
            self._overflow_warned = True
            logger.warning(
                "lk_otel: export to %s cannot keep up: more than %d spans waiting, dropping "
                "the oldest (counted in exporters[].dropped)",
                self.label,
                self._capacity,
            )
        self._cond.notify_all()

    def _failed(self, cause: Cause) -> None:
        now = self._clock()
        self._failed_at = now
        starting = self._failing_since is None
        if starting or (cause.kind in policy.ACTIONABLE and cause.kind not in self._warned):
            logger.warning(
                "lk_otel: export to %s failing: %s; holding up to %d spans and retrying",
                self.label,
                cause.text,
                self._capacity,
            )
            self._warned = {cause.kind} if starting else self._warned | {cause.kind}
        if starting:
            self._failing_since = now
        self.last_cause = cause.text
        self._cond.notify_all()

    def _recovered(self) -> None:
        if self._failing_since is None:
            return
        logger.info(
            "lk_otel: export to %s recovered after %.1f s; %d span(s) dropped meanwhile",
            self.label,
            self._clock() - self._failing_since,
            self.dropped - self._reported_dropped,
        )
        self._reported_dropped = self.dropped
        self._failing_since = None
