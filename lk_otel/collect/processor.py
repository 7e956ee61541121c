"""The span processor lk_otel adds to every provider: a queue on livekit's thread, the
enrichment on a worker thread.

``on_start`` / ``on_end`` run where livekit creates and ends spans (the agent's event
loop) and only append the span to a queue. A worker thread drains it in order, every
``schedule_delay`` or sooner when it fills: it runs the :class:`TurnCorrelator`, builds
the enriched copies (livekit's span is never written to) and the waterfall spans, applies
the backend mappings, and offers them to each backend's :class:`SpanSink`. Session events
(usage, EOU timing) are published into the same queue, so both are read in event order.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor

from .. import _compat
from .. import semconv as sc
from ..enrich.correlator import TurnCorrelator
from ..enrich.observer import EnrichmentObserver
from ..enrich.options import EnrichOptions
from ..enrich.records import (
    FeedEvent,
    IdentityKnown,
    LlmDone,
    Output,
    RealtimeNotice,
    Release,
    SpanEnded,
    SpanStarted,
    TtsDone,
    TurnDone,
    UserTurnDone,
)
from ..export.sink import SpanSink
from .feed import SessionFeed, subscribe_stream, unsubscribe_stream
from .instrumentor import CURRENT_FEED
from .materialize import Route, materialize

logger = logging.getLogger("lk_otel")

_START, _END, _FEED, _ROUTE, _FLUSH = range(5)
MAX_QUEUED = 65536  # records waiting for the worker; beyond it spans go out unenriched
_WAKE_AT = 1024  # queued records that wake the worker before its delay
_YIELD_AFTER = 0.0005  # s of work between GIL hand-backs to livekit's thread
SHUTDOWN_TIMEOUT = 5.0


class LkOtelSpanProcessor(SpanProcessor):
    """Enriches livekit's spans off the event loop and hands them to the backends' sinks."""

    def __init__(
        self,
        sinks: Sequence[SpanSink],
        options: EnrichOptions,
        *,
        schedule_delay: float,
        observers: Sequence[EnrichmentObserver] = (),
        profile: _compat.LivekitProfile | None = None,
    ) -> None:
        self._queue: deque[tuple[Any, ...]] = deque()
        self._wake = threading.Event()
        self._delay = schedule_delay
        self._feeds: dict[int, SessionFeed] = {}  # agent_session span id -> its feed
        first = Route(tuple(sinks), options, observers=tuple(observers))
        self._routes: dict[int, Route] = {0: first}
        self._newest = first  # the route of the latest configuration (caller's side)
        self._current = 0
        self._retiring: list[int] = []
        self._correlator = TurnCorrelator(
            profile or _compat.livekit_profile(), route=0, prices=options.prices
        )
        # ended spans the correlator holds, with their attributes
        self._pending: dict[int, tuple[ReadableSpan, Mapping[str, Any]]] = {}
        self._batches: dict[int, list[ReadableSpan]] = {}  # route -> spans ready to offer
        self._closed = False
        self._failed_once = False
        self._nonfinite_logged = False
        self._overdue_logged = False
        self.dropped = 0  # not queued (worker far behind); ended spans went out as they were
        self.handover_overdue = 0  # sessions moved to the new sinks at the handover timeout
        subscribe_stream(self._publish)
        self._worker: threading.Thread | None = None
        self._start_worker()
        if hasattr(os, "register_at_fork"):
            ref = weakref.WeakMethod(self._start_worker)
            os.register_at_fork(after_in_child=lambda: (m := ref()) and m())  # type: ignore[func-returns-value]

    # --- caller thread (livekit's) -------------------------------------------------------
    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        if self._closed:
            return
        parent = span.parent
        if span.name == sc.SPAN_AGENT_SESSION:
            feed = CURRENT_FEED.get()
            if feed is not None:
                self._feeds[span.context.span_id] = feed
            self._put((_START, span, feed.key if feed else None, _job_session_id()))
        elif parent is None or parent.is_remote:
            self._put((_START, span, None, _job_session_id()))
        else:
            self._put((_START, span))

    def on_end(self, span: ReadableSpan) -> None:
        if self._closed:
            return
        if span.name == sc.SPAN_AGENT_SESSION:
            feed = self._feeds.pop(span.context.span_id, None)
            identity = _identity(feed) if feed is not None else None
            if identity and feed is not None:
                self._put((_FEED, IdentityKnown(feed.key, identity)))
        if not self._put((_END, span)):  # queue full: the span goes out as it is
            for sink in self._routes[self._current].sinks:
                with contextlib.suppress(Exception):  # a sink must not raise
                    sink.offer((span,))

    def _publish(self, event: FeedEvent) -> None:
        if not self._closed:
            self._put((_FEED, event))

    def _put(self, item: tuple[Any, ...]) -> bool:
        queue = self._queue
        if len(queue) >= MAX_QUEUED:
            self.dropped += 1
            return False
        queue.append(item)
        if len(queue) == _WAKE_AT:
            self._wake.set()
        return True

    # --- control -------------------------------------------------------------------------
    def add_observer(self, observer: EnrichmentObserver) -> None:
        """Tell ``observer`` about every turn, user turn, LLM call and synthesis of the
        sessions that start under the latest configuration (a replaced configuration's
        observers hear its own sessions to their end, and nothing after)."""
        route = self._newest
        route.observers = (*route.observers, observer)

    def reconfigure(
        self,
        sinks: Sequence[SpanSink],
        options: EnrichOptions,
        on_released: Callable[[], None],
        *,
        handover_timeout: float,
    ) -> None:
        """Send sessions that start from now on, and spans outside any session, to ``sinks``.

        Sessions already open keep their sinks and options until they end, or until
        ``handover_timeout`` seconds pass (then they are moved, counted in
        ``handover_overdue`` and a warning is logged once); then ``on_released()`` is called
        once, on the worker thread.
        """
        route = Route(tuple(sinks), options, on_released, handover_timeout)
        self._newest = route
        self._queue.append((_ROUTE, route))
        self._wake.set()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Enrich everything queued so far and offer it to the sinks (sinks not flushed)."""
        if self._worker is None or not self._worker.is_alive():
            return True
        if threading.current_thread() is self._worker:
            self._drain()
            return True
        done = threading.Event()
        self._queue.append((_FLUSH, done))
        self._wake.set()
        return done.wait(max(timeout_millis, 0) / 1000)

    def shutdown(self) -> None:
        """Flush (bounded), stop the worker, stop hearing session events."""
        if self._closed:
            return
        self.force_flush(int(SHUTDOWN_TIMEOUT * 1000))
        self._closed = True
        unsubscribe_stream(self._publish)
        self._wake.set()
        if self._worker is not None and threading.current_thread() is not self._worker:
            self._worker.join(SHUTDOWN_TIMEOUT)

    def tracked(self) -> dict[str, int]:
        """Sizes of the enrichment's state (correlator, held spans, queue): a leak check.

        Read while the worker may be running: for tests and diagnostics after a flush.
        """
        out = dict(self._correlator.tracked())
        out["pending_spans"] = len(self._pending)
        out["queued"] = len(self._queue)
        out["session_feeds"] = len(self._feeds)
        return out

    # --- worker --------------------------------------------------------------------------
    def _start_worker(self) -> None:
        self._worker = threading.Thread(target=self._run, name="lk_otel-enrich", daemon=True)
        self._worker.start()

    def _run(self) -> None:
        while True:
            self._wake.wait(self._delay)
            self._wake.clear()
            try:
                self._drain()
            except Exception:  # never let the worker die
                self._log_failure("batch")
            if self._closed and not self._queue:
                return

    def _drain(self) -> None:
        queue, correlator = self._queue, self._correlator
        emit = self._emit
        handled = 0
        pending = self._pending
        clock = time.perf_counter
        last_yield = clock()
        now = time.monotonic()  # refreshed at every GIL hand-back check (<= 16 records)
        while queue:
            item = queue.popleft()
            kind = item[0]
            try:
                if kind == _END:
                    span = item[1]
                    sid = span.context.span_id
                    attrs = _compat.span_attributes(span)
                    pending[sid] = (span, attrs)
                    route = correlator.route_of(sid)
                    emit(correlator.end(_ended(sid, span, attrs), now), route)
                elif kind == _START:
                    correlator.start(_started(item))
                elif kind == _FEED:
                    route = correlator.route_of_feed(item[1].feed_key)
                    emit(correlator.feed(item[1], now), route)
                elif kind == _ROUTE:
                    self._offer()
                    self._switch(item[1])
                elif kind == _FLUSH:
                    emit(correlator.release_all(), self._current)
                    self._offer()
                    item[1].set()
            except Exception:
                self._log_failure(getattr(item[1], "name", "event") if len(item) > 1 else "?")
                if kind == _END:  # the span goes out as it is
                    emit([Release(item[1].context.span_id, {}, self._current)], self._current)
            handled += 1
            if not handled & 15:
                now = time.monotonic()
                if clock() - last_yield > _YIELD_AFTER:
                    # hand the GIL back now rather than at the 5 ms switch interval: livekit's
                    # event loop must not wait on the enrichment
                    time.sleep(0)
                    last_yield = clock()
        emit(correlator.expire(time.monotonic()), self._current)
        self._offer()
        self._retire()
        if correlator.tally.nonfinite and not self._nonfinite_logged:
            self._nonfinite_logged = True
            logger.warning(
                "lk_otel: livekit reported a value that is not a finite number (NaN or inf); "
                "it was left out of every lk_otel attribute and total (logged once)"
            )

    def _switch(self, route: Route) -> None:
        new = max(self._routes) + 1
        timeout = route.deadline
        route.deadline = time.monotonic() + timeout
        old = self._routes[self._current]
        old.on_released, old.deadline = route.on_released, route.deadline
        route.on_released = None
        self._routes[new] = route
        self._retiring.append(self._current)
        self._current = new
        self._correlator.set_route(new, route.options.prices)

    def _retire(self) -> None:
        if not self._retiring:
            return
        now = time.monotonic()
        for key in list(self._retiring):
            route = self._routes[key]
            open_sessions = self._correlator.sessions_on(key)
            if open_sessions and now < route.deadline:
                continue
            if open_sessions:
                moved = self._correlator.reroute(key, self._current)
                self.handover_overdue += moved
                if not self._overdue_logged:
                    self._overdue_logged = True
                    logger.warning(
                        "lk_otel: %d session(s) still open when the previous tracing "
                        "configuration's handover time ran out; their remaining spans go to "
                        "the new backends (logged once)",
                        moved,
                    )
            self._retiring.remove(key)
            del self._routes[key]
            if route.on_released is not None:
                try:
                    route.on_released()
                except Exception:
                    self._log_failure("on_released")

    def _emit(self, outputs: list[Output], route: int) -> None:
        """Materialise released spans into the batches (right away, while the span's
        attributes are warm), tell ``route``'s observers about the notices (all of one
        session's, which started under ``route``)."""
        for o in outputs:
            if type(o) is Release:
                held = self._pending.pop(o.span_id, None)
                if held is None:
                    continue
                span, attrs = held
                route_key = o.route if o.route in self._routes else self._current
                try:
                    spans = materialize(span, attrs, o, self._routes[route_key])
                except Exception:
                    self._log_failure(span.name)
                    spans = [span]
                batch = self._batches.get(route_key)
                if batch is None:
                    self._batches[route_key] = spans
                else:
                    batch += spans
            else:
                self._notify(o, route)

    def _offer(self) -> None:
        """Offer the batches built so far to their routes' sinks."""
        batches, self._batches = self._batches, {}
        for key, spans in batches.items():
            for sink in self._routes[key].sinks:
                try:
                    sink.offer(spans)
                except Exception:  # a sink must not raise; if it does, the others still get theirs
                    self._log_failure("sink")

    def _notify(self, notice: Output, route: int) -> None:
        """Tell the observers; their failure must not cost any span its attributes."""
        found = self._routes.get(route) or self._routes[self._current]
        for observer in found.observers:
            try:
                if isinstance(notice, TurnDone):
                    observer.on_turn(notice.summary)
                elif isinstance(notice, LlmDone):
                    observer.on_llm(notice.call, notice.agent_name)
                elif isinstance(notice, TtsDone):
                    observer.on_tts(notice.call, notice.agent_name)
                elif isinstance(notice, UserTurnDone):
                    observer.on_user_turn(notice.stt_audio, notice.agent_name)
                elif isinstance(notice, RealtimeNotice):  # optional observer methods
                    notice.deliver(observer)
            except Exception:
                self._log_failure("metrics")

    def _log_failure(self, name: str) -> None:
        if not self._failed_once:
            self._failed_once = True
            logger.warning(
                "lk_otel: enrichment of a %r span failed; the span is exported without it "
                "(logged once)",
                name,
                exc_info=True,
            )


def _started(item: tuple[Any, ...]) -> SpanStarted:
    span = item[1]
    parent = span.parent
    if len(item) == 2:
        return SpanStarted(span.context.span_id, parent.span_id, span.name, span.start_time or 0)
    return SpanStarted(
        span.context.span_id,
        parent.span_id if parent is not None else None,
        span.name,
        span.start_time or 0,
        is_root=parent is None or parent.is_remote,
        feed_key=item[2],
        job_session_id=item[3],
    )


def _ended(span_id: int, span: ReadableSpan, attributes: Mapping[str, Any]) -> SpanEnded:
    return SpanEnded(span_id, span.name, span.start_time or 0, span.end_time or 0, attributes)


def _identity(feed: SessionFeed) -> str | None:
    try:
        return feed.identity()
    except Exception:
        return None


def _job_session_id() -> str | None:
    job = _compat.current_job_context()
    if job is None:
        return None
    return _compat.job_identity(job).get("job_id")
