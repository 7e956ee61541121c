"""The turn correlator: livekit's span stream in, the lk_otel schema out. Pure and single-threaded.

It reads plain records (:mod:`.records`) in the order livekit produced them — span
starts, span ends and session events interleaved — and answers each with what is ready
to go out: :class:`~.records.Release` (an ended span and the attributes to add) and
notices for the metrics. Children end before their parents, so figures are gathered as
``llm_request``, ``llm_node``, ``tts_node``, ``function_tool`` … end, and written on the
turn and session spans when those end. It holds no SDK object, takes no lock and reads
no clock (callers pass ``now``); release differences come from the profile it is built
with.

This module routes each record to its part: :mod:`.placement` (where a span stands),
:mod:`.gather` (an agent turn's children), :mod:`.user_turns` and :mod:`.held` (user turns,
held for late EOU metrics), :mod:`.finish` (turns and sessions summarised) and
:mod:`.realtime_stream` (realtime responses, handoffs, barge-in).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from .. import semconv as sc
from .._compat import LivekitProfile
from .cost import PriceTable
from .extract import Tally, number
from .finish import Finisher
from .gather import TurnParts
from .held import HeldUserTurns
from .placement import Node, SpanTree
from .realtime_stream import RealtimeTracker
from .records import (
    EouReported,
    FeedEvent,
    IdentityKnown,
    MessageE2e,
    Output,
    Release,
    SpanEnded,
    SpanStarted,
    UsageUpdated,
)
from .state import FeedState, SessionState, TurnState
from .user_turns import UserTurns

RECENT_PARENTS = 64  # ended spans kept for placing a child that starts after its parent ended
HOLD_SECONDS = 10.0  # how long a user turn waits for its late EOU metrics (livekit 1.2)
MAX_HELD = 256

_Handler = Callable[[SpanEnded, Node, Any, float], "list[Output] | None"]


def _new_session_id() -> str:
    return f"lk-{uuid.uuid4().hex[:20]}"


class TurnCorrelator:
    """Turns, user turns and sessions of every call in one stream, correlated.

    ``route`` tags the sessions that start from now on (``set_route``): a session keeps
    the route, and prices, it started under until it ends.
    """

    def __init__(
        self,
        profile: LivekitProfile,
        *,
        route: int = 0,
        prices: PriceTable | None = None,
        new_session_id: Callable[[], str] = _new_session_id,
        hold_seconds: float = HOLD_SECONDS,
        max_held: int = MAX_HELD,
    ) -> None:
        self.profile = profile
        self.tally = Tally()  # non-finite numbers skipped so far
        self._turn_name = profile.turn_span_name
        # issue 13: realtime responses, handoffs, barge-in (1.2's realtime turn is a turn)
        self._realtime = RealtimeTracker()
        self._turn_aliases = dict.fromkeys(sc.REALTIME_TURN_SPAN_NAMES, self._turn_name)
        self._nested_follow_ups = profile.nested_follow_up_turns
        self._hold_user_turns = profile.eou_after_user_turn
        self._route = route
        self._prices = prices
        self._new_session_id = new_session_id
        self._spans = SpanTree(self._turn_name, RECENT_PARENTS)
        self._sessions: dict[int, SessionState] = {}
        self._turns: dict[int, TurnState] = {}
        self._feeds: dict[int, FeedState] = {}
        self._held = HeldUserTurns(hold_seconds, max_held, self.tally)
        self._parts = TurnParts(self._turns, self.tally, self._release)
        self._users = UserTurns(
            self._feeds, self._held, self.tally, self._release, hold=self._hold_user_turns
        )
        finisher = Finisher(
            self._spans,
            self._sessions,
            self._turns,
            self._feeds,
            self._held,
            self.tally,
            self._release,
            sibling_follow_ups=profile.sibling_follow_up_turns,
        )
        self._on_end: dict[str, _Handler] = {
            sc.SPAN_LLM_REQUEST: self._parts.llm_request,
            sc.SPAN_TTS_REQUEST: self._parts.tts_request,
            sc.SPAN_LLM_NODE: self._parts.llm_node,
            sc.SPAN_TTS_NODE: self._parts.tts_node,
            sc.SPAN_FUNCTION_TOOL: self._parts.function_tool,
            sc.SPAN_AGENT_SPEAKING: self._parts.agent_speaking,
            sc.SPAN_USER_SPEAKING: self._users.user_speaking,
            sc.SPAN_ON_USER_TURN_COMPLETED: self._users.on_user_turn_completed,
            sc.SPAN_USER_TURN: self._users.user_turn,
            sc.SPAN_AGENT_SESSION: finisher.session_ended,
            self._turn_name: finisher.turn_ended,
        }

    # --- routes (reconfiguration) -----------------------------------------------------
    def set_route(self, route: int, prices: PriceTable | None) -> None:
        """Sessions that start from now on belong to ``route`` and use ``prices``."""
        self._route, self._prices = route, prices

    def route_of(self, span_id: int) -> int:
        """The route of the session the open span ``span_id`` is in (the current route for
        a span outside any session): where what its end tells goes."""
        node = self._spans.open.get(span_id)
        state = self._sessions.get(node.session) if node and node.session is not None else None
        return self._route if state is None else state.route

    def route_of_feed(self, feed_key: int) -> int:
        """The route of the open session whose events come under ``feed_key``."""
        for state in self._sessions.values():
            if state.feed_key == feed_key:
                return state.route
        return self._route

    def sessions_on(self, route: int) -> int:
        """How many open sessions belong to ``route``."""
        return sum(1 for s in self._sessions.values() if s.route == route)

    def reroute(self, old: int, new: int) -> int:
        """Move the open sessions of ``old`` to ``new``; returns how many moved."""
        moved = 0
        for s in self._sessions.values():
            if s.route == old:
                s.route = new
                moved += 1
        return moved

    def tracked(self) -> dict[str, int]:
        """Sizes of the state kept between records (what a leak would grow)."""
        return {
            "open_spans": len(self._spans.open),
            "sessions": len(self._sessions),
            "turns": len(self._turns),
            "requests": len(self._parts),
            "user_turns": len(self._users),
            "feeds": len(self._feeds),
            "held": len(self._held),
            **self._realtime.tracked(),
        }

    # --- input ------------------------------------------------------------------------
    def start(self, rec: SpanStarted) -> None:
        """A span started: place it in its session, turn and user turn."""
        sid, name = rec.span_id, self._turn_aliases.get(rec.name, rec.name)
        node = self._spans.place(rec, name)
        session, turn = node.session, node.turn
        self._realtime.started(
            sid, rec.name, rec.start_ns, session, turn, prices=self._prices, feed_key=rec.feed_key
        )
        state = self._sessions.get(session) if session is not None else None
        if name == sc.SPAN_AGENT_SESSION:
            self._sessions[sid] = SessionState(
                session_id=rec.job_session_id or self._new_session_id(),
                start_ns=rec.start_ns,
                route=self._route,
                prices=self._prices,
                feed_key=rec.feed_key,
            )
            if rec.feed_key is not None:
                self._feeds.setdefault(rec.feed_key, FeedState())
        elif state is None:
            return
        elif name == self._turn_name and turn == sid:
            # 1.3-1.7: the next turn after one that ran a tool may be its follow-up
            # (confirmed when it ends); it gets an index only if it is not
            of, state.follow_up_root = state.follow_up_root, None
            if of is None:
                state.turns_started += 1
            self._turns[sid] = TurnState(
                index=state.turns_started if of is None else 0,
                start_ns=rec.start_ns,
                user=state.user,
                follow_up_of=of,
            )
        elif name == self._turn_name and turn in self._turns:
            self._turns[turn].awaiting_follow_up = False
        elif name == sc.SPAN_FUNCTION_TOOL and turn in self._turns:
            # a tool call's answer comes in a follow-up turn that starts after the tool
            self._turns[turn].awaiting_follow_up = self._nested_follow_ups
        elif name == sc.SPAN_USER_TURN:
            self._users.started(sid, state)

    def end(self, rec: SpanEnded, now: float = 0.0) -> list[Output]:
        """A span ended: what is ready to go out now (this span or others it completed)."""
        node = self._spans.open.get(rec.span_id)
        if node is None:
            node = self._spans.orphans.pop(rec.span_id, None)  # its session ended first
            if node is None:  # started before this correlator, or never seen
                return [Release(rec.span_id, {}, self._route)]
            self._spans.open[rec.span_id] = node  # then it ends as any span
        if node.name != self._turn_name or node.turn not in self._turns:
            self._spans.close(rec.span_id, node)
        state = self._sessions.get(node.session) if node.session is not None else None
        handler = self._on_end.get(node.name)
        out = handler(rec, node, state, now) if handler is not None else None
        if out is None:
            out = [self._release(rec.span_id, node, state, {})]
        out = self._realtime.ended(rec, node.session, node.turn, out)
        if node.name == sc.SPAN_AGENT_SESSION:
            self._users.forget(self._spans.orphan(rec.span_id))
        return out + self.expire(now) if self._held else out

    def feed(self, event: FeedEvent, now: float = 0.0) -> list[Output]:
        """A session event, in stream order."""
        feed = self._feeds.setdefault(event.feed_key, FeedState())
        realtime_out = self._realtime.feed(event)
        if isinstance(event, UsageUpdated):
            feed.usage_rows = event.rows
            feed.stt_reported = sum(
                number(r.get("audio_duration"), self.tally) or 0.0
                for r in event.rows
                if r.get("type") == "stt_usage"
            )
        elif isinstance(event, IdentityKnown):
            feed.identity = event.identity
        elif isinstance(event, MessageE2e):
            feed.message_e2e[event.turn_span_id] = event.e2e_latency
        elif isinstance(event, EouReported):
            if event.timing.speech_id:
                feed.eou[event.timing.speech_id] = event.timing
            if self._hold_user_turns:
                session = next(
                    (k for k, s in self._sessions.items() if s.feed_key == event.feed_key), None
                )
                return self._held.late_eou(session, event.timing)
        return realtime_out

    def expire(self, now: float) -> list[Output]:
        """User turns whose wait for late EOU metrics is over."""
        return self._held.expire(now)

    def release_all(self) -> list[Output]:
        """Everything held (a flush): user turns still waiting for EOU metrics."""
        return self._held.release_all()

    # --- helpers ----------------------------------------------------------------------
    def _release(
        self,
        span_id: int,
        node: Node,
        state: SessionState | None,
        added: dict[str, Any],
        **extra: Any,
    ) -> Release:
        if state is not None:
            return Release(span_id, added, state.route, node.is_root, state.session_id, **extra)
        return Release(span_id, added, self._route, node.is_root, node.job_session_id, **extra)
