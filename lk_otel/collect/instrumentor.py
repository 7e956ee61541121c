"""Subscribe to every ``AgentSession``'s events with no user code.

``AgentSession.start`` is wrapped (as OpenTelemetry instrumentors do): before the original
runs, a :class:`SessionFeed` subscribes to the session's events and is made current in a
context variable, so the ``agent_session`` span started inside ``start()`` carries its key.
"""

from __future__ import annotations

import contextvars
import logging
import weakref
from collections.abc import Collection
from typing import Any

import wrapt
from opentelemetry import trace
from opentelemetry.instrumentation.instrumentor import BaseInstrumentor
from opentelemetry.instrumentation.utils import unwrap

from .. import _compat
from .feed import EouTiming, SessionFeed
from .usage import PerModelUsage

logger = logging.getLogger("lk_otel")

CURRENT_FEED: contextvars.ContextVar[SessionFeed | None] = contextvars.ContextVar(
    "lk_otel_session_feed", default=None
)
_MODULE = "livekit.agents.voice.agent_session"


class LiveKitAgentsInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """Feeds session events (usage, STT audio, EOU timing) to lk_otel's span enrichment."""

    def instrumentation_dependencies(self) -> Collection[str]:
        return ("livekit-agents >= 1.2",)

    def _instrument(self, **kwargs: Any) -> None:
        wrapt.wrap_function_wrapper(_MODULE, "AgentSession.start", _wrap_start)

    def _uninstrument(self, **kwargs: Any) -> None:
        from livekit.agents.voice.agent_session import AgentSession

        unwrap(AgentSession, "start")


async def _wrap_start(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
    feed = SessionFeed()
    try:
        subscribe(instance, feed)
    except Exception:  # never stop a session from starting
        logger.warning("lk_otel: could not subscribe to session events", exc_info=True)
    token = CURRENT_FEED.set(feed)
    try:
        return await wrapped(*args, **kwargs)
    finally:
        CURRENT_FEED.reset(token)


def _eou_timing(m: Any) -> EouTiming:
    return EouTiming(
        end_of_turn_delay=float(m.end_of_utterance_delay),
        transcription_delay=float(m.transcription_delay),
        on_user_turn_completed_delay=float(m.on_user_turn_completed_delay),
        speech_id=m.speech_id,
        last_speaking_time=getattr(m, "last_speaking_time", None),
    )


def subscribe(session: Any, feed: SessionFeed) -> None:
    """Wire ``session``'s events into ``feed`` (public event API only).

    What is subscribed follows the release's facts (``_compat.release_facts()``): usage
    from ``session_usage_updated`` where the session keeps it, else summed from the raw
    metrics; ``EOUMetrics`` always (they say which speech answers a user turn, also when
    livekit writes no latencies on that turn, and carry the delays where the turn span
    does not); assistant messages' e2e latency where only they have it (1.3, 1.4).
    """
    from livekit.agents import metrics as lk_metrics

    facts = _compat.release_facts()
    ref = weakref.ref(session)
    feed.identity_source = lambda: _compat.participant_identity(ref())

    def on_false_interruption(ev: Any) -> None:
        feed.false_interruption(bool(getattr(ev, "resumed", False)))

    # every supported release emits it (1.2.18 to 1.8.9): counted on the session span
    session.on("agent_false_interruption", on_false_interruption)
    collector = None if _compat.has_session_usage() else PerModelUsage()

    def on_metrics(ev: Any) -> None:
        m = ev.metrics
        if isinstance(m, lk_metrics.EOUMetrics):
            feed.eou(_eou_timing(m))
        elif collector is not None and collector.add(m):
            feed.usage(collector.rows())

    _compat.on_metrics_collected(session, on_metrics)
    if collector is None:

        def on_usage(ev: Any) -> None:
            feed.usage([u.model_dump() for u in ev.usage.model_usage])

        session.on("session_usage_updated", on_usage)
    if facts.e2e_source == "message_metrics":

        def on_item(ev: Any) -> None:
            item = ev.item
            if getattr(item, "role", None) != "assistant":
                return
            e2e = _compat.message_e2e_latency(item)
            if e2e is not None:  # the generation's agent_turn is the current span
                feed.message_e2e(trace.get_current_span().get_span_context().span_id, e2e)

        session.on("conversation_item_added", on_item)
