"""A session's events, published into the span stream of every lk_otel span processor.

The instrumentor gives each ``AgentSession`` a :class:`SessionFeed`; what the session's
events report (usage, EOU timing) is published as a plain record, on livekit's thread,
into the same ordered queue as the spans, so the correlator reads both in event order.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from typing import Any

from ..enrich.records import (
    EouReported,
    EouTiming,
    FalseInterruptionReported,
    FeedEvent,
    IdentityKnown,
    MessageE2e,
    UsageUpdated,
)

__all__ = ["EouTiming", "SessionFeed", "subscribe_stream", "unsubscribe_stream"]

Publish = Callable[[FeedEvent], None]
_streams: tuple[Publish, ...] = ()  # replaced whole (copy on write): read without a lock
_streams_lock = threading.Lock()
_keys = itertools.count(1)


def subscribe_stream(publish: Publish) -> None:
    """Receive every session feed's events from now on (a span processor's queue)."""
    global _streams
    with _streams_lock:
        _streams = (*_streams, publish)


def unsubscribe_stream(publish: Publish) -> None:
    """Stop receiving session feed events."""
    global _streams
    with _streams_lock:
        _streams = tuple(p for p in _streams if p is not publish)


class SessionFeed:
    """One AgentSession's events, keyed by ``key`` (carried by its ``agent_session`` start)."""

    __slots__ = ("_identity", "identity_source", "key")

    def __init__(self) -> None:
        self.key = next(_keys)
        self.identity_source: Callable[[], str | None] | None = None
        self._identity: str | None = None

    @property
    def participant_identity(self) -> str | None:
        """The remote participant's identity once known (set: published into the stream)."""
        return self._identity

    @participant_identity.setter
    def participant_identity(self, identity: str | None) -> None:
        self._identity = identity
        if identity:
            self.publish(IdentityKnown(self.key, identity))

    def publish(self, event: FeedEvent) -> None:
        """Hand ``event`` to every subscribed stream."""
        for publish in _streams:
            publish(event)

    def usage(self, rows: list[dict[str, Any]]) -> None:
        """Per-model usage so far (livekit's ``model_usage`` rows)."""
        self.publish(UsageUpdated(self.key, tuple(rows)))

    def eou(self, timing: EouTiming) -> None:
        """An ``EOUMetrics`` event."""
        self.publish(EouReported(self.key, timing))

    def message_e2e(self, turn_span_id: int, e2e_latency: float) -> None:
        """An assistant message's end-to-end latency, while its turn span is current."""
        self.publish(MessageE2e(self.key, turn_span_id, e2e_latency))

    def false_interruption(self, resumed: bool) -> None:
        """An ``agent_false_interruption`` event."""
        self.publish(FalseInterruptionReported(self.key, resumed))

    def identity(self) -> str | None:
        """The remote participant's identity: as set, else read from the room now (PII:
        written only when allowed)."""
        if self._identity is None and self.identity_source is not None:
            return self.identity_source()
        return self._identity
